import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { ConfigurationError, createSubscriptionScheduler, NotFoundError } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { heldWorker } from './support/held-worker.js'
import { seedSubscriptions } from './support/seed.js'

let db: TestDatabase
const logger = captureLogger()
const schedulers: SubscriptionScheduler[] = []

beforeAll(async () => {
  db = await createTestDatabase()
})

afterAll(async () => {
  for (const s of schedulers) await s.stop({ timeoutMs: 2000 })
})

// Counts are database-wide: every test starts from empty tables.
beforeEach(async () => {
  await db.pool.query(`DELETE FROM subscription_processing`)
  await db.pool.query(`DELETE FROM subscriptions`)
  await db.pool.query(`DELETE FROM subscription_scheduler.runs`)
})

const ALL_ZERO = { pending: 0, queued: 0, processing: 0, completed: 0, failed: 0, paused: 0, ended: 0, inactive: 0 }

describe('getStatus', () => {
  test('on an empty database: every status at 0, nothing due, no last run, empty queue', async () => {
    const status = await createSubscriptionScheduler(db.pool, { logger }).getStatus()
    expect(status.counts).toEqual(ALL_ZERO)
    expect(status).toMatchObject({ total: 0, due: 0, lastRun: null, lastSweep: null, queue: { waiting: 0, active: 0 } })
  })

  test('counts rows by status, with a total and how many a sweep would take now', async () => {
    const scheduler = createSubscriptionScheduler(db.pool, { logger })
    // Due: pending (null or past), failed past, completed past, queued with an expired lease.
    await seedSubscriptions(db.pool, { count: 3, status: 'pending' })
    await seedSubscriptions(db.pool, { count: 2, status: 'pending', nextRunInSeconds: -60 })
    await seedSubscriptions(db.pool, { count: 1, status: 'failed', nextRunInSeconds: -60 })
    await seedSubscriptions(db.pool, { count: 4, status: 'completed', nextRunInSeconds: -60 })
    // Not due: in the future, paused, inactive, leased.
    await seedSubscriptions(db.pool, { count: 5, status: 'completed', nextRunInSeconds: 3600 })
    await seedSubscriptions(db.pool, { count: 1, status: 'failed', nextRunInSeconds: 3600 })
    await seedSubscriptions(db.pool, { count: 2, status: 'paused' })
    await seedSubscriptions(db.pool, { count: 3, status: 'pending', active: false })
    const leased = await seedSubscriptions(db.pool, { count: 2, status: 'queued' })
    await db.pool.query(`UPDATE subscription_processing SET lease_expires_at = now() + interval '1 hour' WHERE subscription_id = $1`, [leased[0]])
    const processing = await seedSubscriptions(db.pool, { count: 1, status: 'processing' })
    await db.pool.query(`UPDATE subscription_processing SET lease_expires_at = now() + interval '1 hour' WHERE subscription_id = ANY($1::uuid[])`, [processing])

    const status = await scheduler.getStatus()
    // The inactive subscriptions' rows count as inactive, not as the pending they are stored as.
    expect(status.counts).toEqual({ pending: 5, queued: 2, processing: 1, completed: 9, failed: 2, paused: 2, ended: 0, inactive: 3 })
    expect(status.total).toBe(24)
    // 3 + 2 pending, 1 failed, 4 completed, and the queued row whose lease is null (expired).
    expect(status.due).toBe(11)
    expect(status.queue).toEqual({ waiting: 2, active: 1, stranded: 0 })
  })

  test('keeps statuses it does not know, and counts them in the total', async () => {
    await seedSubscriptions(db.pool, { count: 2, status: 'legacy_hold' })
    await seedSubscriptions(db.pool, { count: 1, status: 'pending' })
    const status = await createSubscriptionScheduler(db.pool, { logger }).getStatus()
    expect(status.counts).toEqual({ ...ALL_ZERO, pending: 1, legacy_hold: 2 })
    expect(status.total).toBe(3)
  })

  test('lastRun is null before any run, then the summary of the latest run', async () => {
    const worker = createFakeWorkerClient()
    const [bad] = await seedSubscriptions(db.pool, { count: 3 })
    worker.on(bad!, { fail: new Error('no such customer') })
    const scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5, retry: { limit: 0 } })
    schedulers.push(scheduler)
    await scheduler.start()
    expect((await scheduler.getStatus()).lastRun).toBeNull()

    const summary = await scheduler.runNow()
    const { lastRun } = await scheduler.getStatus()
    expect(lastRun).toEqual(summary)
    expect(lastRun).toMatchObject({ trigger: 'manual', processed: 3, successful: 2, failed: 1, error: null })
    expect(lastRun!.durationMs).toBe(lastRun!.finishedAt!.getTime() - lastRun!.startedAt.getTime())
    expect(lastRun!.durationMs).toBeGreaterThanOrEqual(0)

    // A later run replaces it.
    const second = await scheduler.runNow()
    expect(second.runId).not.toBe(summary.runId)
    expect((await scheduler.getStatus()).lastRun).toEqual(second)
    expect((await scheduler.getStatus()).lastSweep).toEqual(second)
    // One subscription run on demand is the last run, but not the last sweep of everything due.
    const single = await scheduler.runSubscription(bad!)
    expect(await scheduler.getStatus()).toMatchObject({ lastRun: { runId: single.runId, trigger: 'single' }, lastSweep: second })
    await scheduler.stop({ timeoutMs: 2000 })
  })

  test('queue shows rows waiting for a job and rows an instance has taken, while calls stay within concurrency', async () => {
    // A worker that holds every call until released, so the snapshot is deterministic.
    const { client: worker, calls, firstCall: called, release } = heldWorker()
    const ids = await seedSubscriptions(db.pool, { count: 3 })
    // concurrency 1: one call in flight at a time. The instance fetches ahead (up to 4 jobs per
    // fetch), so the other two are usually taken (processing) and wait for the slot in it.
    const scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5, concurrency: 1, queuePrefix: 'status-queue' })
    schedulers.push(scheduler)
    await scheduler.start()
    const { runId } = await scheduler.runNow({ wait: false })
    await called

    // Once the sweep has claimed all three (its claim loops may still be committing a page).
    let during = await scheduler.getStatus()
    const claimedBy = Date.now() + 10_000
    while (during.lastRun?.processed !== 3 && Date.now() < claimedBy) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      during = await scheduler.getStatus()
    }
    // Usually one page holds all three, fetched at once: { waiting: 0, active: 3 }. The sweep's
    // two claim loops may split them over two pages, and the second page's job then waits in
    // pg-boss until the held call ends (the one fetch loop of concurrency 1 is busy with it).
    expect(during.queue.active).toBeGreaterThanOrEqual(1)
    expect(during.queue.waiting + during.queue.active).toBe(3)
    expect(during.counts).toMatchObject({ pending: 0, queued: during.queue.waiting, processing: during.queue.active })
    // The lists say what the counts say: a trial's "processing 5" card opened an empty list (the
    // rows are queued in their table while a job has them in hand).
    const processing = await scheduler.listSubscriptions({ status: 'processing' })
    const queued = await scheduler.listSubscriptions({ status: 'queued' })
    expect(processing.map((e) => e.status)).toEqual(Array(during.counts.processing).fill('processing'))
    expect(queued.map((e) => e.status)).toEqual(Array(during.counts.queued).fill('queued'))
    expect(new Set([...processing, ...queued].map((e) => e.subscriptionId))).toEqual(new Set(ids))
    expect(processing.map((e) => e.subscriptionId)).toContain(calls[0]!.subscriptionId)
    expect(calls).toHaveLength(1)
    expect(during.due).toBe(0)
    expect(during.lastRun).toMatchObject({ runId, processed: 3, finishedAt: null, durationMs: null })

    release()
    // Poll the status itself (what an operator would do) until the calls have settled.
    const deadline = Date.now() + 15_000
    let after = await scheduler.getStatus()
    while (after.counts.completed < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      after = await scheduler.getStatus()
    }
    expect(after.queue).toEqual({ waiting: 0, active: 0, stranded: 0 })
    expect(after.counts).toMatchObject({ completed: 3 })
    expect(new Set(calls.map((c) => c.subscriptionId))).toEqual(new Set(ids))
    await scheduler.stop({ timeoutMs: 2000 })
  })
})

