/**
 * The corners the page engine closes by giving each row one owning job: a settle replayed after a
 * lost COMMIT reply counts nothing twice; a retry job and a rescue of the same row never both
 * call; a row that failed for good during a sweep is not taken again by that sweep; concurrent
 * runs claim every row once between them, and each adds up.
 */
import { randomUUID } from 'node:crypto'
import { PgBoss } from 'pg-boss'
import { describe, expect, test } from 'vitest'
import { createSubscriptionScheduler, RetryableError } from '../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { resolveOptions } from '../src/config/resolve-options.js'
import { PermanentError } from '../src/errors.js'
import { settleChunk } from '../src/settle/settle-chunk.js'
import type { PageRow } from '../src/settle/outcome.js'
import { countDue } from '../src/records/status.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import type { FakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { heldWorker } from './support/held-worker.js'
import { createInstances, pollUntil, stopInstances } from './support/reliability-support.js'
import { stopAfterEach } from './support/schedulers.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const track = stopAfterEach()

function scheduler(db: TestDatabase, worker: FakeWorkerClient, options: SchedulerOptions = {}): SubscriptionScheduler {
  const s = createSubscriptionScheduler(db.pool, { workerClient: worker, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, ...options })
  track(s)
  return s
}

/** Runs the maintenance pass now: it runs on its cron, and a job on its queue runs one. */
async function sendRescue(db: TestDatabase, queuePrefix: string): Promise<void> {
  const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false, migrate: false })
  await boss.start()
  await boss.send(`${queuePrefix}.rescue`, {})
  await boss.stop({ graceful: false })
}

async function run(db: TestDatabase, runId: string) {
  const { rows } = await db.pool.query(`SELECT claimed, successful, failed, retried, skipped, finished_at FROM subscription_scheduler.runs WHERE id = $1`, [runId])
  return rows[0]
}

/**
 * `count` subscriptions claimed by one job of one manual run, under a lease of an hour, with what
 * a direct settle of their outcomes needs (no pg-boss: the chunks settled here enqueue nothing).
 */
async function claimedByOneJob(count: number) {
  const db = await createTestDatabase()
  const ids = await seedSubscriptions(db.pool, { count })
  const { rows: [r] } = await db.pool.query<{ id: string }>(
    `INSERT INTO subscription_scheduler.runs (trigger, started_at, sweep_finished_at, claimed) VALUES ('manual', now(), now(), $1) RETURNING id`,
    [count],
  )
  const jobId = randomUUID()
  const { rows } = await db.pool.query<PageRow>(
    `UPDATE subscription_processing sp SET status = 'queued', job_id = $2, run_id = $3, scheduled_for = date_trunc('milliseconds', now()), lease_expires_at = now() + interval '1 hour'
      FROM subscriptions s WHERE s.id = sp.subscription_id AND sp.subscription_id = ANY($1::uuid[])
     RETURNING sp.id, sp.subscription_id, s.user_id::text AS user_id, s.frequency, sp.timezone, sp.anchor_at, sp.scheduled_for, sp.attempts, sp.run_id`,
    [ids, jobId, r!.id],
  )
  const options = resolveOptions({ workerClient: createFakeWorkerClient(), logger: captureLogger() })
  const deps = { pool: db.pool, boss: undefined as never, processQueue: 'unused', deadQueue: 'unused', options }
  return { db, runId: r!.id, jobId, rows, deps }
}

