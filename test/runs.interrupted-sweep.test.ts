import { PgBoss } from 'pg-boss'
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { abandonSweep, addClaimed, closeSilentSweeps, createRun, sweepHeartbeat } from '../src/records/runs.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import type { CapturedLogger, FakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { pollUntil, waitingForLocks } from './support/reliability-support.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

test('a run whose sweep went silent is closed, keeps its counts, and finishes once what it enqueued settled', async () => {
  const db = await createTestDatabase()
  const { rows } = await db.pool.query<{ id: string; label: string }>(
    `INSERT INTO subscription_scheduler.runs (trigger, started_at, sweep_heartbeat_at, claimed, successful, failed)
     VALUES ('cron', now() - interval '1 hour', now() - interval '10 minutes', 40, 38, 2),
            ('cron', now() - interval '1 hour', now() - interval '10 minutes', 40, 30, 0),
            ('manual', now() - interval '1 hour', now() - interval '5 seconds', 40, 40, 0)
     RETURNING id, trigger AS label`,
  )
  const [settled, outstanding, alive] = rows
  const closed = await closeSilentSweeps(db.pool, new Date(), 300)
  expect(closed.map((r) => r.runId).sort()).toEqual([settled!.id, outstanding!.id].sort())
  const byId = new Map(closed.map((r) => [r.runId, r]))
  // All 40 it enqueued have settled: it finishes now.
  expect(byId.get(settled!.id)).toMatchObject({ processed: 40, successful: 38, failed: 2, finishedAt: expect.any(Date), error: expect.stringMatching(/interrupted/) })
  // 10 still in flight: closed, but finishes only when they settle.
  expect(byId.get(outstanding!.id)).toMatchObject({ finishedAt: null, sweepFinishedAt: expect.any(Date) })
  // A sweep that claimed a page seconds ago is alive: left alone.
  const { rows: [still] } = await db.pool.query(`SELECT sweep_finished_at FROM subscription_scheduler.runs WHERE id = $1`, [alive!.id])
  expect(still.sweep_finished_at).toBeNull()
})

test("a sweep just begun by an instance whose clock lags the database's is alive: its silence is measured on the database's clock from its start", async () => {
  const db = await createTestDatabase()
  // The app's clock (a manual clock in tests, a skewed host in production) is hours behind.
  const lagging = new Date(Date.now() - 6 * 3600_000)
  const runId = await createRun(db.pool, 'cron', lagging)
  expect(await closeSilentSweeps(db.pool, lagging, 60)).toEqual([])
  const { rows: [run] } = await db.pool.query(`SELECT sweep_finished_at FROM subscription_scheduler.runs WHERE id = $1`, [runId])
  expect(run.sweep_finished_at).toBeNull()
})

test("the rescue of a dead sweep takes what that sweep left, not rows other runs have taken and failed since", async () => {
  const db = await createTestDatabase()
  const worker = createFakeWorkerClient()
  const scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, queuePrefix: 'rescue-scope' })
  const [left, failedSince] = await seedSubscriptions(db.pool, { count: 2, nextRunInSeconds: -600 })
  // A sweep began 30 minutes ago and went silent 20 minutes ago, never reaching `left`. Another
  // run claimed `failedSince` a minute ago, and its slot failed: it waits for the next sweep.
  const { rows: [dead] } = await db.pool.query<{ id: string }>(
    `INSERT INTO subscription_scheduler.runs (trigger, started_at, sweep_heartbeat_at) VALUES ('cron', now() - interval '30 minutes', now() - interval '20 minutes') RETURNING id`,
  )
  await db.pool.query(
    `UPDATE subscription_processing SET status = 'failed', claimed_at = now() - interval '1 minute', scheduled_for = next_run_at, error = 'HTTP 500'
      WHERE subscription_id = $1`,
    [failedSince],
  )
  await scheduler.start()
  try {
    // The rescue pass runs on its cron; a job on its queue runs one now.
    const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false, migrate: false })
    await boss.start()
    await boss.send('rescue-scope.rescue', {})
    await boss.stop({ graceful: false })
    const rescued = await pollUntil(async () => {
      const { rows } = await db.pool.query(`SELECT * FROM subscription_scheduler.runs WHERE trigger = 'rescue' AND finished_at IS NOT NULL`)
      return rows[0]
    }, { timeoutMs: 30_000, what: 'a finished rescue run' })
    expect(rescued).toMatchObject({ claimed: 1, successful: 1 })
    expect(worker.calls.map((c) => c.subscriptionId)).toEqual([left])
    const rows = await rowsFor(db.pool, [left!, failedSince!])
    expect(rows.find((r) => r.sid === failedSince)).toMatchObject({ status: 'failed', error: 'HTTP 500' })
    const { rows: [closed] } = await db.pool.query(`SELECT sweep_finished_at FROM subscription_scheduler.runs WHERE id = $1`, [dead!.id])
    expect(closed.sweep_finished_at).not.toBeNull()
  } finally {
    await scheduler.stop({ timeoutMs: 2000 })
  }
})