describe('listRuns', () => {
  // Runs as the sweeps leave them, with microsecond start times and two runs started at once.
  async function insertRuns(): Promise<{ id: string; trigger: string }[]> {
    const { rows } = await db.pool.query<{ id: string; trigger: string }>(
      `INSERT INTO subscription_scheduler.runs (trigger, started_at, finished_at)
       SELECT t, timestamptz '2026-03-02 09:00:00.000250+00' + (n / 2) * interval '1 minute', now()
         FROM generate_series(1, 9) AS n, LATERAL (SELECT (ARRAY['cron', 'single', 'manual'])[n % 3 + 1] AS t) AS pick
       RETURNING id, trigger`,
    )
    return rows
  }

  test('pages back from the last run of each page: every run once, newest first, a run started meanwhile shifting nothing', async () => {
    const scheduler = createSubscriptionScheduler(db.pool, { logger })
    await insertRuns()
    const all = (await scheduler.listRuns({ limit: 1000 })).map((r) => r.runId)
    expect(all).toHaveLength(9)
    const first = await scheduler.listRuns({ limit: 4 })
    expect(first.map((r) => r.runId)).toEqual(all.slice(0, 4))
    await db.pool.query(`INSERT INTO subscription_scheduler.runs (trigger) VALUES ('manual')`)
    const second = await scheduler.listRuns({ limit: 4, before: first.at(-1)!.runId })
    const third = await scheduler.listRuns({ limit: 4, before: second.at(-1)!.runId })
    expect([...first, ...second, ...third].map((r) => r.runId)).toEqual(all)
    await expect(scheduler.listRuns({ before: all.at(-1) })).resolves.toEqual([])
  })

  test('trigger keeps the runs with that trigger, or one of several, and pages within them', async () => {
    const scheduler = createSubscriptionScheduler(db.pool, { logger })
    const runs = await insertRuns()
    const singles = await scheduler.listRuns({ trigger: 'single' })
    expect(singles.map((r) => r.trigger)).toEqual(['single', 'single', 'single'])
    expect(new Set(singles.map((r) => r.runId))).toEqual(new Set(runs.filter((r) => r.trigger === 'single').map((r) => r.id)))
    const all = await scheduler.listRuns()
    const sweeps = await scheduler.listRuns({ trigger: ['cron', 'manual'], limit: 5 })
    expect(sweeps).toEqual(all.filter((r) => r.trigger === 'cron' || r.trigger === 'manual').slice(0, 5))
    await expect(scheduler.listRuns({ trigger: ['cron', 'manual'], before: sweeps.at(-1)!.runId })).resolves.toHaveLength(1)
  })

  test('unfinished lists only the runs not finished yet, and getStatus() counts them and gives the oldest, a big run behind later finished ones', async () => {
    const scheduler = createSubscriptionScheduler(db.pool, { logger })
    await insertRuns()
    expect((await scheduler.getStatus()).unfinishedRuns).toEqual({ count: 0, oldest: null })
    await expect(scheduler.listRuns({ unfinished: true })).resolves.toEqual([])
    // The second run (a big sweep still settling) and the seventh, behind later finished runs.
    const all = await scheduler.listRuns()
    const [oldest, newer] = [all[7]!, all[2]!]
    await db.pool.query(`UPDATE subscription_scheduler.runs SET finished_at = NULL WHERE id = ANY($1::uuid[])`, [[oldest.runId, newer.runId]])
    const unfinished = await scheduler.listRuns({ unfinished: true })
    expect(unfinished.map((r) => r.runId)).toEqual([newer.runId, oldest.runId])
    expect(unfinished.every((r) => r.finishedAt === null && r.durationMs === null)).toBe(true)
    await expect(scheduler.listRuns({ unfinished: true, before: newer.runId })).resolves.toEqual([{ ...oldest, finishedAt: null, durationMs: null }])
    await expect(scheduler.listRuns({ unfinished: false })).resolves.toHaveLength(9)
    const status = await scheduler.getStatus()
    expect(status.unfinishedRuns).toEqual({ count: 2, oldest: { ...oldest, finishedAt: null, durationMs: null } })
    expect(status.lastRun!.finishedAt).not.toBeNull()
    await expect(scheduler.listRuns({ unfinished: 'yes' as never })).rejects.toThrow(/`unfinished`.*expected true \(only runs not finished yet\) or false, got "yes"/)
  })

  test('a bad trigger or before is refused, naming it; a before no run has is a NotFoundError', async () => {
    const scheduler = createSubscriptionScheduler(db.pool, { logger })
    await expect(scheduler.listRuns({ trigger: 'nightly' as never })).rejects.toThrow(/`trigger`.*one of cron, catch-up, manual, retry, single, rescue, backfill.*got "nightly"/)
    await expect(scheduler.listRuns({ trigger: [] })).rejects.toBeInstanceOf(ConfigurationError)
    await expect(scheduler.listRuns({ before: 'last' })).rejects.toThrow(/`before`/)
    await expect(scheduler.listRuns({ before: '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9' })).rejects.toThrow(NotFoundError)
    await expect(scheduler.listRuns({ before: '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9' })).rejects.toThrow(/pruned \(historyRetentionDays\)\. List from the newest run again\.$/)
    await expect(scheduler.getRun('3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9')).rejects.toMatchObject({ code: 'NOT_FOUND', runId: '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9', subscriptionId: undefined })
  })
})

