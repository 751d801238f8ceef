/**
 * A stop while the database is unreachable: outcomes the worker answered cannot be recorded.
 * stop() waits for them as long as it may, then gives up on them in one line, and leaves nothing
 * running that would use the host's pool after it resolves (the host ends its pool then).
 */
import pg from 'pg'
import { afterAll, expect, onTestFinished, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { startDbProxy } from './chaos/db-proxy.js'
import type { DbProxy } from './chaos/db-proxy.js'
import { createTestDatabase } from './support/database.js'
import { heldWorker } from './support/held-worker.js'
import { pollUntil, waitingForLocks } from './support/reliability-support.js'

let proxy: DbProxy | undefined
afterAll(async () => await proxy?.close())

test('outcomes that cannot be recorded by the stop\'s deadline are given up in one line before stop() resolves, and nothing records after it', async () => {
  const db = await createTestDatabase()
  await db.pool.query(`INSERT INTO subscriptions (user_id, frequency, active) SELECT gen_random_uuid(), 'daily', true FROM generate_series(1, 10)`)
  proxy = await startDbProxy(db.url)
  const pool = new pg.Pool({ connectionString: proxy.url, max: 5 })
  pool.on('error', () => {})
  const worker = heldWorker()
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(pool, { workerClient: worker.client, logger, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
  await scheduler.runNow({ wait: false })
  await pollUntil(async () => (worker.calls.length === 10 ? true : null), { timeoutMs: 30_000, what: 'every call in flight' })

  // The database goes away with every call in flight, until the end of the test (back before
  // stop()'s deadline, it would let the outcomes be recorded); then the worker answers them all.
  const light = proxy.goDark()
  worker.release()
  await pollUntil(async () => (logger.messages('warn').some((m) => /Database unavailable while recording/.test(m)) ? true : null), {
    timeoutMs: 10_000,
    what: 'a settle retrying through the outage',
  })
  await scheduler.stop({ timeoutMs: 500 })
  const said = logger.entries.map((e) => `${e.level} ${e.message}`)
  await pool.end()

  // Said once, before "Stopped.": how many gave up, why, and what becomes of them. The sweep's
  // two claim loops put the 10 rows in one job or, when they race, in two.
  const givenUp = said.findIndex((line) => /^warn Stopped before (1 job|2 jobs) \(10 subscriptions\) could record their outcomes \(.+\)\. They go back to the queue: their subscriptions not recorded yet are called again, with the same idempotency keys/.test(line))
  expect(givenUp, said.join('\n')).toBeGreaterThanOrEqual(0)
  expect(said.findIndex((line) => line === 'info Stopped.')).toBeGreaterThan(givenUp)
  expect(said.filter((line) => /A job of run .* did not complete/.test(line))).toEqual([])
  // No row is blamed: the database was out of reach, and recording them one at a time would fail as well.
  expect(said.filter((line) => /one at a time/.test(line))).toEqual([])
  light()
  // Nothing was recorded: every row is still the job's, for its next delivery to call again.
  const { rows } = await db.pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM subscription_processing GROUP BY status`)
  expect(rows).toEqual([{ status: 'queued', n: 10 }])
}, 60_000)

test('a stop while the database is away mid-sweep resolves by its deadline, and the sweep it left is closed and finished by a rescue once the database is back', async () => {
  // A CI run's stop waited the two minutes a sweep's closing write retries through an outage, and
  // the host's pool (ended after stop()) with it.
  const db = await createTestDatabase()
  await db.pool.query(`INSERT INTO subscriptions (user_id, frequency, active) SELECT gen_random_uuid(), 'daily', true FROM generate_series(1, 10)`)
  proxy = await startDbProxy(db.url)
  const pool = new pg.Pool({ connectionString: proxy.url, max: 5 })
  pool.on('error', () => {})
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), logger, pollingIntervalSeconds: 0.5, interruptedSweepAfterSeconds: 3 })
  await scheduler.start()
  // The sweep is mid-way (waiting on a host's lock) when the database goes away.
  const locker = await db.pool.connect()
  await locker.query(`BEGIN; LOCK TABLE subscription_processing IN ACCESS EXCLUSIVE MODE`)
  onTestFinished(() => locker.release(true))
  const { runId } = await scheduler.runNow({ wait: false })
  await waitingForLocks(db.pool, 1, 'the sweep waiting on the lock')
  const light = proxy.goDark()
  const stopped = scheduler.stop({ timeoutMs: 500 }).then(() => 'stopped')
  const stillStopping = new Promise<string>((resolve) => setTimeout(() => resolve('still stopping while the database is away'), 30_000).unref())
  expect(await Promise.race([stopped, stillStopping])).toBe('stopped')
  // The sweep's watch may also say it could not write while the database was away: a tick of it
  // can fall inside the outage, or not.
  const aboutRun = logger.messages('warn').filter((m) => m.startsWith(`Run ${runId}: `) && !m.includes(': watching its sweep failed ('))
  expect(aboutRun, logger.messages('warn').join('\n')).toEqual([
    expect.stringMatching(/stop\(\) interrupted its sweep after 0 subscriptions, and the database was out of reach until stop\(\)'s deadline \(.+\): a rescue pass closes the run once its sweep has been silent for interruptedSweepAfterSeconds, and sweeps the rest\./),
  ])
  await locker.query('ROLLBACK')
  light()
  await pool.end()

  // Nothing is lost: another instance's rescue closes the silent sweep and calls its rows.
  const worker = createFakeWorkerClient()
  const rescuer = createSubscriptionScheduler(db.pool, { workerClient: worker, logger: captureLogger(), pollingIntervalSeconds: 0.5, interruptedSweepAfterSeconds: 3 })
  await rescuer.start()
  try {
    await pollUntil(async () => (worker.calls.length >= 10 ? true : null), { timeoutMs: 30_000, what: 'the rescue calling the 10 subscriptions' })
    await pollUntil(async () => ((await rescuer.getRun(runId))?.sweepFinishedAt ? true : null), { timeoutMs: 10_000, what: 'the left sweep closed' })
  } finally {
    await rescuer.stop()
  }
  expect(new Set(worker.calls.map((c) => c.subscriptionId)).size).toBe(10)
}, 60_000)