test('a job an older version left on the queue, keyed by a due slot, neither holds the row back nor calls it again', async () => {
  const db = await createTestDatabase()
  const worker = createFakeWorkerClient()
  const scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, queuePrefix: 'legacy-job' })
  const [sid] = await seedSubscriptions(db.pool, { count: 1, nextRunInSeconds: -600 })
  const [row] = await rowsFor(db.pool, [sid!])
  await scheduler.start()
  try {
    // What an older version enqueued: one job per subscription and slot, keyed by both.
    const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false, migrate: false })
    await boss.start()
    const slot = new Date(Math.trunc((row.next_run_at as Date).getTime())).toISOString()
    const legacy = await boss.send('legacy-job.process', { processingId: row.id, subscriptionId: sid, scheduledFor: slot, runId: null }, { singletonKey: `${sid}:${slot}` })
    await boss.stop({ graceful: false })
    const summary = await scheduler.runNow()
    expect(summary).toMatchObject({ processed: 1, successful: 1 })
    const { rows: [job] } = await pollUntil(async () => {
      const result = await db.pool.query(`SELECT state FROM pgboss.job WHERE id = $1 AND state = 'completed'`, [legacy])
      return result.rows.length > 0 ? result : undefined
    }, { timeoutMs: 15_000, what: 'the legacy job to be completed' })
    expect(job.state).toBe('completed')
    expect(worker.callsFor(sid!)).toHaveLength(1)
  } finally {
    await scheduler.stop({ timeoutMs: 2000 })
  }
})

/** Holds a lock on subscription_processing that every write waits for, until released. */
async function holdWrites(db: TestDatabase) {
  const client = await db.pool.connect()
  await client.query('BEGIN')
  await client.query('LOCK TABLE subscription_processing IN EXCLUSIVE MODE')
  let held = true
  return {
    /** Resolves once a statement of the sweep waits for the lock. */
    blocked: () => waitingForLocks(db.pool, 1, 'a sweep statement waiting for the lock'),
    release: async () => {
      if (!held) return
      held = false
      await client.query('COMMIT')
      client.release()
    },
  }
}

/**
 * A run of five due subscriptions whose sweep is held up, its first write waiting for a lock,
 * handed to `body`; the lock and the scheduler are let go of afterwards.
 */
async function withHeldUpSweep(
  options: Partial<SchedulerOptions> & { queuePrefix: string },
  body: (held: { db: TestDatabase; scheduler: SubscriptionScheduler; worker: FakeWorkerClient; logger: CapturedLogger; ids: string[]; runId: string; release: () => Promise<void> }) => Promise<void>,
): Promise<void> {
  const db = await createTestDatabase()
  const worker = createFakeWorkerClient()
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5, ...options })
  const ids = await seedSubscriptions(db.pool, { count: 5, nextRunInSeconds: -60 })
  await scheduler.start()
  const lock = await holdWrites(db)
  try {
    const { runId } = await scheduler.runNow({ wait: false })
    await lock.blocked()
    await body({ db, scheduler, worker, logger, ids, runId, release: lock.release })
  } finally {
    await lock.release()
    await scheduler.stop({ timeoutMs: 2000 })
  }
}

