/**
 * Diagnosis: what enrolling a subscription with its own zone and time of day costs, one at a
 * time with `enroll()` against many at once with `enrollMany()`, side by side on one server.
 *
 *   npx tsx bench/diagnose/enroll-many.ts [--single 2000] [--many 20000] [--repeats 3]
 *
 * Each side enrols fresh host subscriptions (no row yet) with settings that compute a slot at
 * once (a zone of 24 and a time of day), the case of a team moving its users to their own
 * zones. Prints the cost per subscription of each, and their ratio, per repeat and as medians.
 */
import pg from 'pg'
import { createSubscriptionScheduler } from '../../src/index.js'
import type { EnrollEntry } from '../../src/index.js'
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

async function main(): Promise<void> {
  const single = flag('--single', 2000)
  const many = flag('--many', 20_000)
  const repeats = flag('--repeats', 3)
  await withScratchDatabase(async (db) => {
    const pool = new pg.Pool({ connectionString: db.url, max: 4 })
    const scheduler = createSubscriptionScheduler(pool, { migrate: false, logger: silent, workerUrl: 'http://127.0.0.1:9' })
    const rows: string[] = []
    const ratios: number[] = []
    try {
      for (let r = 1; r <= repeats; r++) {
        const oneIds = await hostSubscriptions(pool, single)
        let started = performance.now()
        for (const [i, id] of oneIds.entries()) {
          const { subscriptionId, ...settings } = entryOf(id, i)
          await scheduler.enroll(subscriptionId, settings)
        }
        const oneUs = ((performance.now() - started) * 1000) / single
        const manyIds = await hostSubscriptions(pool, many)
        started = performance.now()
        const result = await scheduler.enrollMany(manyIds.map(entryOf))
        const manyUs = ((performance.now() - started) * 1000) / many
        if (result.created !== many) throw new Error(`enrollMany() created ${result.created} of ${many}`)
        ratios.push(oneUs / manyUs)
        rows.push(`| ${r} | ${oneUs.toFixed(0)} µs (${single}) | ${manyUs.toFixed(1)} µs (${many}) | ${(oneUs / manyUs).toFixed(1)}x |`)
        await pool.query(`DELETE FROM subscriptions`)
      }
    } finally {
      await pool.end()
    }
    console.log('| Repeat | enroll() each | enrollMany() | Ratio |\n|---|---|---|---|')
    for (const row of rows) console.log(row)
    console.log(`\nenrollMany() is ${median(ratios).toFixed(1)}x faster per subscription than enroll() one at a time (median of ${repeats}).`)
  })
}

await main()
