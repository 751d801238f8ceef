/**
 * Granular control of one subscription, on real Postgres and pg-boss: start and end dates,
 * reschedule, pause until, skip, the preview of upcoming slots, backfill, and `catchUp: 'all'`.
 * The clock is manual (a retry still waits its real backoff, kept short by `retry.delaySeconds`);
 * assertions read the calls of each test's own subscriptions.
 */
import { PgBoss } from 'pg-boss'
import { describe, expect, test } from 'vitest'
import { ConfigurationError, createSubscriptionScheduler, NotFoundError, PermanentError, RetryableError, SubscriptionBusyError, SubscriptionDataError, SubscriptionStateError } from '../src/index.js'
import type { FinishedRunSummary, FrequencyRule, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { createTestDatabase } from './support/database.js'
import { useStartedScheduler } from './support/schedulers.js'

const clock = createManualClock('2026-03-02T08:00:00.000Z') // Monday, 08:00 UTC
const worker = createFakeWorkerClient()
// The clock moves across a year here; the rescue tick's pruning, on that clock, would delete the
// runs and history other tests count (a tick lands at random in the file's minute or two).
const logger = captureLogger()
const options = { workerClient: worker, clock, logger, migrate: false, pollingIntervalSeconds: 0.5, retry: { limit: 2, delaySeconds: 1 }, historyRetentionDays: 3650 }

const shared = useStartedScheduler(options)

async function subscription(frequency = 'daily'): Promise<string> {
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`, [frequency])
  return rows[0]!.id
}

const slots = (id: string) => worker.callsFor(id).map((call) => call.scheduledFor)
const at = (iso: string) => new Date(iso)

describe('enroll with startsAt and endsAt', () => {
  test('no call before the start or after the end; ended after the last slot', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    const enrolled = await shared.scheduler.enroll(id, { startsAt: at('2026-03-04T00:00:00.000Z'), endsAt: at('2026-03-05T12:00:00.000Z') })
    expect(enrolled).toMatchObject({ created: true, status: 'pending', nextRunAt: at('2026-03-04T09:00:00.000Z') })

    clock.set('2026-03-03T09:30:00.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual([])

    clock.set('2026-03-04T09:00:05.000Z')
    await shared.scheduler.runNow()
    clock.set('2026-03-05T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2026-03-04T09:00:00.000Z', '2026-03-05T09:00:00.000Z'])
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'ended', nextRunAt: null })
    expect((await shared.scheduler.getStatus()).counts.ended).toBeGreaterThanOrEqual(1)

    clock.set('2026-03-07T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toHaveLength(2)
    expect(await shared.scheduler.upcoming(id)).toEqual([])
  })

  test('a new startsAt before the first run moves the phase it gave: moved to a Wednesday, a weekly one runs on Wednesdays, as if enrolled so', async () => {
    clock.set('2026-03-02T08:00:00.000Z') // a Monday
    const id = await subscription('weekly')
    const given = await subscription('weekly')
    await shared.scheduler.enroll(id, { runAt: '09:00', startsAt: at('2026-03-16T00:00:00.000Z') })
    await shared.scheduler.enroll(given, { runAt: '09:00', startsAt: at('2026-03-16T00:00:00.000Z'), anchor: at('2026-03-17T09:00:00.000Z') })
    await expect(shared.scheduler.reschedule(id, { startsAt: at('2026-03-18T00:00:00.000Z') })).resolves.toEqual({ nextRunAt: at('2026-03-18T09:00:00.000Z') })
    expect(await shared.scheduler.upcoming(id, { count: 2 })).toEqual([at('2026-03-18T09:00:00.000Z'), at('2026-03-25T09:00:00.000Z')])
    // An anchor given by the host stays: it, not the start, sets the weekday.
    await expect(shared.scheduler.reschedule(given, { startsAt: at('2026-03-18T00:00:00.000Z') })).resolves.toEqual({ nextRunAt: at('2026-03-24T09:00:00.000Z') })
    // Once it has run, its runs set the phase, whatever the start says.
    clock.set('2026-03-18T09:00:05.000Z')
    await shared.scheduler.runNow()
    await expect(shared.scheduler.reschedule(id, { startsAt: at('2026-03-19T00:00:00.000Z') })).resolves.toEqual({ nextRunAt: at('2026-03-25T09:00:00.000Z') })
  })

  test('enrolled with a time of day, then given a start: the start sets the phase, as if both were given at once (not the day it was enrolled)', async () => {
    clock.set('2027-01-10T12:00:00.000Z') // a Sunday
    const startsAt = at('2027-03-03T06:00:00.000Z') // a Wednesday
    const expected = { weekly: ['2027-03-03', '2027-03-10', '2027-03-17'], monthly: ['2027-03-03', '2027-04-03', '2027-05-03'] }
    for (const [frequency, days] of Object.entries(expected)) {
      const atOnce = await subscription(frequency)
      const later = await subscription(frequency)
      await shared.scheduler.enroll(atOnce, { runAt: '09:00', startsAt })
      await shared.scheduler.enroll(later, { runAt: '09:00' })
      await shared.scheduler.reschedule(later, { startsAt })
      const slots = days.map((day) => at(`${day}T09:00:00.000Z`))
      expect(await shared.scheduler.upcoming(atOnce, { count: 3 }), frequency).toEqual(slots)
      expect(await shared.scheduler.upcoming(later, { count: 3 }), frequency).toEqual(slots)
    }
  })

  test('a start and an end with no slot between them: ended at once, and said (a yearly start later in its day than its runAt)', async () => {
    clock.set('2027-01-10T12:00:00.000Z')
    const enrolled = await subscription('yearly')
    const rescheduled = await subscription('yearly')
    const window = { startsAt: at('2027-03-31T10:00:00.000Z'), endsAt: at('2028-03-01T00:00:00.000Z') }
    await expect(shared.scheduler.enroll(enrolled, { runAt: '09:00', ...window })).resolves.toMatchObject({ status: 'ended', nextRunAt: null })
    await shared.scheduler.enroll(rescheduled, { runAt: '09:00' })
    await expect(shared.scheduler.reschedule(rescheduled, window)).resolves.toEqual({ nextRunAt: null })
    for (const id of [enrolled, rescheduled]) {
      expect(logger.messages('warn')).toContainEqual(
        `Subscription ${id} has no slot between 2027-03-31T10:00:00.000Z and its endsAt, 2028-03-01T00:00:00.000Z: its first slot would be 2028-03-31T09:00:00.000Z, after its end, so it is ended at once and never called. ` +
          'A slot falls at its time of day on the days its cadence and anchor give, and a startsAt later in its day than that waits for the next such day: give it an earlier startsAt or runAt, or a later endsAt (reschedule()).',
      )
    }
  })

  test('a subscription that starts on a later day takes its weekday and day of month from its start, not from the day it was enrolled', async () => {
    clock.set('2026-03-02T08:00:00.000Z') // a Monday
    const weekly = await subscription('weekly')
    const monthly = await subscription('monthly')
    await expect(shared.scheduler.enroll(weekly, { runAt: '09:00', startsAt: at('2026-03-05T00:00:00.000Z') })).resolves.toMatchObject({ nextRunAt: at('2026-03-05T09:00:00.000Z') })
    await shared.scheduler.enroll(monthly, { runAt: '09:00', startsAt: at('2026-03-20T00:00:00.000Z') })
    expect(await shared.scheduler.upcoming(weekly, { count: 3 })).toEqual(['2026-03-05', '2026-03-12', '2026-03-19'].map((d) => at(`${d}T09:00:00.000Z`)))
    expect(await shared.scheduler.upcoming(monthly, { count: 2 })).toEqual(['2026-03-20', '2026-04-20'].map((d) => at(`${d}T09:00:00.000Z`)))

    clock.set('2026-03-05T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(slots(weekly)).toEqual(['2026-03-05T09:00:00.000Z'])
    expect((await shared.scheduler.getSubscription(weekly)).nextRunAt).toEqual(at('2026-03-12T09:00:00.000Z'))
  })

  test('a monthly subscription enrolled on the 31st, after its time of day, keeps the 31st: Feb 28, then Mar 31, not the 28th from then on', async () => {
    clock.set('2027-01-31T10:00:00.000Z') // 09:00 has passed
    const id = await subscription('monthly')
    const enrolled = await shared.scheduler.enroll(id, { runAt: '09:00' })
    expect(enrolled).toMatchObject({ nextRunAt: at('2027-02-28T09:00:00.000Z'), anchorAt: at('2027-01-31T10:00:00.000Z') })
    expect(await shared.scheduler.upcoming(id, { count: 3 })).toEqual(['2027-02-28', '2027-03-31', '2027-04-30'].map((d) => at(`${d}T09:00:00.000Z`)))
    clock.set('2027-02-28T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2027-02-28T09:00:00.000Z'])
    expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(at('2027-03-31T09:00:00.000Z'))
  })

  test('a weekly subscription whose start has passed takes its weekday from the start, not from the day it was enrolled', async () => {
    clock.set('2027-01-31T10:00:00.000Z') // a Sunday
    const id = await subscription('weekly')
    // Thursday 21 January.
    await expect(shared.scheduler.enroll(id, { startsAt: at('2027-01-21T09:00:00.000Z') })).resolves.toMatchObject({ nextRunAt: at('2027-02-04T09:00:00.000Z') })
    expect(await shared.scheduler.upcoming(id, { count: 2 })).toEqual(['2027-02-04', '2027-02-11'].map((d) => at(`${d}T09:00:00.000Z`)))
  })

  test('an end before the start, an unknown setting and a bad time of day are refused', async () => {
    const id = await subscription()
    await expect(shared.scheduler.enroll(id, { startsAt: at('2026-04-02T00:00:00Z'), endsAt: at('2026-04-01T00:00:00Z') })).rejects.toThrow(/endsAt.*before startsAt/)
    await expect(shared.scheduler.enroll(id, { runAt: '7am' })).rejects.toThrow(ConfigurationError)
    await expect(shared.scheduler.enroll(id, { startAt: new Date() } as never)).rejects.toThrow(/unknown setting; did you mean `startsAt`\? Known settings:/)
    await expect(shared.scheduler.reschedule(id, { runat: '10:00' } as never)).rejects.toThrow(/unknown setting; did you mean `runAt`\? Known settings:/)
    await expect(shared.scheduler.enroll(id, { anchor: new Date('nope') })).rejects.toThrow(/anchor.*valid Date/)
  })

  test('an instant outside the years 1 to 9999 is a ConfigurationError naming its option, not a Postgres error, and changes nothing', async () => {
    // A trial got Postgres's "time zone displacement out of range" (22009) and, for pause, an
    // "invalid input syntax" of NaNs (22007): toISOString() writes such years as +010000-….
    const id = await subscription()
    await shared.scheduler.enroll(id)
    const before = await shared.scheduler.getSubscription(id)
    const farAhead = new Date('+010000-01-01T09:00:00Z')
    const lastDate = new Date(8.64e15)
    const longAgo = new Date('-000100-01-01T00:00:00Z')
    const controls: [string, () => Promise<unknown>][] = [
      ['anchor', () => shared.scheduler.enroll(id, { anchor: farAhead })],
      ['endsAt', () => shared.scheduler.enroll(id, { endsAt: longAgo })],
      ['startsAt', () => shared.scheduler.reschedule(id, { startsAt: lastDate })],
      ['until', () => shared.scheduler.pause(id, { until: lastDate })],
      ['to', () => shared.scheduler.backfill(id, { from: at('2026-01-01T00:00:00Z'), to: farAhead })],
    ]
    for (const [option, control] of controls) {
      const error = await control().catch((e: unknown) => e)
      expect(error, option).toBeInstanceOf(ConfigurationError)
      expect(error, option).toMatchObject({ option, message: expect.stringMatching(/expected a Date in the years 1 to 9999/) })
    }
    expect(await shared.scheduler.getSubscription(id)).toEqual(before)
    // The last instant of 9999 is one.
    await expect(shared.scheduler.reschedule(id, { endsAt: at('9999-12-31T23:59:59.999Z') })).resolves.toMatchObject({ nextRunAt: expect.any(Date) })
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ endsAt: at('9999-12-31T23:59:59.999Z') })
  })
})

describe('reschedule', () => {
  test('changes the time of day and zone, recomputes the next slot at once, and keeps a history line', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('weekly')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    const { nextRunAt } = await shared.scheduler.reschedule(id, { runAt: '07:30', timezone: 'Europe/Berlin', anchor: at('2026-03-04T12:00:00.000Z') })
    // Wednesdays at 07:30 in Berlin (CET, UTC+1).
    expect(nextRunAt).toEqual(at('2026-03-04T06:30:00.000Z'))
    const details = await shared.scheduler.getSubscription(id)
    expect(details).toMatchObject({ runAt: '07:30', timezone: 'Europe/Berlin', nextRunAt, anchorAt: at('2026-03-04T12:00:00.000Z') })
    expect(details.history[0]).toMatchObject({ kind: 'rescheduled', slot: nextRunAt, detail: expect.stringContaining('runAt 07:30') })

    clock.set('2026-03-04T06:31:00.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2026-03-04T06:30:00.000Z'])
    expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(at('2026-03-11T06:30:00.000Z'))
  })

  test('a failed slot its new schedule moves past is said left behind, not called, in the history and the log; one still ahead is not', async () => {
    clock.set('2026-05-04T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    worker.on(id, { fail: new PermanentError('card expired') })
    clock.set('2026-05-04T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed', nextRunAt: at('2026-05-04T09:00:00.000Z') })
    const { nextRunAt } = await shared.scheduler.reschedule(id, { timezone: 'Europe/London' })
    expect(nextRunAt).toEqual(at('2026-05-05T08:00:00.000Z'))
    expect((await shared.scheduler.getSubscription(id)).history[0]).toMatchObject({
      kind: 'rescheduled',
      detail: 'timezone Europe/London; its failed slot of 2026-05-04T09:00:00.000Z left behind, not called',
    })
    expect(logger.messages('warn')).toContainEqual(
      `reschedule() of ${id}: its failed slot of 2026-05-04T09:00:00.000Z left behind, not called (a reschedule goes on from now). retryFailed() calls a failed slot before a reschedule; backfill() calls past slots after one.`,
    )
    // Its next slot ahead, moved: nothing is left behind.
    await shared.scheduler.reschedule(id, { runAt: '10:00' })
    expect((await shared.scheduler.getSubscription(id)).history[0]).toMatchObject({ kind: 'rescheduled', detail: 'runAt 10:00' })
  })

  test('enroll() and enrollMany() with new settings say a failed slot they go on past, as reschedule() does', async () => {
    clock.set('2026-05-11T08:00:00.000Z')
    const [one, many] = [await subscription('daily'), await subscription('daily')]
    await shared.scheduler.enrollMany([{ subscriptionId: one, runAt: '09:00' }, { subscriptionId: many, runAt: '09:00' }])
    for (const id of [one, many]) worker.on(id, { fail: new PermanentError('card expired') })
    clock.set('2026-05-11T09:00:05.000Z')
    await shared.scheduler.runNow()
    // The quick start's enroll(id, { timezone }) on a row whose first charge had failed: a trial's was dropped unsaid.
    await shared.scheduler.enroll(one, { timezone: 'Europe/London' })
    await shared.scheduler.enrollMany([{ subscriptionId: many, timezone: 'Europe/London' }])
    for (const id of [one, many]) {
      expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'pending', nextRunAt: at('2026-05-12T08:00:00.000Z') })
      expect((await shared.scheduler.getSubscription(id)).history[0]).toMatchObject({
        kind: 'rescheduled',
        detail: 'timezone Europe/London; its failed slot of 2026-05-11T09:00:00.000Z left behind, not called',
      })
    }
    expect(logger.messages('warn')).toContainEqual(expect.stringMatching(new RegExp(`^enroll\\(\\) of ${one}: its failed slot of 2026-05-11T09:00:00\\.000Z left behind, not called \\(new settings go on from now`)))
    expect(logger.messages('warn')).toContainEqual(expect.stringMatching(new RegExp(`^enrollMany\\(\\): 1 subscription had a past slot left behind by the new settings, not called \\(each said in its history\\): ${many}: its failed slot`)))
  })

  test('the history line names only the settings a reschedule changed: no "startsAt cleared" for a row that had none', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('weekly')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    await shared.scheduler.reschedule(id, { runAt: '08:00', startsAt: null, timezone: null })
    expect((await shared.scheduler.getSubscription(id)).history[0]).toMatchObject({ kind: 'rescheduled', detail: 'runAt 08:00' })
    await shared.scheduler.reschedule(id, { runAt: '08:00', startsAt: null })
    expect((await shared.scheduler.getSubscription(id)).history[0]).toMatchObject({ kind: 'rescheduled', detail: 'next slot recomputed' })
  })

  test('a later time of day, set after the day\'s run, waits for the next day: one run per local day', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id)
    await shared.scheduler.runNow() // off-slot, at 08:00: it spends the day
    expect(slots(id)).toEqual(['2026-03-02T08:00:00.000Z'])
    clock.set('2026-03-02T08:30:00.000Z')
    await expect(shared.scheduler.reschedule(id, { runAt: '17:00' })).resolves.toEqual({ nextRunAt: at('2026-03-03T17:00:00.000Z') })
  })

  test.each([
    ['09:30: its 09:00 slot is due, and no sweep has taken it yet', '2026-03-02T09:30:00.000Z'],
    ['08:30: its 09:00 slot is later today, and today has had no run', '2026-03-02T08:30:00.000Z'],
  ])("today's run not made yet keeps its day: rescheduled to 08:00 at %s, it is due at once", async (_when, now) => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    clock.set(now)
    await expect(shared.scheduler.reschedule(id, { runAt: '08:00' })).resolves.toEqual({ nextRunAt: at('2026-03-02T08:00:00.000Z') })
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2026-03-02T08:00:00.000Z'])
    expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(at('2026-03-03T08:00:00.000Z'))
  })

  test('a failed slot is not moved onto its day at another time: its calls carried its key, and a reschedule goes on from now', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    worker.on(id, { fail: new PermanentError('Worker answered 402: card declined', { status: 402 }) })
    clock.set('2026-03-02T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed' })
    clock.set('2026-03-02T09:30:00.000Z')
    await expect(shared.scheduler.reschedule(id, { runAt: '08:00' })).resolves.toEqual({ nextRunAt: at('2026-03-03T08:00:00.000Z') })
    expect(slots(id)).toEqual(['2026-03-02T09:00:00.000Z'])
  })

  test('a late run spends the day of the slot it ran for, not the day it ran: a reschedule that changes nothing keeps the next slot', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    clock.set('2026-03-04T08:30:00.000Z') // the 2 March slot, run two days late, before the 4 March one
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2026-03-02T09:00:00.000Z'])
    const next = at('2026-03-04T09:00:00.000Z')
    expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(next)
    await expect(shared.scheduler.reschedule(id, { runAt: '09:00' })).resolves.toEqual({ nextRunAt: next })
    clock.set('2026-03-04T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-04T09:00:00.000Z'])
  })

  test('a new zone keeps the weekday and day of month the subscription had in its old zone', async () => {
    clock.set('2026-03-02T08:00:00.000Z') // Monday 09:00 in Berlin, 03:00 in New York
    const weekly = await subscription('weekly')
    const monthly = await subscription('monthly')
    const unprocessed = await subscription('weekly')
    // Mondays and the 1st at 00:30 in Berlin: 18:30 the evening before in New York.
    await shared.scheduler.enroll(weekly, { timezone: 'Europe/Berlin', runAt: '00:30', anchor: at('2026-03-01T23:30:00.000Z') })
    await shared.scheduler.enroll(monthly, { timezone: 'Europe/Berlin', runAt: '00:30', anchor: at('2026-02-28T23:30:00.000Z') })
    await shared.scheduler.enroll(unprocessed, { timezone: 'Europe/Berlin', runAt: '00:30', startsAt: at('2026-03-08T23:30:00.000Z') }) // no anchor: Monday 9 March
    const move = { timezone: 'America/New_York', runAt: '08:00' }
    await expect(shared.scheduler.reschedule(weekly, move)).resolves.toEqual({ nextRunAt: at('2026-03-02T13:00:00.000Z') }) // Monday 08:00 EST
    await expect(shared.scheduler.reschedule(monthly, move)).resolves.toEqual({ nextRunAt: at('2026-04-01T12:00:00.000Z') }) // 1 April 08:00 EDT
    await expect(shared.scheduler.reschedule(unprocessed, move)).resolves.toEqual({ nextRunAt: at('2026-03-09T12:00:00.000Z') }) // Monday 08:00 EDT
    expect(await shared.scheduler.upcoming(monthly, { count: 2 })).toEqual([at('2026-04-01T12:00:00.000Z'), at('2026-05-01T12:00:00.000Z')])
    // An anchor given with the new zone is taken as given.
    await expect(shared.scheduler.reschedule(weekly, { timezone: 'Europe/Berlin', anchor: at('2026-03-04T12:00:00.000Z') })).resolves.toEqual({ nextRunAt: at('2026-03-04T07:00:00.000Z') })
  })

  test('a new zone right after a run does not run the period again: the day just run stays spent in the new zone', async () => {
    clock.set('2027-03-31T22:00:00.000Z')
    const monthly = await subscription('monthly')
    const weekly = await subscription('weekly')
    // 08:00 on Thursday 1 April in Tokyo is still 31 March in Los Angeles.
    for (const id of [monthly, weekly]) await shared.scheduler.enroll(id, { timezone: 'Asia/Tokyo', runAt: '08:00', anchor: at('2027-03-31T23:00:00.000Z') })
    clock.set('2027-03-31T23:00:05.000Z')
    await shared.scheduler.runNow()
    expect([slots(monthly), slots(weekly)]).toEqual([['2027-03-31T23:00:00.000Z'], ['2027-03-31T23:00:00.000Z']])
    const move = { timezone: 'America/Los_Angeles' }
    await expect(shared.scheduler.reschedule(monthly, move)).resolves.toEqual({ nextRunAt: at('2027-05-01T15:00:00.000Z') }) // 1 May 08:00 PDT
    await expect(shared.scheduler.reschedule(weekly, move)).resolves.toEqual({ nextRunAt: at('2027-04-08T15:00:00.000Z') }) // Thursday 8 April
  })

  test('through two changes of zone between runs, the day run and the day skipped stay the local days they were', async () => {
    clock.set('2027-03-15T22:00:00.000Z')
    const ran = await subscription('daily')
    await shared.scheduler.enroll(ran, { runAt: '23:00' })
    clock.set('2027-03-15T23:00:05.000Z')
    await shared.scheduler.runNow()
    expect(slots(ran)).toEqual(['2027-03-15T23:00:00.000Z']) // Monday 15 March, in UTC
    // 23:00 UTC on the 15th is already the 16th in Tokyo; the day spent is still the 15th.
    await expect(shared.scheduler.reschedule(ran, { timezone: 'Asia/Tokyo' })).resolves.toEqual({ nextRunAt: at('2027-03-16T14:00:00.000Z') })
    await expect(shared.scheduler.reschedule(ran, { timezone: 'America/Los_Angeles' })).resolves.toEqual({ nextRunAt: at('2027-03-17T06:00:00.000Z') }) // 16 March, 23:00 PDT
    await shared.scheduler.reschedule(ran, { timezone: 'Asia/Tokyo' })
    await expect(shared.scheduler.reschedule(ran, { timezone: null })).resolves.toEqual({ nextRunAt: at('2027-03-16T23:00:00.000Z') }) // back in UTC: the 16th is not spent

    clock.set('2027-03-20T12:00:00.000Z')
    const skipped = await subscription('daily')
    await shared.scheduler.enroll(skipped, { runAt: '23:00' })
    await expect(shared.scheduler.skipNext(skipped)).resolves.toEqual({ skipped: at('2027-03-20T23:00:00.000Z'), nextRunAt: at('2027-03-21T23:00:00.000Z') })
    await expect(shared.scheduler.reschedule(skipped, { timezone: 'Asia/Tokyo' })).resolves.toEqual({ nextRunAt: at('2027-03-21T14:00:00.000Z') })
    await expect(shared.scheduler.reschedule(skipped, { timezone: null })).resolves.toEqual({ nextRunAt: at('2027-03-21T23:00:00.000Z') }) // the 20th stays skipped
  })

  test('is refused while a call for the subscription is in flight', async () => {
    const id = await subscription()
    await shared.scheduler.enroll(id)
    worker.on(id, { delayMs: 1500 })
    // Counted before the run starts: its call may be made before runSubscription() resolves.
    const before = worker.calls.length
    const run = await shared.scheduler.runSubscription(id, { wait: false })
    await worker.waitForCalls(before + 1)
    await expect(shared.scheduler.reschedule(id, { runAt: '10:00' })).rejects.toThrow(SubscriptionBusyError)
    await expect(shared.scheduler.skipNext(id)).rejects.toThrow(SubscriptionBusyError)
    // A second run on demand would call nothing: it is refused, and no empty run is recorded.
    const runs = (await shared.scheduler.listRuns({ limit: 1000 })).length
    await expect(shared.scheduler.runSubscription(id)).rejects.toThrow(/a call for it is queued or in flight \(status 'queued'\).*once its run has called it and recorded the outcome/)
    await expect(shared.scheduler.runSubscription(id)).rejects.toBeInstanceOf(SubscriptionBusyError)
    // Which subscription, as data: a host's wrapper answers 409 for it without parsing the message.
    await expect(shared.scheduler.skipNext(id)).rejects.toMatchObject({ code: 'SUBSCRIPTION_BUSY', subscriptionId: id })
    expect(await shared.scheduler.listRuns({ limit: 1000 })).toHaveLength(runs)
    const { finishedAt } = await waitForRun(run.runId)
    expect(finishedAt).not.toBeNull()
    await expect(shared.scheduler.reschedule(id, { runAt: '10:00' })).resolves.toHaveProperty('nextRunAt')
  })

  test('asked several times at once (a double click, two replicas), one run calls the subscription; the others are refused as busy and record no run', async () => {
    const id = await subscription()
    await shared.scheduler.enroll(id)
    worker.on(id, { delayMs: 1000 }) // the first call is still in flight when the others are asked
    const before = worker.callsFor(id).length
    const runs = (await shared.scheduler.listRuns({ limit: 1000 })).length
    const asked = await Promise.allSettled(Array.from({ length: 4 }, () => shared.scheduler.runSubscription(id)))
    const ran = asked.filter((r): r is PromiseFulfilledResult<FinishedRunSummary> => r.status === 'fulfilled')
    const refused = asked.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    expect(ran.map((r) => r.value.processed)).toEqual([1])
    expect(refused).toHaveLength(3)
    for (const r of refused) expect(r.reason).toBeInstanceOf(SubscriptionBusyError)
    expect(worker.callsFor(id).length - before).toBe(1)
    expect(await shared.scheduler.listRuns({ limit: 1000 })).toHaveLength(runs + 1)
  })

  test('an end already passed ends the subscription; moving the end later brings it back', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription()
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    await expect(shared.scheduler.reschedule(id, { endsAt: at('2026-03-01T00:00:00.000Z') })).resolves.toEqual({ nextRunAt: null })
    expect((await shared.scheduler.getSubscription(id)).status).toBe('ended')
    // Said, in case the year was wrong: nothing else tells that its calls have stopped.
    const said = `Subscription ${id}: its endsAt, 2026-03-01T00:00:00.000Z, is already past, so it has ended and none of its slots will be called. ` +
      'If that is not what you meant, reschedule(id, { endsAt: <a later instant> }) or { endsAt: null } gives it slots again.'
    expect(options.logger.messages('warn')).toContain(said)
    await expect(shared.scheduler.reschedule(id, { endsAt: null })).resolves.toEqual({ nextRunAt: at('2026-03-02T09:00:00.000Z') })
    expect((await shared.scheduler.getSubscription(id)).status).toBe('pending')
    // enroll() with the same past end says it too; a future end says nothing.
    const other = await subscription()
    await shared.scheduler.enroll(other, { runAt: '09:00', endsAt: at('2026-03-01T00:00:00.000Z') })
    expect(options.logger.messages('warn')).toContain(said.replace(id, other))
    const warned = options.logger.messages('warn').length
    await shared.scheduler.reschedule(id, { endsAt: at('2026-04-01T00:00:00.000Z') })
    expect(options.logger.messages('warn').slice(warned).filter((m) => m.includes('is already past'))).toEqual([])
  })

  test("an anchor at midnight UTC that is another date in the subscription's zone is said, with the fix; one inside its local day is not", async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription()
    const warned = options.logger.messages('warn').length
    // new Date('2027-03-31') is 30 March in New York: a monthly run meant for the 31st runs on the 30th.
    await shared.scheduler.enroll(id, { timezone: 'America/New_York', anchor: new Date('2027-03-31') })
    await shared.scheduler.reschedule(id, { anchor: new Date('2027-03-31T13:00:00Z') })
    await shared.scheduler.reschedule(id, { timezone: 'Asia/Kolkata', anchor: new Date('2027-03-31') })
    await shared.scheduler.reschedule(id, { timezone: 'Pacific/Honolulu', anchor: new Date('2027-01-31') })
    expect(options.logger.messages('warn').slice(warned).filter((m) => m.includes('midnight UTC'))).toEqual([
      `Subscription ${id}: its anchor, 2027-03-31T00:00:00.000Z, is midnight UTC (what new Date('2027-03-31') gives), which is 2027-03-30 in America/New_York, ` +
        'and that local date sets its phase. If you meant 2027-03-31, pass an instant inside that local day, such as its slot.',
      `Subscription ${id}: its anchor, 2027-01-31T00:00:00.000Z, is midnight UTC (what new Date('2027-01-31') gives), which is 2027-01-30 in Pacific/Honolulu, ` +
        'and that local date sets its phase. If you meant 2027-01-31, pass an instant inside that local day, such as its slot.',
    ])
  })

  test('runSubscription() refuses a subscription whose start is ahead, naming it and the fix, and records no run; with an earlier start it runs', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription()
    await shared.scheduler.enroll(id, { runAt: '09:00', startsAt: at('2026-03-05T00:00:00.000Z') })
    const runs = (await shared.scheduler.listRuns({ limit: 1000 })).length
    const refused = await shared.scheduler.runSubscription(id).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(SubscriptionStateError)
    expect(refused).toMatchObject({ subscriptionId: id, message: expect.stringMatching(/it starts at 2026-03-05T00:00:00\.000Z \(its startsAt\), and has no slot before then\. reschedule\(id, \{ startsAt: <an earlier instant> \}\)/) })
    expect((await shared.scheduler.listRuns({ limit: 1000 })).length).toBe(runs)
    expect(slots(id)).toEqual([])
    await shared.scheduler.reschedule(id, { startsAt: at('2026-03-01T00:00:00.000Z') })
    await expect(shared.scheduler.runSubscription(id)).resolves.toMatchObject({ successful: 1 })
    expect(slots(id)).toHaveLength(1)
  })

  test('an ended subscription stays ended through a pause and a resume: no call after its end', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription()
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    await shared.scheduler.reschedule(id, { endsAt: at('2026-03-01T00:00:00.000Z') })
    await expect(shared.scheduler.pause(id)).resolves.toMatchObject({ status: 'ended', nextRunAt: null })
    await expect(shared.scheduler.pause(id, { until: at('2026-03-10T00:00:00.000Z') })).resolves.toMatchObject({ status: 'ended', nextRunAt: null, pausedUntil: null })
    await expect(shared.scheduler.resume(id)).resolves.toMatchObject({ status: 'ended', nextRunAt: null })
    clock.set('2026-03-02T09:00:05.000Z')
    await shared.scheduler.runNow()
    await expect(shared.scheduler.runSubscription(id)).rejects.toThrow(/it has ended \(its endsAt, 2026-03-01T00:00:00.000Z, has passed\)\. reschedule\(id, \{ endsAt/)
    await expect(shared.scheduler.runSubscription(id)).rejects.toBeInstanceOf(SubscriptionStateError)
    await expect(shared.scheduler.runSubscription(id)).rejects.toMatchObject({ code: 'SUBSCRIPTION_STATE', subscriptionId: id })
    expect(slots(id)).toEqual([])
    expect((await shared.scheduler.getSubscription(id)).history.map((h) => h.kind)).not.toContain('paused')
  })

  test('pausing a subscription already paused that way (until resumed, or until the same instant) changes nothing, and the history says so once', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription()
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    const first = await shared.scheduler.pause(id)
    clock.set('2026-03-02T08:30:00.000Z')
    const again = await shared.scheduler.pause(id)
    expect(again).toMatchObject({ status: 'paused', updatedAt: first.updatedAt })
    expect(again.history.map((h) => h.kind)).toEqual(['paused'])
    // Paused until an instant, a plain pause is a change (until resumed, now): it is recorded.
    // The same pause until that instant again is not.
    await shared.scheduler.pause(id, { until: at('2026-03-10T00:00:00.000Z') })
    const same = await shared.scheduler.pause(id, { until: at('2026-03-10T00:00:00.000Z') })
    expect(same.history.map((h) => h.kind)).toEqual(['paused', 'paused'])
    const open = await shared.scheduler.pause(id)
    expect(open).toMatchObject({ status: 'paused', pausedUntil: null })
    expect(open.history.map((h) => h.kind)).toEqual(['paused', 'paused', 'paused'])
  })

  test('runSubscription() refuses a paused or inactive subscription, saying why and what to do, and records no run; resumed, it runs', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription()
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    const runs = (await shared.scheduler.listRuns({ limit: 1000 })).length
    await shared.scheduler.pause(id)
    await expect(shared.scheduler.runSubscription(id)).rejects.toThrow(/is paused \(until resumed\), and a paused subscription is not called\. resume\(id\) first/)
    await shared.scheduler.pause(id, { until: at('2026-03-05T00:00:00.000Z') })
    await expect(shared.scheduler.runSubscription(id, { wait: false })).rejects.toThrow(/is paused \(until 2026-03-05T00:00:00\.000Z\)/)
    // Paused for failing in a row, the way out is retryFailed().
    await shared.db.pool.query(`UPDATE subscription_processing SET paused_reason = 'failures', paused_until = NULL WHERE subscription_id = $1`, [id])
    await expect(shared.scheduler.runSubscription(id)).rejects.toThrow(/paused after failing in a row \(pauseAfterConsecutiveFailures\)\. retryFailed\(\{ subscriptionIds: \[id\] \}\)/)
    await shared.scheduler.resume(id)
    await shared.db.pool.query(`UPDATE subscriptions SET active = false WHERE id = $1`, [id])
    const inactive = shared.scheduler.runSubscription(id)
    await expect(inactive).rejects.toBeInstanceOf(SubscriptionStateError)
    await expect(inactive).rejects.toThrow(/inactive in subscriptions \(active = false\).*Set active = true/)
    expect(await shared.scheduler.listRuns({ limit: 1000 })).toHaveLength(runs)
    expect(slots(id)).toEqual([])

    await shared.db.pool.query(`UPDATE subscriptions SET active = true WHERE id = $1`, [id])
    await expect(shared.scheduler.runSubscription(id)).resolves.toMatchObject({ processed: 1, successful: 1 })
    expect(slots(id)).toEqual(['2026-03-02T08:00:00.000Z'])
  })

  test('an unknown subscription is a NotFoundError; a bad id a ConfigurationError', async () => {
    await expect(shared.scheduler.reschedule('00000000-0000-4000-8000-000000000000', { runAt: '10:00' })).rejects.toThrow(NotFoundError)
    await expect(shared.scheduler.reschedule('nope', { runAt: '10:00' })).rejects.toThrow(ConfigurationError)
    // retryFailed() takes a list: a single id, or a bad one in it, rejects naming it.
    await expect(shared.scheduler.retryFailed({ subscriptionIds: '00000000-0000-4000-8000-000000000000' as never })).rejects.toThrow(/`subscriptionIds`.*expected an array of UUIDs/)
    await expect(shared.scheduler.retryFailed({ subscriptionIds: ['nope'] })).rejects.toMatchObject({ option: 'subscriptionIds[0]' })
    // An id with no row (a typo) is named, and no run starts: not a run that "found nothing failing".
    const known = await subscription('daily')
    await shared.scheduler.enroll(known)
    const runs = (await shared.scheduler.listRuns({ limit: 1000 })).length
    const typo = '00000000-0000-4000-8000-00000000000a'
    const refused = shared.scheduler.retryFailed({ subscriptionIds: [known, typo] })
    await expect(refused).rejects.toThrow(NotFoundError)
    await expect(refused).rejects.toMatchObject({ subscriptionId: typo, runId: undefined })
    await expect(refused).rejects.toThrow(`Subscription ${typo} is not enrolled (no subscription_processing row), so there is no failed slot to retry`)
    expect((await shared.scheduler.listRuns({ limit: 1000 })).length).toBe(runs)
  })
})

/** A daily subscription enrolled with `settings` at 08:00, whose on-demand call (for 08:00) is in flight for 1.5 s. */
async function callInFlight(settings: Parameters<SubscriptionScheduler['enroll']>[1]) {
  clock.set('2026-03-02T08:00:00.000Z')
  const id = await subscription('daily')
  await shared.scheduler.enroll(id, settings)
  worker.on(id, { delayMs: 1500 })
  const before = worker.calls.length
  const run = await shared.scheduler.runSubscription(id, { wait: false })
  await worker.waitForCalls(before + 1)
  return { id, run }
}

async function waitForRun(runId: string) {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const run = await shared.scheduler.getRun(runId)
    if (run.finishedAt) return run
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`run ${runId} did not finish within 30 s`)
}

describe('pause until', () => {
  test('resumes by itself at the instant given, and replays none of the slots it missed', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    const paused = await shared.scheduler.pause(id, { until: at('2026-03-05T00:00:00.000Z') })
    expect(paused).toMatchObject({ status: 'paused', pausedUntil: at('2026-03-05T00:00:00.000Z'), nextRunAt: at('2026-03-05T09:00:00.000Z') })
    expect(await shared.scheduler.upcoming(id, { count: 2 })).toEqual([at('2026-03-05T09:00:00.000Z'), at('2026-03-06T09:00:00.000Z')])

    clock.set('2026-03-03T09:05:00.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual([])

    clock.set('2026-03-05T08:00:00.000Z')
    await shared.scheduler.runNow()
    const resumed = await shared.scheduler.getSubscription(id)
    expect(resumed).toMatchObject({ status: 'pending', pausedUntil: null, nextRunAt: at('2026-03-05T09:00:00.000Z') })
    expect(resumed.history.map((h) => h.kind)).toEqual(['resumed', 'paused'])

    clock.set('2026-03-05T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2026-03-05T09:00:00.000Z'])
  })

  test('a failed slot a pause until an instant moves past is said left behind, not called, in the history and the log', async () => {
    clock.set('2026-06-01T08:00:00.000Z')
    const id = await subscription('monthly')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    worker.on(id, { fail: new PermanentError('card declined') })
    clock.set('2026-06-01T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed', nextRunAt: at('2026-06-01T09:00:00.000Z') })
    // A trial's user paused such a row for a minute: its next charge moved a month on, unsaid.
    const paused = await shared.scheduler.pause(id, { until: at('2026-06-01T09:05:00.000Z') })
    expect(paused).toMatchObject({ status: 'paused', nextRunAt: at('2026-07-01T09:00:00.000Z') })
    expect((await shared.scheduler.getSubscription(id)).history[0]).toMatchObject({
      kind: 'paused',
      detail: 'until 2026-06-01T09:05:00.000Z; its failed slot of 2026-06-01T09:00:00.000Z left behind, not called',
    })
    expect(logger.messages('warn')).toContainEqual(
      `pause() of ${id} until 2026-06-01T09:05:00.000Z: its failed slot of 2026-06-01T09:00:00.000Z left behind, not called (its next slot is the first after the pause). retryFailed() or runSubscription() calls it before a pause; backfill() calls past slots after one.`,
    )
  })

  test('a slot already due as a pause until an instant begins still runs, once, after it, as after a pause until resumed', async () => {
    clock.set('2026-07-01T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    // Due, not yet swept: a trial's pause of a minute dropped such a slot, unsaid.
    clock.set('2026-07-01T09:00:30.000Z')
    const paused = await shared.scheduler.pause(id, { until: at('2026-07-01T09:01:30.000Z') })
    expect(paused).toMatchObject({ status: 'paused', nextRunAt: at('2026-07-01T09:00:00.000Z') })
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual([])
    clock.set('2026-07-01T09:02:00.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2026-07-01T09:00:00.000Z'])
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'completed', nextRunAt: at('2026-07-02T09:00:00.000Z') })
  })

  test('paused until an instant, then paused until resumed, then resumed: the slots from now on run again, not from the first pause\'s end', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    await shared.scheduler.pause(id, { until: at('2026-03-20T00:00:00.000Z') })
    // Open-ended now: the first pause's end no longer holds its slots back.
    expect(await shared.scheduler.pause(id)).toMatchObject({ status: 'paused', pausedUntil: null, nextRunAt: at('2026-03-02T09:00:00.000Z') })
    clock.set('2026-03-03T08:00:00.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual([])
    // The slot of 2 March fell due during the pause: it is not replayed.
    await shared.scheduler.resume(id)
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'pending', nextRunAt: at('2026-03-03T09:00:00.000Z') })
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual([])
    clock.set('2026-03-03T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2026-03-03T09:00:00.000Z'])
  })

  test('paused until resumed: the slots that fell due during the pause are not replayed, and a slot already due when it began still runs', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const forgiven = await subscription('daily')
    const owed = await subscription('daily')
    await shared.scheduler.enroll(forgiven, { runAt: '09:00' })
    await shared.scheduler.enroll(owed, { runAt: '09:00' })
    await shared.scheduler.pause(forgiven)
    // 09:30: the 09:00 slot of `owed` is due, and no sweep has taken it when it is paused.
    clock.set('2026-03-02T09:30:00.000Z')
    await shared.scheduler.pause(owed)
    clock.set('2026-03-04T12:00:00.000Z')
    const resumed = await shared.scheduler.resume(forgiven)
    expect(resumed).toMatchObject({ status: 'pending', nextRunAt: at('2026-03-05T09:00:00.000Z') })
    expect(resumed.history[0]).toMatchObject({ kind: 'resumed', slot: at('2026-03-05T09:00:00.000Z') })
    expect(await shared.scheduler.resume(owed)).toMatchObject({ status: 'pending', nextRunAt: at('2026-03-02T09:00:00.000Z') })
    await shared.scheduler.runNow()
    expect(slots(forgiven)).toEqual([])
    expect(slots(owed)).toEqual(['2026-03-02T09:00:00.000Z'])
    expect((await shared.scheduler.getSubscription(owed)).nextRunAt).toEqual(at('2026-03-05T09:00:00.000Z'))
  })

  test('resumed by hand before its end, the slots from now on run again', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    await shared.scheduler.pause(id, { until: at('2026-03-20T00:00:00.000Z') })
    clock.set('2026-03-04T12:00:00.000Z')
    const resumed = await shared.scheduler.resume(id)
    expect(resumed).toMatchObject({ status: 'pending', pausedUntil: null, nextRunAt: at('2026-03-05T09:00:00.000Z') })
    expect(resumed.history[0]).toMatchObject({ kind: 'resumed', detail: expect.stringContaining('before its pause ended') })
  })

  test('resumed before its end, a skip ahead that the resumed schedule reaches first is said to no longer apply, in the history and the log', async () => {
    clock.set('2026-03-02T08:00:00.000Z') // a Monday
    const id = await subscription('weekly')
    await shared.scheduler.enroll(id, { runAt: '09:00', anchor: at('2026-03-02T09:00:00.000Z') })
    await shared.scheduler.pause(id, { until: at('2026-03-20T00:00:00.000Z') })
    await expect(shared.scheduler.skipNext(id)).resolves.toEqual({ skipped: at('2026-03-23T09:00:00.000Z'), nextRunAt: at('2026-03-30T09:00:00.000Z') })
    clock.set('2026-03-04T12:00:00.000Z')
    const resumed = await shared.scheduler.resume(id)
    expect(resumed.nextRunAt).toEqual(at('2026-03-09T09:00:00.000Z'))
    const said = 'the skip of 2026-03-23T09:00:00.000Z no longer applies, the resumed schedule running before it: skipNext() again to skip it'
    expect(resumed.history[0]).toMatchObject({ kind: 'resumed', detail: expect.stringContaining(said) })
    expect(logger.messages('warn').filter((m) => m.includes(id) && m.includes(said))).toHaveLength(1)
  })

  test('a weekly subscription never processed keeps its weekday across a pause that ends on another day', async () => {
    clock.set('2026-03-02T08:00:00.000Z') // Monday
    const id = await subscription('weekly')
    await shared.scheduler.enroll(id, { runAt: '09:00' }) // first slot: today, a Monday
    const paused = await shared.scheduler.pause(id, { until: at('2026-03-08T12:00:00.000Z') }) // a Sunday
    expect(paused.nextRunAt).toEqual(at('2026-03-09T09:00:00.000Z'))
    expect(await shared.scheduler.upcoming(id, { count: 2 })).toEqual([at('2026-03-09T09:00:00.000Z'), at('2026-03-16T09:00:00.000Z')])
  })

  test('paused while its call is in flight: the success is recorded, the row stays paused, and resume() does not call that slot again', async () => {
    const { id, run } = await callInFlight({ runAt: '09:00' })
    await shared.scheduler.pause(id)
    expect(await waitForRun(run.runId)).toMatchObject({ successful: 1, skipped: 0 })
    // Off-slot at 08:00: the 09:00 slot of that day is spent too.
    const next = at('2026-03-03T09:00:00.000Z')
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'paused', pausedReason: 'manual', lastRunAt: at('2026-03-02T08:00:00.000Z'), nextRunAt: next })
    await shared.scheduler.resume(id)
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2026-03-02T08:00:00.000Z'])
  })

  test('paused while its call is in flight, it still refuses a reschedule or a skip until the call has settled', async () => {
    const { id, run } = await callInFlight({ runAt: '09:00' })
    await shared.scheduler.pause(id)
    // Its status says paused; inFlight says a job still holds it, as the refusals below do.
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'paused', inFlight: true })
    await expect(shared.scheduler.reschedule(id, { runAt: '10:00' })).rejects.toThrow(SubscriptionBusyError)
    await expect(shared.scheduler.skipNext(id)).rejects.toThrow(SubscriptionBusyError)
    expect(await waitForRun(run.runId)).toMatchObject({ successful: 1 })
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ inFlight: false })
    await expect(shared.scheduler.reschedule(id, { runAt: '10:00' })).resolves.toEqual({ nextRunAt: at('2026-03-03T10:00:00.000Z') })
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'paused', runAt: '10:00', nextRunAt: at('2026-03-03T10:00:00.000Z') })
  })

  test('paused until an instant while its call is in flight: the success keeps the first slot after the pause', async () => {
    const { id, run } = await callInFlight({ runAt: '09:00' })
    await shared.scheduler.pause(id, { until: at('2026-03-05T00:00:00.000Z') })
    expect(await waitForRun(run.runId)).toMatchObject({ successful: 1 })
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'paused', nextRunAt: at('2026-03-05T09:00:00.000Z') })
  })

  test('paused and resumed while its call is in flight: a sweep meanwhile does not call it again, and the success is recorded', async () => {
    const { id, run } = await callInFlight({}) // due at the next sweep
    await shared.scheduler.pause(id)
    await shared.scheduler.resume(id)
    await expect(shared.scheduler.runNow()).resolves.toMatchObject({ processed: 0 })
    expect(await waitForRun(run.runId)).toMatchObject({ successful: 1, skipped: 0 })
    expect(slots(id)).toEqual(['2026-03-02T08:00:00.000Z'])
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'completed', lastRunAt: at('2026-03-02T08:00:00.000Z') })
  })

  test('an instant not in the future is refused', async () => {
    const id = await subscription()
    await shared.scheduler.enroll(id)
    await expect(shared.scheduler.pause(id, { until: at('2000-01-01T00:00:00.000Z') })).rejects.toThrow(/until.*not in the future/)
    await expect(shared.scheduler.pause(id, { until: 'tomorrow' as never })).rejects.toThrow(ConfigurationError)
    await expect(shared.scheduler.pause(id, { until: new Date('tomorrow') })).rejects.toThrow(/until.*got an invalid Date/)
  })
})

describe('skipNext and upcoming', () => {
  test('skipping moves to the slot after; the skip is in the history; the skipped slot is never called', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('weekly')
    await shared.scheduler.enroll(id, { runAt: '09:00', anchor: at('2026-03-02T09:00:00.000Z') })
    expect(await shared.scheduler.upcoming(id, { count: 3 })).toEqual(['2026-03-02', '2026-03-09', '2026-03-16'].map((d) => at(`${d}T09:00:00.000Z`)))
    await expect(shared.scheduler.skipNext(id)).resolves.toEqual({ skipped: at('2026-03-02T09:00:00.000Z'), nextRunAt: at('2026-03-09T09:00:00.000Z') })
    expect(await shared.scheduler.upcoming(id, { count: 2 })).toEqual([at('2026-03-09T09:00:00.000Z'), at('2026-03-16T09:00:00.000Z')])
    expect((await shared.scheduler.getSubscription(id)).history[0]).toMatchObject({ kind: 'skipped', slot: at('2026-03-02T09:00:00.000Z') })

    clock.set('2026-03-02T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual([])
  })

  test('a skipped slot stays skipped when the subscription is rescheduled afterwards', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    await shared.scheduler.skipNext(id)
    await expect(shared.scheduler.reschedule(id, { endsAt: at('2026-12-31T00:00:00.000Z') })).resolves.toEqual({ nextRunAt: at('2026-03-03T09:00:00.000Z') })
    await expect(shared.scheduler.reschedule(id, { runAt: '10:00' })).resolves.toEqual({ nextRunAt: at('2026-03-03T10:00:00.000Z') })
  })

  test('a reschedule whose next slot comes before a skipped one says that the skip no longer applies; upcoming shows the slot again', async () => {
    clock.set('2026-03-02T08:00:00.000Z') // a Monday
    const id = await subscription('weekly')
    await shared.scheduler.enroll(id, { runAt: '09:00', startsAt: at('2026-03-16T00:00:00.000Z') })
    await expect(shared.scheduler.skipNext(id)).resolves.toEqual({ skipped: at('2026-03-16T09:00:00.000Z'), nextRunAt: at('2026-03-23T09:00:00.000Z') })
    await expect(shared.scheduler.reschedule(id, { startsAt: null })).resolves.toEqual({ nextRunAt: at('2026-03-02T09:00:00.000Z') })
    const { history } = await shared.scheduler.getSubscription(id)
    expect(history.find((h) => h.kind === 'rescheduled')).toMatchObject({ detail: expect.stringContaining('the skip of 2026-03-16T09:00:00.000Z no longer applies') })
    expect(await shared.scheduler.upcoming(id, { count: 3 })).toEqual(['2026-03-02', '2026-03-09', '2026-03-16'].map((d) => at(`${d}T09:00:00.000Z`)))
    // Said once: a later reschedule lifts nothing more, and does not send anyone to skip it again.
    await shared.scheduler.reschedule(id, { runAt: '10:00' })
    const lifted = (await shared.scheduler.getSubscription(id)).history.filter((h) => h.detail?.includes('no longer applies'))
    expect(lifted).toHaveLength(1)
  })

  test('a skipped slot stays skipped after runSubscription(): the run on demand does not bring it back', async () => {
    clock.set('2026-03-02T10:00:00.000Z') // today's 09:00 has passed
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    await expect(shared.scheduler.skipNext(id)).resolves.toEqual({ skipped: at('2026-03-03T09:00:00.000Z'), nextRunAt: at('2026-03-04T09:00:00.000Z') })
    await expect(shared.scheduler.runSubscription(id)).resolves.toMatchObject({ processed: 1, successful: 1 })
    expect(slots(id)).toEqual(['2026-03-02T10:00:00.000Z'])
    expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(at('2026-03-04T09:00:00.000Z'))
    expect(await shared.scheduler.upcoming(id, { count: 2 })).toEqual([at('2026-03-04T09:00:00.000Z'), at('2026-03-05T09:00:00.000Z')])
  })

  test('a skipped slot stays skipped after a runSubscription() that failed and was retried: its success goes on from the next slot it had, not from the run', async () => {
    clock.set('2026-03-02T10:00:00.000Z') // today's 09:00 has passed
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    await shared.scheduler.skipNext(id) // 03-03
    await expect(shared.scheduler.skipNext(id)).resolves.toEqual({ skipped: at('2026-03-04T09:00:00.000Z'), nextRunAt: at('2026-03-05T09:00:00.000Z') })
    worker.on(id, { fail: new PermanentError('card declined'), failTimes: 1 })
    await expect(shared.scheduler.runSubscription(id)).resolves.toMatchObject({ processed: 1, failed: 1 })
    // While it waits for its retry: the failed run, then the slots it had, the skipped ones still skipped.
    expect(await shared.scheduler.upcoming(id, { count: 3 })).toEqual([at('2026-03-02T10:00:00.000Z'), at('2026-03-05T09:00:00.000Z'), at('2026-03-06T09:00:00.000Z')])

    clock.set('2026-03-02T10:30:00.000Z')
    await expect(shared.scheduler.retryFailed({ subscriptionIds: [id] })).resolves.toMatchObject({ successful: 1 })
    expect(slots(id)).toEqual(['2026-03-02T10:00:00.000Z', '2026-03-02T10:00:00.000Z'])
    expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(at('2026-03-05T09:00:00.000Z'))
    expect(await shared.scheduler.upcoming(id, { count: 2 })).toEqual([at('2026-03-05T09:00:00.000Z'), at('2026-03-06T09:00:00.000Z')])
    clock.set('2026-03-04T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toHaveLength(2)
  })

  test('a next slot a failed run on demand kept is not used once the row has left that run (completed by an older version, in a rolling deploy or after a rollback)', async () => {
    clock.set('2026-03-02T10:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    await shared.scheduler.skipNext(id) // 03-03
    await shared.scheduler.skipNext(id) // 03-04
    worker.on(id, { fail: new PermanentError('card declined'), failTimes: 1 })
    await expect(shared.scheduler.runSubscription(id)).resolves.toMatchObject({ failed: 1 })
    // An older version, which knows no kept slot, records the retry's success as it always did:
    // from the run's instant, leaving kept_next_run_at behind.
    await shared.db.pool.query(
      `UPDATE subscription_processing SET status = 'completed', last_completed_for = scheduled_for, last_failed_for = NULL, consecutive_failures = 0,
              error = NULL, job_id = NULL, next_run_at = '2026-03-03T09:00:00Z' WHERE subscription_id = $1`,
      [id],
    )
    expect(await shared.scheduler.upcoming(id, { count: 2 })).toEqual([at('2026-03-03T09:00:00.000Z'), at('2026-03-04T09:00:00.000Z')])
    clock.set('2026-03-02T11:00:00.000Z')
    worker.on(id, {}) // answers from now on
    await expect(shared.scheduler.runSubscription(id)).resolves.toMatchObject({ successful: 1 })
    // Not the stale 03-05, which would drop 03-03 and 03-04.
    expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(at('2026-03-03T09:00:00.000Z'))
  })

  test('skipping a failed run on demand goes on to the next slot the subscription had before it, not to one skipped', async () => {
    clock.set('2026-03-02T10:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    await shared.scheduler.skipNext(id) // 03-03
    worker.on(id, { fail: new PermanentError('card declined'), failTimes: 1 })
    await expect(shared.scheduler.runSubscription(id)).resolves.toMatchObject({ failed: 1 })
    await expect(shared.scheduler.skipNext(id)).resolves.toEqual({ skipped: at('2026-03-02T10:00:00.000Z'), nextRunAt: at('2026-03-04T09:00:00.000Z') })
    expect((await shared.scheduler.getSubscription(id)).status).toBe('pending')
  })

  test('a subscription never processed runs at the next fire of the registered schedule, whoever asks', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id)
    // An admin process with another cron, that leaves the schedule alone: the registered one fires.
    const admin = createSubscriptionScheduler(shared.db.pool, { ...options, cron: '30 6 * * *', schedule: false })
    expect(await admin.upcoming(id, { count: 2 })).toEqual([at('2026-03-02T09:00:00.000Z'), at('2026-03-03T09:00:00.000Z')])
  })

  test('after a first run that failed, upcoming lists its retry, then no second slot on that local day', async () => {
    clock.set('2026-03-02T07:05:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id)
    worker.on(id, { fail: new PermanentError('down for maintenance'), failTimes: 1 })
    await shared.scheduler.runNow() // off-slot, at 07:05, and it fails for good
    const promised = await shared.scheduler.upcoming(id, { count: 3 })
    expect(promised).toEqual([at('2026-03-02T07:05:00.000Z'), at('2026-03-03T09:00:00.000Z'), at('2026-03-04T09:00:00.000Z')])
    clock.set('2026-03-02T07:30:00.000Z')
    await shared.scheduler.retryFailed({ subscriptionIds: [id] })
    expect(slots(id)).toEqual(['2026-03-02T07:05:00.000Z', '2026-03-02T07:05:00.000Z'])
    expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(promised[1])
  })

  test('upcoming respects the end, a pause without end, and checks its count', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00', endsAt: at('2026-03-03T23:00:00.000Z') })
    expect(await shared.scheduler.upcoming(id, { count: 10 })).toEqual([at('2026-03-02T09:00:00.000Z'), at('2026-03-03T09:00:00.000Z')])
    await shared.scheduler.pause(id)
    expect(await shared.scheduler.upcoming(id)).toEqual([])
    await expect(shared.scheduler.upcoming(id, { count: 0 })).rejects.toThrow(/count/)
    await expect(shared.scheduler.upcoming('00000000-0000-4000-8000-000000000000')).rejects.toThrow(NotFoundError)
  })
})

describe('backfill', () => {
  test('one call per slot in the range, oldest first, each with its own key; next_run_at stays', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    const before = await shared.scheduler.getSubscription(id)
    clock.set('2026-03-10T12:00:00.000Z')
    // The third slot fails once: its retry comes before the fourth slot.
    worker.on((r) => r.subscriptionId === id && r.scheduledFor === '2026-02-24T09:00:00.000Z', { fail: new RetryableError('busy', { status: 503 }), failTimes: 1 })
    const summary = await shared.scheduler.backfill(id, { from: at('2026-02-22T00:00:00.000Z'), to: at('2026-02-26T09:00:00.000Z') })
    expect(summary).toMatchObject({ trigger: 'backfill', processed: 5, successful: 5, failed: 0, retried: 1 })
    const calls = worker.callsFor(id)
    expect(calls.map((c) => [c.scheduledFor.slice(0, 10), c.attempt])).toEqual([
      ['2026-02-22', 1], ['2026-02-23', 1], ['2026-02-24', 1], ['2026-02-24', 2], ['2026-02-25', 1], ['2026-02-26', 1],
    ])
    expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(5)
    const after = await shared.scheduler.getSubscription(id)
    expect(after.nextRunAt).toEqual(before.nextRunAt)
    expect(after.history[0]).toMatchObject({ kind: 'backfill', detail: expect.stringContaining('5 slots') })
  })

  test("a backfill keeps within the subscription's own start and end; a range it refuses is said even while another backfill runs", async () => {
    clock.set('2026-03-10T12:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00', startsAt: at('2026-03-03T00:00:00.000Z'), endsAt: at('2026-03-05T23:00:00.000Z') })
    worker.on(id, { delayMs: 500 })
    const { runId } = await shared.scheduler.backfill(id, { from: at('2026-03-01T00:00:00.000Z'), to: at('2026-03-08T00:00:00.000Z'), wait: false })
    // The range is wrong whatever else runs: that is what is said, not that a backfill is running.
    // Now is the manual clock's, and said to be no more than the scheduler's (the CLI's test has the database server's).
    await expect(shared.scheduler.backfill(id, { from: at('2026-03-01T00:00:00.000Z'), to: at('2026-03-11T00:00:00.000Z') })).rejects.toThrow(/is in the future \(now is 2026-03-10T12:00:00\.000Z by the scheduler's clock\); backfill/)
    await expect(shared.scheduler.backfill(id, { form: at('2026-03-01T00:00:00.000Z') } as never)).rejects.toThrow(/unknown option of backfill\(\); did you mean `from`\?; it takes from, to and wait/)
    await waitForRun(runId)
    expect(slots(id)).toEqual(['2026-03-03T09:00:00.000Z', '2026-03-04T09:00:00.000Z', '2026-03-05T09:00:00.000Z'])
  })

  test('a subscription whose first run failed is backfilled on that run\'s phase, as one whose first run succeeded', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const failedFirst = await subscription('monthly')
    const succeededFirst = await subscription('monthly')
    for (const id of [failedFirst, succeededFirst]) await shared.scheduler.enroll(id)
    worker.on(failedFirst, { fail: new PermanentError('not yet'), failTimes: 1 })
    await shared.scheduler.runNow() // the first runs, off-slot, on the 2nd
    const range = { from: at('2025-12-15T00:00:00.000Z'), to: at('2026-02-27T00:00:00.000Z') }
    for (const id of [failedFirst, succeededFirst]) {
      await expect(shared.scheduler.backfill(id, range)).resolves.toMatchObject({ processed: 2 })
      expect(slots(id).slice(1), id === failedFirst ? 'first run failed' : 'first run succeeded').toEqual(['2026-01-02T09:00:00.000Z', '2026-02-02T09:00:00.000Z'])
    }
  })

  test('a second backfill of a subscription while the first runs is refused, naming that run; once it has finished, one may start', async () => {
    clock.set('2026-03-10T12:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    const range = { from: at('2026-03-01T00:00:00.000Z'), to: at('2026-03-03T23:00:00.000Z'), wait: false as const }
    // Its first slot answers after a second, so that the run that starts is still open when the
    // other ask takes the lock: on a busy machine that may come only after an instant run of three
    // slots has finished, when a backfill may start again (a CI run saw both start).
    worker.on((r) => r.subscriptionId === id && r.scheduledFor === '2026-03-01T09:00:00.000Z', { delayMs: 1_000 })
    // Asked twice at once (a double click, or two replicas): one starts, the other waits for its lock, then finds it.
    const [first, second] = await Promise.allSettled([shared.scheduler.backfill(id, range), shared.scheduler.backfill(id, range)])
    const started = [first, second].filter((r) => r.status === 'fulfilled')
    const refused = [first, second].filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    expect(started).toHaveLength(1)
    expect(refused).toHaveLength(1)
    const { runId } = (started[0] as PromiseFulfilledResult<{ runId: string }>).value
    expect(refused[0]!.reason).toBeInstanceOf(SubscriptionBusyError)
    expect((refused[0]!.reason as Error).message).toContain(`has a backfill running (run ${runId}`)
    await waitForRun(runId)
    expect(slots(id)).toEqual(['2026-03-01T09:00:00.000Z', '2026-03-02T09:00:00.000Z', '2026-03-03T09:00:00.000Z'])
    // Finished: a backfill may run again (and calls its slots again, with the same keys).
    await expect(shared.scheduler.backfill(id, { from: range.from, to: range.to })).resolves.toMatchObject({ processed: 3, successful: 3 })
    expect(new Set(worker.callsFor(id).map((c) => c.idempotencyKey)).size).toBe(3)
  })

  test('a backfill whose job was lost (deleted by hand) is closed, by the next backfill of its subscription or by the rescue, and said: it blocks nothing for ever', async () => {
    const own = await createTestDatabase()
    const ownClock = createManualClock('2026-03-10T12:00:00.000Z')
    const logger = captureLogger()
    const events: string[] = []
    // No worker here: the steps wait in the queue, as behind a long backlog.
    const idle = createSubscriptionScheduler(own.pool, { ...options, clock: ownClock, logger, work: false, workerClient: undefined, queuePrefix: 'lost-backfill' })
    idle.on('run:finished', (run) => void events.push(run.runId))
    await idle.start()
    try {
      const { rows } = await own.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
      const id = rows[0]!.id
      await idle.enroll(id, { runAt: '09:00' })
      const range = { from: at('2026-03-01T00:00:00.000Z'), to: at('2026-03-03T23:00:00.000Z'), wait: false as const }
      const lostJob = () => own.pool.query(`DELETE FROM pgboss.job WHERE name = 'lost-backfill.process'`)
      const first = await idle.backfill(id, range)
      // Its job waits: a second is refused, as before.
      await expect(idle.backfill(id, range)).rejects.toThrow(SubscriptionBusyError)
      await lostJob()
      const second = await idle.backfill(id, range)
      expect(await idle.getRun(first.runId)).toMatchObject({ processed: 3, successful: 0, failed: 0, skipped: 3, finishedAt: expect.any(Date), error: expect.stringContaining('its job was lost (deleted by hand, or its queue purged) after 0 of its 3 slots') })
      expect(logger.messages('warn')).toContain(`Run ${first.runId}, a backfill of subscription ${id}, lost its job after 0 of its 3 slots (deleted by hand, or its queue purged); closed it, the slots left counted skipped. Backfill them again to call them.`)
      expect(events).toContain(first.runId)

      // With no new backfill asked for, the rescue closes it.
      await lostJob()
      const boss = new PgBoss({ connectionString: own.url, supervise: false, schedule: false, migrate: false })
      await boss.start()
      await boss.send('lost-backfill.rescue', {})
      await boss.stop({ graceful: false })
      for (const deadline = Date.now() + 30_000; !(await idle.getRun(second.runId)).finishedAt; ) {
        if (Date.now() > deadline) throw new Error('the rescue did not close the lost backfill within 30 s')
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(await idle.getRun(second.runId)).toMatchObject({ skipped: 3, error: expect.stringContaining('its job was lost') })
      expect(events).toContain(second.runId)
    } finally {
      await idle.stop({ timeoutMs: 2000 })
    }
  })

  test('a paused subscription is backfilled (it is asked for by name); an inactive one is refused, saying why, and records no run', async () => {
    clock.set('2026-03-10T12:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    const range = { from: at('2026-03-01T00:00:00.000Z'), to: at('2026-03-01T23:00:00.000Z') }
    await shared.scheduler.pause(id)
    await expect(shared.scheduler.backfill(id, range)).resolves.toMatchObject({ processed: 1, successful: 1 })
    await shared.scheduler.resume(id)
    await shared.db.pool.query(`UPDATE subscriptions SET active = false WHERE id = $1`, [id])
    const runs = (await shared.scheduler.listRuns({ limit: 1000 })).length
    const refused = shared.scheduler.backfill(id, range)
    await expect(refused).rejects.toBeInstanceOf(SubscriptionStateError)
    await expect(refused).rejects.toThrow(`Cannot backfill subscription ${id}: it is inactive in subscriptions (active = false)`)
    expect(await shared.scheduler.listRuns({ limit: 1000 })).toHaveLength(runs)
    expect(slots(id)).toEqual(['2026-03-01T09:00:00.000Z'])
  })

  test('a range in the future, reversed, or too long is refused', async () => {
    clock.set('2026-03-10T12:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id)
    await expect(shared.scheduler.backfill(id, { from: at('2026-03-01T00:00:00Z'), to: at('2026-04-01T00:00:00Z') })).rejects.toThrow(/to.*in the future/)
    await expect(shared.scheduler.backfill(id, { from: at('2026-03-05T00:00:00Z'), to: at('2026-03-01T00:00:00Z') })).rejects.toThrow(/before from/)
    await expect(shared.scheduler.backfill(id, { from: at('2020-01-01T00:00:00Z'), to: at('2026-03-01T00:00:00Z') })).rejects.toThrow(/more than 1000 slots/)
  })
})

describe("unknownFrequency: 'fail'", () => {
  test('a misspelt or missing frequency is not called: its slot fails naming the fix, a backfill, preview or skip is refused, and once fixed retryFailed() calls it', async () => {
    const own = await createTestDatabase()
    const ownClock = createManualClock('2026-03-02T08:00:00.000Z')
    const ownWorker = createFakeWorkerClient()
    const strict = createSubscriptionScheduler(own.pool, { ...options, workerClient: ownWorker, clock: ownClock, unknownFrequency: 'fail' })
    await strict.start()
    try {
      const insert = async (frequency: string | null) =>
        (await own.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`, [frequency])).rows[0]!.id
      const [typo, missing, fine] = [await insert('montly'), await insert(null), await insert('monthly')]
      const summary = await strict.runNow()
      expect(summary).toMatchObject({ processed: 3, successful: 1, failed: 2 })
      expect(ownWorker.calls.map((c) => c.subscriptionId)).toEqual([fine])
      const typoRow = await strict.getSubscription(typo)
      expect(typoRow.status).toBe('failed')
      expect(typoRow.error).toContain(`Subscription ${typo} has frequency "montly", which is no cadence; with unknownFrequency 'fail' it is not called.`)
      expect(typoRow.error).toContain("'monthly'")
      expect((await strict.getSubscription(missing)).error).toContain('has no frequency')
      // Retries are for what a retry may cure: none was made.
      expect(summary.retried).toBe(0)
      await expect(strict.backfill(typo, { from: at('2026-02-01T00:00:00.000Z'), to: at('2026-02-03T00:00:00.000Z') })).rejects.toThrow(SubscriptionDataError)
      // Nor does its preview list slots it will not run: it says why, as the slot's failure does.
      await expect(strict.upcoming(typo)).rejects.toThrow(/has frequency "montly", which is no cadence; with unknownFrequency 'fail' it is not called/)
      // Nor is a slot skipped that it would not run: the skip is refused, the row left as it was.
      const before = await strict.getSubscription(typo)
      await expect(strict.skipNext(typo)).rejects.toThrow(/has frequency "montly", which is no cadence; with unknownFrequency 'fail' it is not called/)
      expect(await strict.getSubscription(typo)).toEqual(before)
      // The admin API answers these 422 with that message, not a 500.
      const admin = createAdminHandler(strict, { authorize: bearerToken('t'.repeat(32)), logger: captureLogger() })
      for (const [method, path, body] of [
        ['GET', `/subscriptions/${typo}/upcoming`, undefined],
        ['POST', `/subscriptions/${typo}/backfill`, JSON.stringify({ from: '2026-02-01T00:00:00.000Z', to: '2026-02-03T00:00:00.000Z' })],
        ['POST', `/subscriptions/${typo}/skip`, '{}'],
      ] as const) {
        const reply = await admin.fetch(new Request(`http://admin${path}`, { method, body, headers: { authorization: `Bearer ${'t'.repeat(32)}`, ...(body ? { 'content-type': 'application/json' } : {}) } }))
        expect({ path, status: reply.status }).toEqual({ path, status: 422 })
        expect(await reply.json()).toMatchObject({ error: { code: 'SUBSCRIPTION_DATA', message: expect.stringContaining("unknownFrequency 'fail'") } })
      }

      await own.pool.query(`UPDATE subscriptions SET frequency = 'monthly' WHERE id = $1`, [typo])
      await strict.retryFailed({ subscriptionIds: [typo] })
      expect(ownWorker.callsFor(typo)).toHaveLength(1)
      expect((await strict.getSubscription(typo)).status).toBe('completed')
    } finally {
      await strict.stop({ timeoutMs: 2000 })
    }
  })
})