test('a sweep held up between pages for longer than interruptedSweepAfterSeconds keeps showing it is alive, and is not closed', async () => {
  await withHeldUpSweep({ queuePrefix: 'slow-sweep', interruptedSweepAfterSeconds: 2 }, async ({ db, scheduler, worker, ids, runId, release }) => {
    // Longer than the silence a dead sweep is closed after, measured on the database's clock.
    await pollUntil(async () => {
      const { rows } = await db.pool.query(`SELECT 1 FROM subscription_scheduler.runs WHERE id = $1 AND started_at < now() - interval '3 seconds'`, [runId])
      return rows.length > 0 || undefined
    }, { timeoutMs: 15_000, intervalMs: 200, what: 'three seconds of a held-up sweep' })
    expect(await closeSilentSweeps(db.pool, new Date(), 2)).toEqual([])
    await release()
    const run = await pollUntil(async () => {
      const current = await scheduler.getRun(runId)
      return current.finishedAt ? current : undefined
    }, { timeoutMs: 30_000, what: 'the run to finish' })
    expect(run).toMatchObject({ processed: 5, successful: 5, error: null })
    expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
  })
})

test('a live sweep whose run the rescue closed stops at its next page: its rows stay due for another run, counted once', async () => {
  await withHeldUpSweep({ queuePrefix: 'closed-sweep' }, async ({ db, scheduler, worker, logger, ids, runId, release }) => {
    // A rescue pass that took the sweep for dead (an outage as long as the silence, say).
    expect((await closeSilentSweeps(db.pool, new Date(), 0)).map((r) => r.runId)).toEqual([runId])
    await release()
    await pollUntil(() => logger.messages('error').some((m) => m.includes(`Sweep of run ${runId} stopped`) && m.includes('closed by a rescue pass')) || undefined, { timeoutMs: 15_000, what: 'the sweep to stop' })
    expect(await scheduler.getRun(runId)).toMatchObject({ processed: 0 })
    expect((await rowsFor(db.pool, ids)).map((r) => r.status)).toEqual(ids.map(() => 'pending'))
    expect(worker.calls).toEqual([])
    expect(await scheduler.runNow()).toMatchObject({ processed: 5, successful: 5 })
  })
})

test('a sweep that stop() cuts short leaves its run open for the rescue, which sweeps the rest: the run is not closed as if nothing more were due', async () => {
  const db = await createTestDatabase()
  const queuePrefix = 'stopped-sweep'
  const ids = await seedSubscriptions(db.pool, { count: 120, nextRunInSeconds: -60 })
  const first = { worker: createFakeWorkerClient(), logger: captureLogger() }
  // Pages of ten: the sweep has many pages to go when stop() comes.
  const stopped = createSubscriptionScheduler(db.pool, { workerClient: first.worker, logger: first.logger, migrate: false, pollingIntervalSeconds: 0.5, queuePrefix, claimBatchSize: 10 })
  await stopped.start()
  const lock = await holdWrites(db)
  const { runId } = await stopped.runNow({ wait: false })
  await lock.blocked()
  const stopping = stopped.stop({ timeoutMs: 2000 })
  await lock.release()
  await stopping

  const { rows: [open] } = await db.pool.query(`SELECT finished_at, sweep_finished_at, claimed FROM subscription_scheduler.runs WHERE id = $1`, [runId])
  expect(open).toMatchObject({ finished_at: null, sweep_finished_at: null })
  expect(open.claimed).toBeLessThan(ids.length)
  expect(first.logger.messages('info')).toContainEqual(expect.stringMatching(new RegExp(`Run ${runId}: stop\\(\\) interrupted its sweep after \\d+ subscriptions`)))

  // Another instance's rescue pass (on its cron; a job on its queue runs one now) sweeps the rest.
  const second = { worker: createFakeWorkerClient(), logger: captureLogger() }
  const rescuer = createSubscriptionScheduler(db.pool, { workerClient: second.worker, logger: second.logger, migrate: false, pollingIntervalSeconds: 0.5, queuePrefix })
  await rescuer.start()
  try {
    const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false, migrate: false })
    await boss.start()
    await boss.send(`${queuePrefix}.rescue`, {})
    await boss.stop({ graceful: false })
    await pollUntil(async () => {
      const rows = await rowsFor(db.pool, ids)
      return rows.every((r) => r.last_completed_for !== null) || undefined
    }, { timeoutMs: 30_000, what: 'every subscription completed' })
    const calls = [...first.worker.calls, ...second.worker.calls].map((c) => c.subscriptionId)
    expect(calls.sort()).toEqual([...ids].sort())
    const run = await pollUntil(async () => {
      const current = await rescuer.getRun(runId)
      return current.finishedAt ? current : undefined
    }, { timeoutMs: 30_000, what: 'the stopped run to finish' })
    expect(run.error).toMatch(/^The sweep was interrupted \(its instance stopped or crashed\); the rows it left due go to the next sweep: a rescue run, or, for a cron run, that occurrence's sweep delivered again \(a run of its own\)\.$/)
  } finally {
    await rescuer.stop({ timeoutMs: 2000 })
  }
})

