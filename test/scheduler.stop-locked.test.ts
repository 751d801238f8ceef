/**
 * A stop while a transaction of the host's holds `subscription_processing` (`LOCK TABLE`, an
 * `ALTER`, a DELETE left open): a statement waiting on a lock never fails by itself, so stop()
 * cancels its own still waiting (cancel-after.ts) and resolves by its deadline. Nothing of it waits
 * on the lock, or uses the host's pool, once it has resolved; nothing is lost once the lock goes.
 */
import pg from 'pg'
import { expect, onTestFinished, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import type { CapturedLogger } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { heldWorker } from './support/held-worker.js'
import { lockWaiters, pollUntil, waitingForLocks } from './support/reliability-support.js'

const GIVEN_UP = /^Stopped before \d+ jobs? \(\d+ subscriptions?\) could record their outcomes \(a statement recording them still waited, on a lock or a slow database, when stop\(\) gave up on them, and was cancelled\)\. They go back to the queue/

interface Stopping {
  db: TestDatabase
  pool: pg.Pool
  logger: CapturedLogger
  scheduler: SubscriptionScheduler
}

/** A started scheduler on a pool of its own, over `rows` subscriptions due now. */
async function started(rows: number, options: Partial<SchedulerOptions>): Promise<Stopping> {
  const db = await createTestDatabase()
  await db.pool.query(`INSERT INTO subscriptions (user_id, frequency, active) SELECT gen_random_uuid(), 'daily', true FROM generate_series(1, $1::int)`, [rows])
  const pool = new pg.Pool({ connectionString: db.url, max: 10 })
  pool.on('error', () => {})
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), logger, pollingIntervalSeconds: 0.5, ...options })
  await scheduler.start()
  return { db, pool, logger, scheduler }
}

/** The host's transaction holding the table; released (rolled back) when the test ends. */
async function lockTable(db: TestDatabase): Promise<pg.PoolClient> {
  const locker = await db.pool.connect()
  onTestFinished(() => locker.release(true))
  await locker.query(`BEGIN; LOCK TABLE subscription_processing IN ACCESS EXCLUSIVE MODE`)
  return locker
}

/** How many rows are in `status`. */
async function rowsIn(db: TestDatabase, status: 'queued' | 'completed'): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM subscription_processing WHERE status = $1`, [status])
  return rows[0]!.n
}

/** How many statements of the database sleep (in a test's slow trigger). */
async function sleeping(db: TestDatabase): Promise<number> {
  const { rowCount } = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`)
  return rowCount ?? 0
}

/** Another instance, on the test's own pool, until `done` holds. */
async function anotherInstanceUntil(db: TestDatabase, done: (other: SubscriptionScheduler) => Promise<boolean>, what: string): Promise<void> {
  const other = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger: captureLogger(), pollingIntervalSeconds: 0.5, interruptedSweepAfterSeconds: 3, concurrency: 16 })
  await other.start()
  try {
    await pollUntil(async () => (await done(other)) || null, { timeoutMs: 45_000, what })
  } finally {
    await other.stop()
  }
}

test('a stop while outcomes wait on a lock of yours gives them up by its deadline, and says so: nothing of it waits on the lock, and nothing goes to the pool after it', async () => {
  // A trial's ACCESS EXCLUSIVE lock held 32 answered calls' outcomes as a replica stopped: 20 s
  // after stop() resolved, and after the host's pool.end(), 297 outcomes were still being written.
  // Then stop() said each outcome was recorded, while their statements still waited on the lock.
  const worker = heldWorker()
  const { db, pool, logger, scheduler } = await started(300, { workerClient: worker.client, concurrency: 16 })
  const { runId } = await scheduler.runNow({ wait: false })
  await pollUntil(async () => (worker.calls.length === 16 ? true : null), { timeoutMs: 30_000, what: 'every call in flight' })
  await pollUntil(() => logger.messages('info').some((m) => m.startsWith(`Run ${runId}: enqueued`)) || null, { timeoutMs: 30_000, what: 'the sweep to end' })
  const locker = await lockTable(db)
  // The re-check of the rows waiting their turn (every 250 ms) waits on the lock too. The rows
  // whose turn comes as the calls end are not held up by it: stop() hands them to other jobs
  // (a loaded CI run counted them as calls in flight that its deadline cut short).
  await pollUntil(async () => (await lockWaiters(db.pool)).some((q) => q.includes('s.user_id::text AS user_id FROM subscription_processing sp')) || null, {
    timeoutMs: 15_000,
    what: "a re-check of the waiting rows to wait on the lock",
  })
  worker.release()
  await scheduler.stop({ timeoutMs: 500 })

  // From here on, what the scheduler sends to the pool is counted.
  let used = 0
  const { query, connect } = pool
  pool.query = ((...args: Parameters<typeof query>) => ((used += 1), query.apply(pool, args))) as typeof query
  pool.connect = ((...args: Parameters<typeof connect>) => ((used += 1), connect.apply(pool, args))) as typeof connect
  expect(await lockWaiters(db.pool)).toEqual([])
  const said = logger.entries.map((e) => `${e.level} ${e.message}`)
  const givenUp = said.findIndex((line) => line.startsWith('warn ') && GIVEN_UP.test(line.slice(5)))
  expect(givenUp, said.join('\n')).toBeGreaterThanOrEqual(0)
  expect(said.at(-1)).toMatch(/^info Stopped in .*: 16 calls in flight ended, not every outcome recorded \(the warning above says what goes back to the queue\)\.$/)
  await locker.query('COMMIT')
  // A few turns of the settle queue and of the re-checks (every 250 ms) would come and go.
  await pollUntil(() => (used > 0 ? true : null), { timeoutMs: 2_000, what: 'a statement after stop()' }).catch(() => {})
  expect(used).toBe(0)
  expect(logger.messages('warn').filter((m) => /one at a time/.test(m))).toEqual([])
  await pool.end()
  // Nothing was recorded, nothing is lost: the rows are still their jobs', for their next delivery.
  expect(await rowsIn(db, 'queued')).toBe(300)
}, 60_000)