describe("catchUp: 'all'", () => {
  /** A started scheduler with `catchUp: 'all'`, on a database, clock (Monday 08:00 UTC) and worker of its own. */
  async function catchingUpScheduler() {
    const own = await createTestDatabase()
    const ownClock = createManualClock('2026-03-02T08:00:00.000Z')
    const ownWorker = createFakeWorkerClient()
    const catchingUp = createSubscriptionScheduler(own.pool, { ...options, workerClient: ownWorker, clock: ownClock, catchUp: 'all' })
    await catchingUp.start()
    return { own, ownClock, ownWorker, catchingUp }
  }

  test('every missed slot once, oldest first, each with its own key, then caught up', async () => {
    const { own, ownClock, ownWorker, catchingUp } = await catchingUpScheduler()
    try {
      const { rows } = await own.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
      const id = rows[0]!.id
      await catchingUp.enroll(id, { runAt: '09:00' })
      ownClock.set('2026-03-06T12:00:00.000Z')
      const summary = await catchingUp.runNow()
      const calls = ownWorker.callsFor(id)
      expect(calls.map((c) => c.scheduledFor.slice(0, 10))).toEqual(['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06'])
      expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(5)
      expect(summary).toMatchObject({ processed: 5, successful: 5 })
      expect((await catchingUp.getSubscription(id)).nextRunAt).toEqual(at('2026-03-07T09:00:00.000Z'))
      await catchingUp.runNow()
      expect(ownWorker.callsFor(id)).toHaveLength(5)
    } finally {
      await catchingUp.stop({ timeoutMs: 2000 })
    }
  })

  test('a pause until an instant defers the slots it covers, oldest first after it; reschedule() with no change forgives them', async () => {
    const { own, ownClock, ownWorker, catchingUp } = await catchingUpScheduler()
    try {
      const { rows } = await own.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily'), (gen_random_uuid(), 'daily') RETURNING id`)
      const [deferred, forgiven] = rows.map((r) => r.id) as [string, string]
      for (const id of [deferred, forgiven]) {
        await catchingUp.enroll(id, { runAt: '09:00' })
        await catchingUp.pause(id, { until: at('2026-03-04T12:00:00.000Z') })
      }
      expect((await catchingUp.getSubscription(deferred)).nextRunAt).toEqual(at('2026-03-02T09:00:00.000Z'))
      await expect(catchingUp.reschedule(forgiven, {})).resolves.toEqual({ nextRunAt: at('2026-03-05T09:00:00.000Z') })
      ownClock.set('2026-03-05T09:00:05.000Z')
      await catchingUp.runNow()
      const days = (id: string) => ownWorker.callsFor(id).map((c) => c.scheduledFor.slice(0, 10))
      expect(days(deferred)).toEqual(['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05'])
      expect(days(forgiven)).toEqual(['2026-03-05'])
    } finally {
      await catchingUp.stop({ timeoutMs: 2000 })
    }
  })

  test('resume(id, { forgive: true }) does not call the slots a pause deferred, with or without an end; resume() alone calls them', async () => {
    const { own, ownClock, ownWorker, catchingUp } = await catchingUpScheduler()
    try {
      const { rows } = await own.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily'), (gen_random_uuid(), 'daily'), (gen_random_uuid(), 'daily') RETURNING id`)
      const [deferred, forgivenOpen, forgivenUntil] = rows.map((r) => r.id) as [string, string, string]
      for (const id of [deferred, forgivenOpen]) {
        await catchingUp.enroll(id, { runAt: '09:00' })
        await catchingUp.pause(id)
      }
      await catchingUp.enroll(forgivenUntil, { runAt: '09:00' })
      await catchingUp.pause(forgivenUntil, { until: at('2026-03-10T00:00:00.000Z') })
      ownClock.set('2026-03-04T12:00:00.000Z')
      await catchingUp.resume(deferred)
      const open = await catchingUp.resume(forgivenOpen, { forgive: true, note: 'customer asked' })
      expect(open).toMatchObject({ status: 'pending', nextRunAt: at('2026-03-05T09:00:00.000Z') })
      // Said as forgiven, with the span: a finance trial's auditor read only "not replayed", and the first slot.
      expect(open.history[0]).toMatchObject({
        kind: 'resumed', note: 'customer asked',
        detail: 'by hand; the slots due during the pause are forgiven, none called: from 2026-03-02T09:00:00.000Z up to its next slot, 2026-03-05T09:00:00.000Z',
      })
      const until = await catchingUp.resume(forgivenUntil, { forgive: true })
      expect(until).toMatchObject({ status: 'pending', nextRunAt: at('2026-03-05T09:00:00.000Z') })
      expect(until.history[0]!.detail).toMatch(/^by hand, before its pause ended \(2026-03-10T00:00:00\.000Z\); the slots due during the pause are forgiven, none called: from 2026-03-02T09:00:00\.000Z up to its next slot, 2026-03-05T09:00:00\.000Z$/)
      ownClock.set('2026-03-05T09:00:05.000Z')
      await catchingUp.runNow()
      const days = (id: string) => ownWorker.callsFor(id).map((c) => c.scheduledFor.slice(0, 10))
      expect(days(deferred)).toEqual(['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05'])
      expect(days(forgivenOpen)).toEqual(['2026-03-05'])
      expect(days(forgivenUntil)).toEqual(['2026-03-05'])
      await expect(catchingUp.resume(deferred, { forgive: 'yes' } as never)).rejects.toThrow(/Invalid option `forgive`: expected true/)
    } finally {
      await catchingUp.stop({ timeoutMs: 2000 })
    }
  })

  test('reactivated after days inactive, reschedule(id, {}) starts afresh: the slots missed meanwhile are not called', async () => {
    const { own, ownClock, ownWorker, catchingUp } = await catchingUpScheduler()
    try {
      const { rows } = await own.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
      const id = rows[0]!.id
      await catchingUp.enroll(id, { runAt: '09:00' })
      ownClock.set('2026-03-02T09:00:05.000Z')
      await catchingUp.runNow()
      await own.pool.query(`UPDATE subscriptions SET active = false WHERE id = $1`, [id])
      ownClock.set('2026-03-12T12:00:00.000Z')
      await own.pool.query(`UPDATE subscriptions SET active = true WHERE id = $1`, [id])
      await expect(catchingUp.reschedule(id, {})).resolves.toEqual({ nextRunAt: at('2026-03-13T09:00:00.000Z') })
      expect(await catchingUp.upcoming(id, { count: 2 })).toEqual([at('2026-03-13T09:00:00.000Z'), at('2026-03-14T09:00:00.000Z')])
      await catchingUp.runNow()
      ownClock.set('2026-03-13T09:00:05.000Z')
      await catchingUp.runNow()
      expect(ownWorker.callsFor(id).map((c) => c.scheduledFor.slice(0, 10))).toEqual(['2026-03-02', '2026-03-13'])
    } finally {
      await catchingUp.stop({ timeoutMs: 2000 })
    }
  })

  test("'latest' (the default) makes one call, then the next slot after now", async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription('daily')
    await shared.scheduler.enroll(id, { runAt: '09:00' })
    clock.set('2026-03-06T12:00:00.000Z')
    await shared.scheduler.runNow()
    expect(slots(id)).toEqual(['2026-03-02T09:00:00.000Z'])
    expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(at('2026-03-07T09:00:00.000Z'))
  })
})