test("a sweep that stop() cuts short is swept to its end by another running instance at once, not at the rescue schedule's next tick", async () => {
  const db = await createTestDatabase()
  const queuePrefix = 'handed-sweep'
  const ids = await seedSubscriptions(db.pool, { count: 120, nextRunInSeconds: -60 })
  // No rescue on the schedule while the test runs: only the one the stopping instance asks for.
  const common = { migrate: false, pollingIntervalSeconds: 0.5, queuePrefix, rescueCron: '0 0 1 1 *' } as const
  const first = { worker: createFakeWorkerClient(), logger: captureLogger() }
  const stopped = createSubscriptionScheduler(db.pool, { ...common, workerClient: first.worker, logger: first.logger, claimBatchSize: 10 })
  const second = { worker: createFakeWorkerClient(), logger: captureLogger() }
  const peer = createSubscriptionScheduler(db.pool, { ...common, workerClient: second.worker, logger: second.logger })
  await stopped.start()
  await peer.start()
  try {
    const lock = await holdWrites(db)
    const { runId } = await stopped.runNow({ wait: false })
    await lock.blocked()
    const stopping = stopped.stop({ timeoutMs: 2000 })
    await lock.release()
    await stopping
    expect(first.logger.messages('info')).toContainEqual(
      expect.stringMatching(new RegExp(`Run ${runId}: stop\\(\\) interrupted its sweep after \\d+ subscriptions; a rescue pass of another running instance \\(asked now`)),
    )
    await pollUntil(async () => {
      const rows = await rowsFor(db.pool, ids)
      return rows.every((r) => r.last_completed_for !== null) || undefined
    }, { timeoutMs: 30_000, what: "every subscription completed, by the peer's rescue" })
    expect([...first.worker.calls, ...second.worker.calls].map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
    expect(second.logger.messages('warn')).toContainEqual(expect.stringContaining(`Run ${runId}'s sweep was left unfinished (its instance stopped mid-sweep, or died)`))
  } finally {
    await peer.stop({ timeoutMs: 2000 })
  }
})

test('a sweep left to the rescue stays silent: a heartbeat already on its way, or a catch-up claim settled for its run, does not revive it', async () => {
  const db = await createTestDatabase()
  const { rows: [run] } = await db.pool.query<{ id: string }>(
    `INSERT INTO subscription_scheduler.runs (trigger, started_at, sweep_heartbeat_at) VALUES ('cron', now() - interval '1 minute', now()) RETURNING id`,
  )
  await abandonSweep(db.pool, run!.id)
  // The sweep's heartbeat timer fired as stop() cut the sweep short; a settle caught a row up.
  await sweepHeartbeat(db.pool, run!.id)
  await addClaimed(db.pool, run!.id, 1)
  // The next rescue pass closes it at once, as it does a dead instance's.
  const closed = await closeSilentSweeps(db.pool, new Date(), 60)
  expect(closed.map((r) => r.runId)).toEqual([run!.id])
  expect(closed[0]).toMatchObject({ processed: 1 })
})
