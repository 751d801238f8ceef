/**
 * Controls on a subscription never processed and with no slot of its own yet (enrolled without a
 * time of day, anchor or start: it is due at the next sweep). Its phase comes from what the
 * control gives: the skipped sweep's local day is spent, and a pause's end is read in its zone.
 * The sweeps fire at 03:00 and the subscriptions run at 09:00, in Europe/Berlin.
 */
import { describe, expect, test } from 'vitest'
import { createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { useStartedScheduler } from './support/schedulers.js'

const clock = createManualClock('2026-12-03T12:00:00.000Z') // a Thursday, 13:00 in Berlin

const shared = useStartedScheduler({ workerClient: createFakeWorkerClient(), clock, cron: '0 3 * * *', timezone: 'Europe/Berlin' })

async function neverRun(frequency: string, timezone?: string): Promise<string> {
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`, [frequency])
  const id = rows[0]!.id
  await shared.scheduler.enroll(id, timezone ? { timezone } : undefined)
  expect((await shared.scheduler.getSubscription(id)).nextRunAt).toBeNull()
  return id
}

describe('a subscription never processed', () => {
  test("skipNext() skips the next sweep's run and spends its local day: a weekly one runs a week later, not that day at 09:00", async () => {
    const id = await neverRun('weekly')
    const skipped = await shared.scheduler.skipNext(id)
    // The next sweep: Friday 03:00 in Berlin.
    expect(skipped).toEqual({ skipped: new Date('2026-12-04T02:00:00.000Z'), nextRunAt: new Date('2026-12-11T08:00:00.000Z') })
    expect(await shared.scheduler.upcoming(id, { count: 1 })).toEqual([new Date('2026-12-11T08:00:00.000Z')])
  })

  test('a daily one skipped runs the next day, not later the same day', async () => {
    const id = await neverRun('daily')
    expect(await shared.scheduler.skipNext(id)).toEqual({ skipped: new Date('2026-12-04T02:00:00.000Z'), nextRunAt: new Date('2026-12-05T08:00:00.000Z') })
  })

  test("pause({ until }) reads the end's local day in the subscription's zone: a monthly one paused until midnight runs that day", async () => {
    const berlin = await neverRun('monthly')
    await shared.scheduler.pause(berlin, { until: new Date('2027-01-10T00:00:00+01:00') })
    expect((await shared.scheduler.getSubscription(berlin)).nextRunAt).toEqual(new Date('2027-01-10T08:00:00.000Z'))
    const tokyo = await neverRun('monthly', 'Asia/Tokyo')
    await shared.scheduler.pause(tokyo, { until: new Date('2027-01-10T00:00:00+09:00') })
    expect((await shared.scheduler.getSubscription(tokyo)).nextRunAt).toEqual(new Date('2027-01-10T00:00:00.000Z')) // 09:00 in Tokyo
    // A weekly one runs on the end's weekday, the first 09:00 after it.
    const weekly = await neverRun('weekly')
    await shared.scheduler.pause(weekly, { until: new Date('2027-01-10T00:00:00+01:00') })
    expect(await shared.scheduler.upcoming(weekly, { count: 2 })).toEqual([new Date('2027-01-10T08:00:00.000Z'), new Date('2027-01-17T08:00:00.000Z')])
  })
})