describe('the frequencies option', () => {
  test("a host's cadence names run on their rules; an unknown name runs daily, and the warning names the option", async () => {
    const own = await createTestDatabase()
    const ownClock = createManualClock('2026-03-06T08:00:00.000Z') // Friday
    const ownWorker = createFakeWorkerClient()
    const logger = captureLogger()
    const frequencies: Record<string, FrequencyRule> = {
      workdays: { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] },
      'every-3-days': { every: 3, unit: 'day' },
    }
    const hosted = createSubscriptionScheduler(own.pool, { ...options, workerClient: ownWorker, clock: ownClock, logger, frequencies })
    await hosted.start()
    try {
      const ids: Record<string, string> = {}
      for (const frequency of ['workdays', 'every-3-days', 'fortnightly']) {
        const { rows } = await own.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`, [frequency])
        ids[frequency] = rows[0]!.id
        await hosted.enroll(rows[0]!.id, { runAt: '09:00' })
      }
      ownClock.set('2026-03-06T09:00:05.000Z')
      await hosted.runNow()
      const next = async (frequency: string) => (await hosted.getSubscription(ids[frequency]!)).nextRunAt
      expect(await next('workdays')).toEqual(at('2026-03-09T09:00:00.000Z')) // Friday → Monday
      expect(await next('every-3-days')).toEqual(at('2026-03-09T09:00:00.000Z'))
      expect(await next('fortnightly')).toEqual(at('2026-03-07T09:00:00.000Z')) // unknown: daily
      expect(await hosted.upcoming(ids['every-3-days']!, { count: 3 })).toEqual(['09', '12', '15'].map((d) => at(`2026-03-${d}T09:00:00.000Z`)))
      // Said by its enrolment, which computed a daily slot, and by the sweep that ran it.
      const warnings = logger.messages('warn').filter((m) => m.includes(ids.fortnightly!))
      expect(warnings).toHaveLength(2)
      for (const warning of warnings) expect(warning).toMatch(/"fortnightly".*daily.*`frequencies` option/)
    } finally {
      await hosted.stop({ timeoutMs: 2000 })
    }
  })
})
