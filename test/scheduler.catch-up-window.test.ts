import { afterEach, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler, PermanentError } from '../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'

// catchUpWindowDays: with catchUp 'all', a subscription that missed more than the window replays
// only the slots inside it, oldest first, and its history says what was skipped. Each test has a
// database, a clock (Monday 2026-03-02 08:00 UTC) and a worker of its own.

const at = (iso: string) => new Date(iso)
const started: SubscriptionScheduler[] = []

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop({ timeoutMs: 2000 })))
})

async function setUp(overrides: Partial<SchedulerOptions> = {}, instances = 1) {
  const db = await createTestDatabase()
  const clock = createManualClock('2026-03-02T08:00:00.000Z')
  const worker = createFakeWorkerClient()
  const logger = captureLogger()
  // historyRetentionDays: the clock moves weeks ahead, and the rescue tick prunes by it.
  const options: SchedulerOptions = { workerClient: worker, clock, logger, migrate: false, pollingIntervalSeconds: 0.5, catchUp: 'all', catchUpWindowDays: 2, historyRetentionDays: 3650, ...overrides }
  const schedulers = Array.from({ length: instances }, () => createSubscriptionScheduler(db.pool, options))
  started.push(...schedulers)
  for (const s of schedulers) await s.start()
  return { db, clock, worker, logger, scheduler: schedulers[0]!, schedulers }
}

