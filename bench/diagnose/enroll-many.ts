/**
 * Diagnosis: what enrolling a subscription with its own zone and time of day costs, one at a
 * time with `enroll()` against many at once with `enrollMany()`, side by side on one server.
 *
 *   npx tsx bench/diagnose/enroll-many.ts [--single 2000] [--many 20000] [--repeats 3]
 *
 * Each side enrols host subscriptions with settings that compute a slot at once (a zone of 24
 * and a time of day), the case of a team moving its users to their own zones: new ones (no row
 * yet), then the same ones again with another time of day (rows already there, as a running
 * deployment's are). Prints the cost per subscription of each, and their ratio, per repeat.
 */
import pg from 'pg'
import { createSubscriptionScheduler } from '../../src/index.js'
import type { EnrollEntry, SubscriptionScheduler } from '../../src/index.js'
import { median } from '../lib/report.js'
import { flag, withScratchDatabase } from './support.js'

const ZONES = Intl.supportedValuesOf('timeZone').filter((zone) => zone.includes('/')).slice(0, 24)
const silent = { debug() {}, info() {}, warn() {}, error() {} }

async function hostSubscriptions(pool: pg.Pool, count: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), 'daily' FROM generate_series(1, $1) RETURNING id::text`,
    [count],
  )
  return rows.map((row) => row.id)
}

const entryOf = (subscriptionId: string, i: number): EnrollEntry => ({ subscriptionId, timezone: ZONES[i % ZONES.length]!, runAt: `0${i % 10}:30` })
const movedOf = (subscriptionId: string, i: number): EnrollEntry => ({ ...entryOf(subscriptionId, i), runAt: `1${i % 10}:45` })

/** µs per subscription of `enroll()` one at a time, and of one `enrollMany()`, over `entries`. */
async function timed(scheduler: SubscriptionScheduler, one: EnrollEntry[], many: EnrollEntry[]): Promise<[number, number]> {
  let started = performance.now()
  for (const { subscriptionId, ...settings } of one) await scheduler.enroll(subscriptionId, settings)
  const oneUs = ((performance.now() - started) * 1000) / one.length
  started = performance.now()
  const result = await scheduler.enrollMany(many)
  const manyUs = ((performance.now() - started) * 1000) / many.length
  if (result.refused.length > 0 || result.unchanged > 0) throw new Error(`enrollMany() refused ${result.refused.length} and left ${result.unchanged} unchanged`)
  return [oneUs, manyUs]
}

async function main(): Promise<void> {
  const single = flag('--single', 2000)
  const many = flag('--many', 20_000)
  const repeats = flag('--repeats', 3)
  await withScratchDatabase(async (db) => {
    const pool = new pg.Pool({ connectionString: db.url, max: 4 })
    const scheduler = createSubscriptionScheduler(pool, { migrate: false, logger: silent, workerUrl: 'http://127.0.0.1:9' })
    const rows: string[] = []
    const ratios: number[] = []
    const updateRatios: number[] = []
    try {
      for (let r = 1; r <= repeats; r++) {
        const oneIds = await hostSubscriptions(pool, single)
        const manyIds = await hostSubscriptions(pool, many)
        const [newOne, newMany] = await timed(scheduler, oneIds.map(entryOf), manyIds.map(entryOf))
        const [movedOne, movedMany] = await timed(scheduler, oneIds.map(movedOf), manyIds.map(movedOf))
        ratios.push(newOne / newMany)
        updateRatios.push(movedOne / movedMany)
        rows.push(`| ${r} | new rows | ${newOne.toFixed(0)} µs (${single}) | ${newMany.toFixed(1)} µs (${many}) | ${(newOne / newMany).toFixed(1)}x |`)
        rows.push(`| ${r} | rows there, new runAt | ${movedOne.toFixed(0)} µs (${single}) | ${movedMany.toFixed(1)} µs (${many}) | ${(movedOne / movedMany).toFixed(1)}x |`)
        await pool.query(`DELETE FROM subscriptions`)
      }
    } finally {
      await pool.end()
    }
    console.log('| Repeat | Case | enroll() each | enrollMany() | Ratio |\n|---|---|---|---|---|')
    for (const row of rows) console.log(row)
    console.log(`\nenrollMany() is ${median(ratios).toFixed(1)}x faster per subscription than enroll() one at a time for new rows, ${median(updateRatios).toFixed(1)}x for rows there (medians of ${repeats}).`)
  })
}

await main()