test('a stop while calls go on under a lock of yours leaves none of its statements waiting on it: the jobs it held go back to the queue, and another instance calls every row once the lock is let go', async () => {
  // A new user's trial: an instance stopped while a lock held the table mid-run. Its jobs' reads of
  // their next rows still waited on the lock when stop() resolved (after 5 s more), and the host's
  // pool.end() waited for them until the lock was let go.
  const worker = createFakeWorkerClient().otherwise({ delayMs: 200 })
  const { db, pool, logger, scheduler } = await started(300, { workerClient: worker, concurrency: 16 })
  const { runId } = await scheduler.runNow({ wait: false })
  await worker.waitForCalls(40)
  const locker = await lockTable(db)
  await waitingForLocks(db.pool, 2, 'the instance\'s statements waiting on the lock')
  await scheduler.stop({ timeoutMs: 500 })

  expect(await lockWaiters(db.pool)).toEqual([])
  expect(logger.messages('warn')).toContainEqual(expect.stringMatching(GIVEN_UP))
  await locker.query('COMMIT')
  await pool.end()

  // Nothing is lost: another instance takes the jobs back and calls every row of the run.
  await anotherInstanceUntil(db, async (other) => Boolean((await other.getRun(runId))?.finishedAt), 'the run to finish on the other instance')
  const { rows } = await db.pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM subscription_processing GROUP BY status`)
  expect(rows).toEqual([{ status: 'completed', n: 300 }])
}, 90_000)

test('a stop while its sweep waits on a lock of yours resolves by its deadline: the waiting statement is cancelled, and a rescue sweeps the run once the lock is let go', async () => {
  // A CI run's stop waited the whole test (a minute) on a sweep whose next page waited on a lock
  // held until after stop(): a statement waiting on a lock never errors, and the sweep never ended.
  const { db, pool, logger, scheduler } = await started(10, { interruptedSweepAfterSeconds: 3 })
  const locker = await lockTable(db)
  const { runId } = await scheduler.runNow({ wait: false })
  await waitingForLocks(db.pool, 1, 'the sweep waiting on the lock')
  const stopped = scheduler.stop({ timeoutMs: 500 }).then(() => 'stopped')
  const stillStopping = new Promise<string>((resolve) => setTimeout(() => resolve('still stopping while the lock is held'), 20_000).unref())
  expect(await Promise.race([stopped, stillStopping])).toBe('stopped')
  // Nothing of the stopped instance waits on the lock any more (only its holder is left).
  expect(await lockWaiters(db.pool)).toEqual([])
  expect(logger.messages('info').filter((m) => m.startsWith(`Run ${runId}: `))).toEqual([
    expect.stringMatching(/stop\(\) interrupted its sweep after 0 subscriptions; .* sweeps the rest\./),
  ])
  await locker.query('COMMIT')
  await pool.end()

  // Nothing is lost: another instance's rescue sweeps the run's rows.
  await anotherInstanceUntil(db, async (other) => (await rowsIn(db, 'completed')) === 10 && Boolean((await other.getRun(runId))?.sweepFinishedAt), 'the 10 subscriptions recorded, and the left sweep closed')
}, 60_000)

test('a stop while its sweep\'s claim is held up (a slow trigger of yours) cancels the claim at its deadline, blames no statement_timeout, and leaves its rows to a rescue', async () => {
  // The claim a stop cancels fails as a statement_timeout's would (57014): the sweep took it for
  // one, and said to claim smaller pages, as the stop left.
  const { db, pool, logger, scheduler } = await started(10, { interruptedSweepAfterSeconds: 3 })
  await db.pool.query(`
    CREATE FUNCTION slow_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$;
    CREATE TRIGGER slow_claims BEFORE UPDATE ON subscription_processing FOR EACH ROW
      WHEN (NEW.status = 'queued' AND OLD.status IS DISTINCT FROM 'queued') EXECUTE FUNCTION slow_claims()`)
  const { runId } = await scheduler.runNow({ wait: false })
  await pollUntil(async () => (await sleeping(db)) || null, {
    timeoutMs: 15_000,
    what: 'the sweep\'s claim held up by the trigger',
  })
  await scheduler.stop({ timeoutMs: 500 })
  expect(await sleeping(db)).toBe(0)
  expect(logger.messages('warn').filter((m) => /statement_timeout/.test(m))).toEqual([])
  expect(logger.messages('info').filter((m) => m.startsWith(`Run ${runId}: `))).toEqual([
    expect.stringMatching(/stop\(\) interrupted its sweep after 0 subscriptions; .* sweeps the rest\./),
  ])
  await pool.end()

  await db.pool.query('DROP TRIGGER slow_claims ON subscription_processing')
  await anotherInstanceUntil(db, async () => (await rowsIn(db, 'completed')) === 10, 'the 10 subscriptions recorded')
}, 60_000)