async function subscription(db: TestDatabase, frequency: string, settings: Parameters<SubscriptionScheduler['enroll']>[1], scheduler: SubscriptionScheduler): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`, [frequency])
  await scheduler.enroll(rows[0]!.id, settings)
  return rows[0]!.id
}

const days = (worker: ReturnType<typeof createFakeWorkerClient>, id: string) => worker.callsFor(id).map((c) => c.scheduledFor.slice(0, 10))

describe('catchUpWindowDays', () => {
  test('a week behind with a 2-day window: only the slots inside it are called, oldest first; the history and the log say what was skipped', async () => {
    const { db, clock, worker, logger, scheduler } = await setUp()
    const id = await subscription(db, 'daily', { runAt: '09:00' }, scheduler)
    // near starts on the 8th: its first slots are inside the window, and none of it is skipped.
    const near = await subscription(db, 'daily', { runAt: '09:00', startsAt: at('2026-03-08T00:00:00.000Z') }, scheduler)
    clock.set('2026-03-02T09:00:05.000Z')
    await scheduler.runNow()
    expect(days(worker, id)).toEqual(['2026-03-02'])
    clock.set('2026-03-09T12:00:00.000Z')
    expect(await scheduler.upcoming(id, { count: 2 })).toEqual([at('2026-03-08T09:00:00.000Z'), at('2026-03-09T09:00:00.000Z')])
    const summary = await scheduler.runNow()
    expect(days(worker, id)).toEqual(['2026-03-02', '2026-03-08', '2026-03-09'])
    expect(days(worker, near)).toEqual(['2026-03-08', '2026-03-09'])
    expect(summary).toMatchObject({ processed: 4, successful: 4 })
    const history = (await scheduler.getSubscription(id)).history
    expect(history).toEqual([
      expect.objectContaining({ kind: 'skipped', slot: at('2026-03-03T09:00:00.000Z'), detail: expect.stringContaining('up to (not including) 2026-03-08T09:00:00.000Z, older than the catch-up window (2 days)') }),
    ])
    expect((await scheduler.getSubscription(near)).history).toEqual([])
    expect(logger.messages('info')).toContainEqual(expect.stringContaining('catch-up window (2 days) of 1 subscription'))
    expect((await scheduler.getSubscription(id)).nextRunAt).toEqual(at('2026-03-10T09:00:00.000Z'))
  })

  test("a weekly subscription keeps its weekday: it goes on from the first of its Mondays inside the window", async () => {
    const { db, clock, worker, scheduler } = await setUp({ catchUpWindowDays: 10 })
    const id = await subscription(db, 'weekly', { runAt: '09:00', anchor: at('2026-03-02T09:00:00.000Z') }, scheduler)
    clock.set('2026-03-02T09:00:05.000Z')
    await scheduler.runNow()
    // Wednesday, April 1st: the window starts on Sunday, March 22nd, 12:00.
    clock.set('2026-04-01T12:00:00.000Z')
    await scheduler.runNow()
    expect(days(worker, id)).toEqual(['2026-03-02', '2026-03-23', '2026-03-30'])
  })

  test('a subscription whose end came before the window ends, with no call', async () => {
    const { db, clock, worker, scheduler } = await setUp()
    const id = await subscription(db, 'daily', { runAt: '09:00', endsAt: at('2026-03-05T00:00:00.000Z') }, scheduler)
    clock.set('2026-03-02T09:00:05.000Z')
    await scheduler.runNow()
    clock.set('2026-03-20T12:00:00.000Z')
    await scheduler.runNow()
    expect(days(worker, id)).toEqual(['2026-03-02'])
    const details = await scheduler.getSubscription(id)
    expect(details).toMatchObject({ status: 'ended', nextRunAt: null })
    expect(details.history[0]).toMatchObject({ kind: 'skipped', detail: expect.stringContaining('its end came before the window') })
  })

  test('a slot that failed is not skipped, however old: it is tried again until it succeeds, and the slots after it start inside the window', async () => {
    const { db, clock, worker, scheduler } = await setUp()
    const id = await subscription(db, 'daily', { runAt: '09:00' }, scheduler)
    worker.on(id, { fail: new PermanentError('card declined') })
    clock.set('2026-03-02T09:00:05.000Z')
    await scheduler.runNow()
    clock.set('2026-03-12T12:00:00.000Z')
    expect((await scheduler.upcoming(id, { count: 2 }))[0]).toEqual(at('2026-03-02T09:00:00.000Z'))
    await scheduler.runNow()
    expect(days(worker, id)).toEqual(['2026-03-02', '2026-03-02'])
    worker.reset()
    // Failed twice in a row, the slot waits 10 minutes for a sweep to try it again.
    clock.set('2026-03-12T12:10:00.000Z')
    await scheduler.runNow()
    expect(days(worker, id)).toEqual(['2026-03-02', '2026-03-11', '2026-03-12'])
    expect((await scheduler.getSubscription(id)).history).toEqual([])
  })

  test('runSubscription() of a subscription behind the window calls for the first slot inside it', async () => {
    const { db, clock, worker, scheduler } = await setUp()
    const id = await subscription(db, 'daily', { runAt: '09:00' }, scheduler)
    clock.set('2026-03-02T09:00:05.000Z')
    await scheduler.runNow()
    clock.set('2026-03-12T12:00:00.000Z')
    await scheduler.runSubscription(id)
    expect(days(worker, id).slice(0, 2)).toEqual(['2026-03-02', '2026-03-11'])
  })

  test('two instances sweeping at once skip each subscription once and call each slot inside the window once', async () => {
    const { db, clock, worker, schedulers } = await setUp({}, 2)
    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push(await subscription(db, 'daily', { runAt: '09:00' }, schedulers[0]!))
    clock.set('2026-03-02T09:00:05.000Z')
    await schedulers[0]!.runNow()
    clock.set('2026-03-16T12:00:00.000Z')
    await Promise.all(schedulers.map((s) => s.runNow()))
    await schedulers[0]!.runNow()
    for (const id of ids) expect(days(worker, id)).toEqual(['2026-03-02', '2026-03-15', '2026-03-16'])
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM subscription_scheduler.history WHERE kind = 'skipped'`)
    expect(rows[0]!.n).toBe(20)
  })

  test("is published with the schedule settings: an instance with schedule: false and another window says so", async () => {
    const { db, logger } = await setUp({ catchUpWindowDays: 7 })
    const { rows } = await db.pool.query(`SELECT catch_up_window_days FROM subscription_scheduler.settings`)
    expect(rows).toEqual([{ catch_up_window_days: 7 }])
    const other = captureLogger()
    const admin = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger: other, migrate: false, schedule: false, catchUp: 'all', catchUpWindowDays: 30 })
    started.push(admin)
    await admin.start()
    expect(other.messages('warn')).toContainEqual(expect.stringContaining('catchUpWindowDays 7 → 30'))
    expect(logger.messages('warn')).toEqual([])
  })
})