describe('one owner per row', () => {
  test('a chunk settled twice (its COMMIT reply lost, the settle replayed) records and counts its outcomes once', async () => {
    const { db, runId, jobId, rows, deps } = await claimedByOneJob(3)
    const outcomes = rows.map((row) => ({ kind: 'success' as const, jobId, row, attempt: 1, startedAt: Date.now(), durationMs: 1, nextRunAt: new Date(Date.now() + 86_400_000), response: null }))
    const first = await settleChunk(deps, { outcomes })
    const replay = await settleChunk(deps, { outcomes })
    expect(first.counts).toEqual({ successful: 3, failed: 0, retried: 0, skipped: 0 })
    expect(first.finishedRuns).toEqual([expect.objectContaining({ processed: 3, successful: 3, skipped: 0 })])
    // The replay finds no row still owned: nothing recorded, nothing counted, not even as skipped.
    expect(replay.counts).toEqual({ successful: 0, failed: 0, retried: 0, skipped: 0 })
    expect(replay.announcements).toEqual([])
    expect(await run(db, runId)).toMatchObject({ claimed: 3, successful: 3, failed: 0, skipped: 0 })
  })

  test('rows a job let go of uncalled are freed whatever their state by then (calls paused, then resumed before the settle): pending with their slot, the run counts them skipped and finishes', async () => {
    const { db, jobId, rows, deps } = await claimedByOneJob(2)
    // Revoked while calls were paused; by the settle, resumed: the rows are queued, active, callable.
    const outcomes = rows.map((row) => ({ kind: 'skipped' as const, jobId, row, attempt: 1, startedAt: null }))
    const settled = await settleChunk(deps, { outcomes })
    expect(settled.counts).toEqual({ successful: 0, failed: 0, retried: 0, skipped: 2 })
    expect(settled.finishedRuns).toEqual([expect.objectContaining({ processed: 2, skipped: 2 })])
    const { rows: freed } = await db.pool.query(`SELECT status, job_id, lease_expires_at, next_run_at = scheduled_for AS kept_slot FROM subscription_processing`)
    expect(freed).toEqual([0, 1].map(() => ({ status: 'pending', job_id: null, lease_expires_at: null, kept_slot: true })))
  })

  test("a rescue that takes a row whose retry job was lost leaves that job nothing to call if it runs after all: one call, one completion", async () => {
    const db = await createTestDatabase()
    const worker = createFakeWorkerClient()
    const [sid] = await seedSubscriptions(db.pool, { count: 1 })
    // The first call asks to be called back in an hour.
    worker.on(sid!, { fail: new RetryableError('busy', { status: 503, retryAfterMs: 3_600_000 }), failTimes: 1 })
    const s = scheduler(db, worker, { queuePrefix: 'owner-retry', retry: { limit: 3, delaySeconds: 1, maxDelaySeconds: 7200 } })
    await s.start()
    const { runId } = await s.runNow({ wait: false })
    const [waiting] = await pollUntil(async () => {
      const rows = await rowsFor(db.pool, [sid!])
      return rows[0]?.error ? rows : undefined
    }, { timeoutMs: 15_000, what: 'the first attempt to be recorded as a retry' })
    expect(waiting).toMatchObject({ status: 'queued', attempts: 1 })
    const retryJob = waiting.job_id as string
    // Its claim expires while pg-boss still holds the job: the rescue leaves it to that job.
    await db.pool.query(`UPDATE subscription_processing SET lease_expires_at = now() - interval '1 second' WHERE subscription_id = $1`, [sid])
    expect(await s.runNow()).toMatchObject({ processed: 0 })
    // The job is then lost (failed in pg-boss, as if its retries were spent): a rescue takes the row.
    await db.pool.query(`UPDATE pgboss.job SET state = 'failed' WHERE id = $1`, [retryJob])
    const rescue = await s.runNow()
    expect(rescue).toMatchObject({ processed: 1, successful: 1 })
    // Now an operator retries the old job in pg-boss, and it runs: it owns nothing any more.
    await db.pool.query(`UPDATE pgboss.job SET state = 'created', start_after = now() WHERE id = $1`, [retryJob])
    await pollUntil(async () => {
      const { rows } = await db.pool.query(`SELECT state FROM pgboss.job WHERE id = $1`, [retryJob])
      return rows[0]?.state === 'completed'
    }, { timeoutMs: 15_000, what: 'the stale retry job to run' })
    expect(worker.callsFor(sid!)).toHaveLength(2) // the failed first attempt, then the rescue's
    expect((await rowsFor(db.pool, [sid!]))[0]).toMatchObject({ status: 'completed', job_id: null })
    // The first run counted the row once: retried, then skipped when the rescue took it.
    expect(await run(db, runId)).toMatchObject({ claimed: 1, retried: 1, skipped: 1, finished_at: expect.any(Date) })
  })

  test('claims whose lease runs out while pg-boss still holds their jobs (a backlog slower than the lease) stay with those jobs: each subscription called once, the run counts no skip', async () => {
    const db = await createTestDatabase()
    const worker = heldWorker()
    const clock = createManualClock()
    const logger = captureLogger()
    const ids = await seedSubscriptions(db.pool, { count: 12 })
    // One call at a time, and it is held: one job runs, the others wait in pg-boss.
    const s = track(createSubscriptionScheduler(db.pool, { workerClient: worker.client, logger, clock, migrate: false, pollingIntervalSeconds: 0.5, concurrency: 1, queuePrefix: 'owner-backlog' }))
    await s.start()
    const { runId } = await s.runNow({ wait: false })
    await worker.firstCall
    // Two hours on, every claim's lease has run out.
    clock.advance(2 * 3600_000)
    expect(await countDue(db.pool, clock.now(), 'expired')).toBe(12)
    // Neither a sweep nor runSubscription() takes a row from a job pg-boss still holds.
    expect(await s.runNow()).toMatchObject({ processed: 0, skipped: 0 })
    // runSubscription() says why: its call is queued in pg-boss, past its claim's lease.
    await expect(s.runSubscription(ids[5]!)).rejects.toThrow(/Cannot run subscription .* now: a call for it is queued or in flight \(status 'queued'\).*a big run's backlog can keep it queued/)
    // The rescue renews their leases, and says why.
    await sendRescue(db, 'owner-backlog')
    const line = await pollUntil(async () => logger.messages('info').find((m) => m.startsWith('Renewed, for another')), { timeoutMs: 30_000, what: 'the rescue to renew the claims' })
    expect(line).toMatch(/the claims of 12 subscriptions whose jobs are still queued or running past their lease: the jobs wait longer than expected for a worker/)
    expect(await countDue(db.pool, clock.now(), 'expired')).toBe(0)
    expect(logger.messages('warn').filter((m) => m.includes('Rescuing'))).toEqual([])

    worker.release()
    await pollUntil(async () => (await run(db, runId))?.finished_at ?? undefined, { timeoutMs: 30_000, what: 'the first run to finish' })
    expect(await run(db, runId)).toMatchObject({ claimed: 12, successful: 12, skipped: 0 })
    expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
    expect((await rowsFor(db.pool, ids)).map((r) => r.status)).toEqual(ids.map(() => 'completed'))
  })

  test('a page job delivered again after its outcomes were all recorded calls nothing, and says so as information, not as a takeover', async () => {
    const db = await createTestDatabase()
    const worker = createFakeWorkerClient()
    const logger = captureLogger()
    const first = scheduler(db, worker, { logger })
    await first.start()
    const ids = await seedSubscriptions(db.pool, { count: 4 })
    const { runId } = await first.runNow()
    await first.stop({ timeoutMs: 2000 })
    const rows = await rowsFor(db.pool, ids)
    // A delivery that did not complete (its instance stalled, say), of a job whose rows were all recorded.
    const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false, migrate: false })
    await boss.start()
    try {
      const queue = 'subscription-scheduler.process'
      const jobId = (await boss.send(queue, { runId, ids: rows.map((r) => r.id) }))!
      const [fetched] = await boss.fetch(queue)
      expect(fetched?.id).toBe(jobId)
      await boss.fail(queue, jobId, { message: 'its instance stalled' })
      const second = scheduler(db, worker, { logger })
      await second.start()
      const said = await pollUntil(() => logger.messages('info').find((m) => m.includes(jobId)), { timeoutMs: 15_000, what: 'the second delivery to be said' })
      expect(said).toBe(`Job ${jobId} of run ${runId} was delivered again (delivery 2); none of its subscriptions is left to call (each recorded already, deleted, or no longer to be called), so it calls none.`)
      expect(logger.messages('warn').filter((m) => m.startsWith('Taking over job '))).toEqual([])
      expect(worker.calls).toHaveLength(4)
      expect(await run(db, runId)).toMatchObject({ claimed: 4, successful: 4, skipped: 0 })
    } finally {
      await boss.stop({ graceful: false })
    }
  })

  test('a row that fails for good during a sweep is not taken again by that same sweep', async () => {
    const db = await createTestDatabase()
    const worker = createFakeWorkerClient()
    // New subscriptions: no next_run_at, so their slot is the sweep's start, and a failed one's
    // next_run_at (its failed slot) lies ahead of the pages the sweep has yet to claim.
    const ids = await seedSubscriptions(db.pool, { count: 400 })
    const failing = new Set(ids.slice(0, 20))
    worker.on((r) => failing.has(r.subscriptionId), { fail: new PermanentError('no such customer') })
    const s = scheduler(db, worker, { queuePrefix: 'owner-sweep', claimBatchSize: 25, concurrency: 32 })
    await s.start()
    const summary = await s.runNow()
    expect(summary).toMatchObject({ processed: 400, successful: 380, failed: 20 })
    for (const id of failing) expect(worker.callsFor(id), id).toHaveLength(1)
  })

  test('three instances running runNow() at once over 300 rows, with retries, claim each row once between them, and each run adds up', async () => {
    const db = await createTestDatabase()
    const ids = await seedSubscriptions(db.pool, { count: 300 })
    const instances = createInstances(db.url, 3, { queuePrefix: 'owner-concurrent', claimBatchSize: 20, pollingIntervalSeconds: 0.5, retry: { limit: 2, delaySeconds: 1, maxDelaySeconds: 2 } })
    const flaky = new Set(ids.filter((_, i) => i % 10 === 0))
    for (const { worker } of instances) worker.on((r) => flaky.has(r.subscriptionId) && r.attempt === 1, { fail: new RetryableError('flaky') })
    try {
      await Promise.all(instances.map((i) => i.scheduler.start()))
      const runs = await Promise.all(instances.map((i) => i.scheduler.runNow()))
      expect(runs.reduce((sum, r) => sum + r.processed, 0)).toBe(300)
      for (const r of runs) expect(r.successful + r.failed + r.skipped, r.runId).toBe(r.processed)
      expect(runs.reduce((sum, r) => sum + r.successful, 0)).toBe(300)
      expect(runs.reduce((sum, r) => sum + r.retried, 0)).toBe(flaky.size)
      const calls = instances.flatMap((i) => i.worker.calls)
      expect(calls.filter((c) => c.attempt === 1)).toHaveLength(300)
    } finally {
      await stopInstances(instances)
    }
  })
})
