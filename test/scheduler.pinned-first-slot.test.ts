/**
 * A new subscription's first run under a cadence that names its days (`weekdays`, `monthDay`, the
 * nth weekday): on one of those days, never off them. A plain cadence (daily, weekly, monthly)
 * takes its phase from its first run, made at the first sweep; a rule that names its days has its
 * phase already, and a first call on a Saturday for a Monday-to-Friday rule, or on the 15th for a
 * rule of the 1st, is a call the host's rule forbids (a trial's workdays billing ran on a weekend).
 */
import { expect, test } from 'vitest'
import type { FrequencyRule } from '../src/index.js'
import { createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { useStartedScheduler } from './support/schedulers.js'

// Saturday 2026-03-07, 10:00 UTC.
const clock = createManualClock('2026-03-07T10:00:00.000Z')
const worker = createFakeWorkerClient()
const frequencies: Record<string, FrequencyRule> = {
  workdays: { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] },
  'first-of-month': { every: 1, unit: 'month', monthDay: 1 },
  'first-monday': { every: 1, unit: 'month', weekday: 'mon', nth: 1 },
}
const shared = useStartedScheduler({ workerClient: worker, clock, frequencies })

const at = (iso: string) => new Date(iso)

async function insert(frequency: string): Promise<string> {
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`, [frequency])
  return rows[0]!.id
}

test('a new subscription whose cadence names its days is first called on one of them, at its time of day; a plain cadence still runs at once', async () => {
  clock.set('2026-03-07T10:00:00.000Z') // a Saturday
  const ids = { workdays: await insert('workdays'), first: await insert('first-of-month'), monday: await insert('first-monday'), daily: await insert('daily') }
  // Its preview says so before any sweep (enrolled, as the sweep would).
  await shared.scheduler.enroll(ids.workdays)
  expect((await shared.scheduler.upcoming(ids.workdays, { count: 2 }))).toEqual([at('2026-03-09T09:00:00.000Z'), at('2026-03-10T09:00:00.000Z')])

  const saturday = await shared.scheduler.runNow()

  expect(worker.callsFor(ids.workdays)).toEqual([])
  expect(worker.callsFor(ids.first)).toEqual([])
  expect(worker.callsFor(ids.monday)).toEqual([])
  expect(worker.callsFor(ids.daily)).toHaveLength(1)
  expect(saturday).toMatchObject({ processed: 1, successful: 1 })
  const next = async (id: string) => (await shared.scheduler.getSubscription(id)).nextRunAt
  expect(await next(ids.workdays)).toEqual(at('2026-03-09T09:00:00.000Z')) // Monday
  expect(await next(ids.first)).toEqual(at('2026-04-01T09:00:00.000Z'))
  expect(await next(ids.monday)).toEqual(at('2026-04-06T09:00:00.000Z'))
  // Another sweep that day changes nothing.
  await shared.scheduler.runNow()
  expect(worker.callsFor(ids.workdays)).toEqual([])
  expect(await next(ids.workdays)).toEqual(at('2026-03-09T09:00:00.000Z'))

  clock.set('2026-03-09T09:00:05.000Z')
  await shared.scheduler.runNow()
  expect(worker.callsFor(ids.workdays).map((c) => c.scheduledFor)).toEqual(['2026-03-09T09:00:00.000Z'])
  expect(await next(ids.workdays)).toEqual(at('2026-03-10T09:00:00.000Z'))
})

test('on one of its days, a new subscription is called at the first sweep, as any new one', async () => {
  clock.set('2026-03-10T07:00:00.000Z') // a Tuesday, before its time of day
  const id = await insert('workdays')

  await shared.scheduler.runNow()

  expect(worker.callsFor(id)).toHaveLength(1)
  expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(at('2026-03-11T09:00:00.000Z'))
})

test("the day is the subscription's own, in its zone; one whose end comes before its first named day ends, never called", async () => {
  clock.set('2026-03-06T12:00:00.000Z') // Friday in UTC, already Saturday 01:00 in Auckland
  const auckland = await insert('workdays')
  await shared.scheduler.enroll(auckland, { timezone: 'Pacific/Auckland' })
  const ending = await insert('first-of-month')
  await shared.scheduler.enroll(ending, { endsAt: at('2026-03-20T00:00:00.000Z') })

  await shared.scheduler.runNow()

  expect(worker.callsFor(auckland)).toEqual([])
  expect((await shared.scheduler.getSubscription(auckland)).nextRunAt).toEqual(at('2026-03-08T20:00:00.000Z')) // Monday 09:00 in Auckland
  expect(worker.callsFor(ending)).toEqual([])
  expect(await shared.scheduler.getSubscription(ending)).toMatchObject({ status: 'ended', nextRunAt: null })
})