describe('getStatus().nextFireAt', () => {
  test("is the cron's next fire in its time zone, as a UTC instant", async () => {
    const clock = createManualClock('2026-03-25T12:00:00.000Z') // a Wednesday, before the switch to CEST
    const scheduler = createSubscriptionScheduler(db.pool, { cron: '30 6 * * 1', timezone: 'Europe/Berlin', clock, logger, queuePrefix: 'status-unregistered' })
    // Monday 2026-03-30 06:30 CEST (UTC+2), the day after the clocks went forward.
    expect((await scheduler.getStatus()).nextFireAt.toISOString()).toBe('2026-03-30T04:30:00.000Z')

    clock.set('2026-01-07T00:00:00.000Z') // winter: CET, UTC+1
    expect((await scheduler.getStatus()).nextFireAt.toISOString()).toBe('2026-01-12T05:30:00.000Z')

    clock.set('2026-01-12T05:29:59.999Z') // the very Monday, a millisecond before
    expect((await scheduler.getStatus()).nextFireAt.toISOString()).toBe('2026-01-12T05:30:00.000Z')

    clock.set('2026-01-12T05:30:00.000Z') // at the fire itself: the next one is a week later
    expect((await scheduler.getStatus()).nextFireAt.toISOString()).toBe('2026-01-19T05:30:00.000Z')

    clock.set('2026-10-21T12:00:00.000Z') // back to CET on Sunday 2026-10-25
    expect((await scheduler.getStatus()).nextFireAt.toISOString()).toBe('2026-10-26T05:30:00.000Z')
  })

  test('reports the schedule registered in the database over this instance\'s own options', async () => {
    const clock = createManualClock('2030-06-01T10:00:00.000Z')
    const registering = createSubscriptionScheduler(db.pool, { cron: '15 7 * * *', timezone: 'Asia/Tokyo', clock, logger, queuePrefix: 'status-registered', workerClient: createFakeWorkerClient(), migrate: false })
    await registering.start()
    await registering.stop({ timeoutMs: 1000 })
    const reader = createSubscriptionScheduler(db.pool, { clock, logger, queuePrefix: 'status-registered' })
    const status = await reader.getStatus()
    expect(status.schedule).toEqual({ cron: '15 7 * * *', timezone: 'Asia/Tokyo', registered: true, runAt: '09:00', autoEnroll: true })
    expect(status.nextFireAt.toISOString()).toBe('2030-06-01T22:15:00.000Z')
  })

  test('follows the clock, not the wall time', async () => {
    const clock = createManualClock('2030-06-01T10:00:00.000Z')
    const scheduler = createSubscriptionScheduler(db.pool, { cron: '0 */6 * * *', timezone: 'UTC', clock, logger, queuePrefix: 'status-unregistered' })
    expect((await scheduler.getStatus()).nextFireAt.toISOString()).toBe('2030-06-01T12:00:00.000Z')
    clock.advance(3 * 3_600_000)
    expect((await scheduler.getStatus()).nextFireAt.toISOString()).toBe('2030-06-01T18:00:00.000Z')
  })
})
