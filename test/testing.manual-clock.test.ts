/**
 * A scheduler whose clock is not the database's: a manual clock in a test, or a host whose clock
 * runs ahead of or behind the database server. The jobs it schedules for later (a retry's
 * backoff) wait their own delay, not the gap between the two clocks, and a run's lateness is
 * measured by it.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { createSubscriptionScheduler, RetryableError } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase()
})

describe.each([
  { clockAt: '2030-01-01T08:00:00.000Z', where: 'years ahead of the database' },
  { clockAt: '2020-01-01T08:00:00.000Z', where: 'years behind the database' },
])('a manual clock $where', ({ clockAt }) => {
  const worker = createFakeWorkerClient()

  afterAll(async () => {
    await db.pool.query(`DELETE FROM subscriptions`)
  })

  test('a retry waits its backoff: runNow() resolves once it has run, and the worker is called again after the delay', async () => {
    const s = createSubscriptionScheduler(db.pool, {
      workerClient: worker,
      clock: createManualClock(clockAt),
      logger: captureLogger(),
      migrate: false,
      pollingIntervalSeconds: 0.5,
      retry: { limit: 1, delaySeconds: 2 },
    })
    await s.start()
    try {
      const [id] = await seedSubscriptions(db.pool, { count: 1 })
      worker.on(id!, { fail: new RetryableError('busy'), failTimes: 1 })
      const calledAt: number[] = []
      s.on('subscription:failed', () => calledAt.push(Date.now()))
      s.on('subscription:succeeded', () => calledAt.push(Date.now()))
      const summary = await s.runNow()
      expect(summary).toMatchObject({ processed: 1, successful: 1 })
      expect(worker.callsFor(id!).map((call) => call.attempt)).toEqual([1, 2])
      // Backoff with jitter: between half and all of delaySeconds after the failure.
      expect(calledAt[1]! - calledAt[0]!).toBeGreaterThanOrEqual(900)
    } finally {
      await s.stop({ timeoutMs: 2000 })
    }
  })

  test("a run's lateness is by that clock: a slot 13 s before it reads 13 s, however far the host's is", async () => {
    const s = createSubscriptionScheduler(db.pool, { workerClient: worker, clock: createManualClock(clockAt), logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5 })
    await s.start()
    try {
      const [id] = await seedSubscriptions(db.pool, { count: 1 })
      await db.pool.query(`UPDATE subscription_processing SET next_run_at = $2 WHERE subscription_id = $1`, [id, new Date(Date.parse(clockAt) - 13_000)])
      const summary = await s.runSubscription(id!)
      expect(summary).toMatchObject({ processed: 1, successful: 1, latenessP50Ms: 13_000, latenessP95Ms: 13_000 })
    } finally {
      await s.stop({ timeoutMs: 2000 })
    }
  })
})

test("a start under the test runner's fake timers says so, and names the manual clock as the way out", async () => {
  // Advancing with real time, so that this start finishes: plain fakes would hang it.
  vi.useFakeTimers({ shouldAdvanceTime: true })
  const logger = captureLogger()
  const s = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger, migrate: false, schedule: false })
  try {
    await s.start()
    expect(logger.messages('warn').filter((m) => /setTimeout is a test runner's fake/.test(m))).toHaveLength(1)
  } finally {
    await s.stop({ timeoutMs: 1000 })
    vi.useRealTimers()
  }
})
