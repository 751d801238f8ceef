/**
 * A host that ends its pool before stop() is done (a dependency-injection container or a test's
 * teardown disposing both at once), or under a running scheduler: stop() still settles, and the
 * log says once what went wrong, not once per poll of every pg-boss loop. A trial's container
 * disposal hung for good on stop(), and an ended pool logged 45 lines in 8 s naming no cause.
 */
import pg from 'pg'
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'

async function startedOnOwnPool() {
  const db = await createTestDatabase()
  // Small: statements queue for a connection as the pool ends, and pg-pool never answers those
  // (pg-boss's stop waited on one for good, seen in the full suite with a pool of 5).
  const pool = new pg.Pool({ connectionString: db.url, max: 2 })
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), logger, migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
  return { pool, logger, scheduler }
}

test('stop() settles when the pool is ended at the same time, and says what may not have been recorded', { timeout: 30_000 }, async () => {
  const { pool, logger, scheduler } = await startedOnOwnPool()

  const [stopped, ended] = await Promise.allSettled([scheduler.stop({ timeoutMs: 1000 }), pool.end()])

  expect([stopped.status, ended.status]).toEqual(['fulfilled', 'fulfilled'])
  expect(scheduler.health().state).toBe('stopped')
  expect(logger.messages('warn').filter((m) => m.startsWith('The pg.Pool given to the scheduler was ended before stop() had finished'))).toHaveLength(1)
})

test('a pool ended under a running scheduler is said once, naming the fix; stop() then settles', { timeout: 30_000 }, async () => {
  const { pool, logger, scheduler } = await startedOnOwnPool()

  await pool.end()
  // Its pg-boss loops poll every half-second: a few polls come and go.
  await pollUntil(() => logger.messages('error').length > 0 || undefined, { timeoutMs: 10_000, what: 'the ended pool to be said' })
  // Each loop polls every half-second: over 3 s a line per poll would be a dozen.
  await pollUntil(() => logger.messages('error').length > 1 || undefined, { timeoutMs: 3_000, what: 'a second line' }).catch(() => {})
  await scheduler.stop({ timeoutMs: 1000 })

  expect(logger.messages('error')).toEqual(['The pg.Pool given to the scheduler was ended (pool.end()) while the scheduler runs: it reaches the database no more, and processes nothing. Call `await scheduler.stop()` first, then `pool.end()`.'])
})
