/**
 * A row edited by hand whose stored zone is no IANA name ('Europe/Berln'): the controls name the
 * zone, and a reschedule to a valid zone repairs the row, its phase kept as the instants it holds.
 * Real Postgres; the clock is manual; the controls need no started scheduler.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler, SubscriptionDataError } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'

let db: TestDatabase
let scheduler: SubscriptionScheduler
const clock = createManualClock('2026-03-02T08:00:00.000Z')

beforeAll(async () => {
  db = await createTestDatabase()
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), clock, logger: captureLogger(), migrate: false })
})

async function daily(): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
  await scheduler.enroll(rows[0]!.id, { runAt: '09:00' })
  return rows[0]!.id
}

describe('a row whose stored zone is no IANA name (set by hand)', () => {
  test('reschedule({ timezone }) repairs it, keeping its phase as instants; another control names the zone, not the anchor', async () => {
    const id = await daily()
    await scheduler.reschedule(id, { timezone: 'Europe/Berlin' }) // the row gets its anchor
    const before = await scheduler.getSubscription(id)
    await db.pool.query(`UPDATE subscription_processing SET timezone = 'Europe/Berln' WHERE subscription_id = $1`, [id])
    // The row's error, not the caller's: a trial's upcoming() said only "Unknown time zone", as if
    // the caller had passed it, and named neither the subscription nor the column.
    // (backfill(), which needs a started scheduler: reliability.bad-rows.)
    for (const control of [() => scheduler.reschedule(id, { runAt: '07:00' }), () => scheduler.upcoming(id, { count: 3 }), () => scheduler.skipNext(id)]) {
      const refused = await control().catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(SubscriptionDataError)
      expect(refused).toMatchObject({ subscriptionId: id, column: 'subscription_processing.timezone' })
      expect((refused as Error).message).toMatch(/^Subscription \S+ has time zone "Europe\/Berln", which is not an IANA zone; set it with reschedule\(id, \{ timezone: 'Europe\/Berlin' \}\)/)
      expect((refused as Error).message).not.toMatch(/anchor/)
    }
    const { nextRunAt } = await scheduler.reschedule(id, { timezone: 'Europe/Berlin' }, { note: 'zone typo fixed' })
    const after = await scheduler.getSubscription(id)
    expect({ timezone: after.timezone, anchorAt: after.anchorAt, nextRunAt }).toEqual({ timezone: 'Europe/Berlin', anchorAt: before.anchorAt, nextRunAt: before.nextRunAt })
    expect(after.history[0]).toMatchObject({ kind: 'rescheduled', note: 'zone typo fixed' })
  })
})
