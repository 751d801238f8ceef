/**
 * Slots are called by the first sweep at or after them. A trial of the Quick start (a daily cron
 * at 09:00 Berlin, a subscription enrolled with New York's zone) saw every call made 18 hours
 * after its slot, with no word in the log. enroll() and reschedule() now warn when the slots they
 * give a subscription wait more than an hour for their sweep. Real Postgres and pg-boss.
 */
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { useStartedScheduler } from './support/schedulers.js'

const logger = captureLogger()
// Mid-January: Berlin is UTC+1, New York UTC-5.
const clock = createManualClock('2027-01-15T12:00:00Z')

const shared = useStartedScheduler({ workerClient: createFakeWorkerClient(), logger, clock, cron: '0 9 * * *', timezone: 'Europe/Berlin' })

async function subscription(): Promise<string> {
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id) VALUES (gen_random_uuid()) RETURNING id::text`)
  return rows[0]!.id
}

const lateWarnings = (id: string) => logger.messages('warn').filter((m) => m.startsWith(`Subscription ${id}'s slots come at`))

test("enroll() with New York's zone under a daily Berlin sweep says each slot is called 18 h late, and how to avoid it", async () => {
  const id = await subscription()
  await shared.scheduler.enroll(id, { timezone: 'America/New_York' })
  const [warning, ...more] = lateWarnings(id)
  expect(more).toEqual([])
  expect(warning).toMatch(/slots come at 09:00 America\/New_York, but sweeps run on cron '0 9 \* \* \*' \(Europe\/Berlin\)/)
  // 18 h most of the year; 19 h in the weeks New York has changed its clocks and Berlin not yet.
  expect(warning).toMatch(/its slot of 2027-03-\d\dT13:00:00\.000Z \(14:00 in Europe\/Berlin\) is called by the sweep at 2027-03-\d\dT08:00:00\.000Z, 19 h late, and its other slots as late or nearly/)
  expect(warning).toMatch(/Sweep more often \(cron '0 \* \* \* \*'/)
  // The same enroll() again (every replica's start) changes nothing and says nothing more.
  await shared.scheduler.enroll(id, { timezone: 'America/New_York' })
  expect(lateWarnings(id)).toHaveLength(1)
})

test("slots lined up with the sweep in winter but not in summer are warned of (Kolkata keeps its clocks, Berlin moves them)", async () => {
  const id = await subscription()
  // 13:30 in Kolkata is 09:00 in Berlin in winter, 10:00 in summer: then 23 h late.
  await shared.scheduler.enroll(id, { timezone: 'Asia/Kolkata', runAt: '13:30' })
  expect(lateWarnings(id)).toEqual([expect.stringMatching(/slots come at 13:30 Asia\/Kolkata, .*\(10:00 in Europe\/Berlin\) is called by the sweep at .*, 23 h late; \d+ of 13 of its slots a month apart are over an hour late \(its zone and the cron's change clocks on different dates\)/)])
})

test('slots a sweep follows within the hour are not warned of; a reschedule to a time just after the sweep is', async () => {
  const id = await subscription()
  await shared.scheduler.enroll(id, { timezone: 'Europe/Berlin' })
  await shared.scheduler.reschedule(id, { runAt: '08:30' })
  expect(lateWarnings(id)).toEqual([])
  await shared.scheduler.reschedule(id, { runAt: '09:15' })
  expect(lateWarnings(id)).toEqual([expect.stringMatching(/slots come at 09:15 Europe\/Berlin, but sweeps run .*, 23\.8 h late/)])
})

test("a cron change says which subscriptions' times of day the new schedule leaves late; one that suits them says nothing", async () => {
  // The rows so far: New York 09:00, Kolkata 13:30, Berlin 09:15 (from the tests above), under Berlin's 09:00.
  const hourly = captureLogger()
  const replacing = createSubscriptionScheduler(shared.db.pool, { workerClient: createFakeWorkerClient(), logger: hourly, migrate: false, cron: '0 * * * *', timezone: 'Europe/Berlin' })
  await replacing.start()
  await replacing.stop({ timeoutMs: 2000 })
  expect(hourly.messages('warn').filter((m) => /will be called over an hour after/.test(m))).toEqual([])
  const daily = captureLogger()
  const back = createSubscriptionScheduler(shared.db.pool, { workerClient: createFakeWorkerClient(), logger: daily, migrate: false, cron: '0 9 * * *', timezone: 'Europe/Berlin' })
  await back.start()
  await back.stop({ timeoutMs: 2000 })
  const [warning, ...more] = daily.messages('warn').filter((m) => /will be called over an hour after/.test(m))
  expect(more).toEqual([])
  expect(warning).toMatch(/^With sweeps on cron '0 9 \* \* \*' \(Europe\/Berlin\), [3-9] subscriptions will be called over an hour after their slots: /)
  for (const kind of ['09:00 America/New_York', '13:30 Asia/Kolkata', '09:15 Europe/Berlin']) expect(warning).toContain(`1 at ${kind} (up to `)
})
