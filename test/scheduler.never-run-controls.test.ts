/**
 * Controls on a subscription never processed and with no slot of its own yet (enrolled without a
 * time of day, anchor or start: it is due at the next sweep). Its phase comes from what the
 * control gives: the skipped sweep's local day is spent, and a pause's end is read in its zone.
 * The sweeps fire at 03:00 and the subscriptions run at 09:00, in Europe/Berlin.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'

let db: TestDatabase
let scheduler: SubscriptionScheduler
const clock = createManualClock('2026-12-03T12:00:00.000Z') // a Thursday, 13:00 in Berlin

beforeAll(async () => {
  db = await createTestDatabase()
  const options = { workerClient: createFakeWorkerClient(), clock, logger: captureLogger(), migrate: false, cron: '0 3 * * *', timezone: 'Europe/Berlin' }
  scheduler = createSubscriptionScheduler(db.pool, options)
  await scheduler.start()
})

afterAll(async () => {
  await scheduler?.stop({ timeoutMs: 2000 })
})

async function neverRun(frequency: string, timezone?: string): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`, [frequency])
  const id = rows[0]!.id
  await scheduler.enroll(id, timezone ? { timezone } : undefined)
  expect((await scheduler.getSubscription(id)).nextRunAt).toBeNull()
  return id
}

describe('a subscription never processed', () => {
  test("skipNext() skips the next sweep's run and spends its local day: a weekly one runs a week later, not that day at 09:00", async () => {
    const id = await neverRun('weekly')
    const skipped = await scheduler.skipNext(id)
    // The next sweep: Friday 03:00 in Berlin.
    expect(skipped).toEqual({ skipped: new Date('2026-12-04T02:00:00.000Z'), nextRunAt: new Date('2026-12-11T08:00:00.000Z') })
    expect(await scheduler.upcoming(id, { count: 1 })).toEqual([new Date('2026-12-11T08:00:00.000Z')])
  })

  test('a daily one skipped runs the next day, not later the same day', async () => {
    const id = await neverRun('daily')
    expect(await scheduler.skipNext(id)).toEqual({ skipped: new Date('2026-12-04T02:00:00.000Z'), nextRunAt: new Date('2026-12-05T08:00:00.000Z') })
  })

  test("pause({ until }) reads the end's local day in the subscription's zone: a monthly one paused until midnight runs that day", async () => {
    const berlin = await neverRun('monthly')
    await scheduler.pause(berlin, { until: new Date('2027-01-10T00:00:00+01:00') })
    expect((await scheduler.getSubscription(berlin)).nextRunAt).toEqual(new Date('2027-01-10T08:00:00.000Z'))
    const tokyo = await neverRun('monthly', 'Asia/Tokyo')
    await scheduler.pause(tokyo, { until: new Date('2027-01-10T00:00:00+09:00') })
    expect((await scheduler.getSubscription(tokyo)).nextRunAt).toEqual(new Date('2027-01-10T00:00:00.000Z')) // 09:00 in Tokyo
    // A weekly one runs on the end's weekday, the first 09:00 after it.
    const weekly = await neverRun('weekly')
    await scheduler.pause(weekly, { until: new Date('2027-01-10T00:00:00+01:00') })
    expect(await scheduler.upcoming(weekly, { count: 2 })).toEqual([new Date('2027-01-10T08:00:00.000Z'), new Date('2027-01-17T08:00:00.000Z')])
  })
})
