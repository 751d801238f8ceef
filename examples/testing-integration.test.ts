/**
 * How a host tests its integration: the real scheduler on a real test database, with the worker
 * replaced by `createFakeWorkerClient()` (records calls, scripts failures) and the logs kept by
 * `captureLogger()` (quiet test output, and warnings you can assert on).
 *
 *   DATABASE_URL=postgres://localhost/app_test npx vitest run --config examples/vitest.config.ts
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler, PermanentError } from 'pg-subscription-scheduler'
import type { SubscriptionScheduler } from 'pg-subscription-scheduler'
import { captureLogger, createFakeWorkerClient } from 'pg-subscription-scheduler/testing'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
const worker = createFakeWorkerClient()
const logger = captureLogger()
let scheduler: SubscriptionScheduler

/** What your signup code does; in your suite, call that code instead. */
async function subscribe(frequency = 'daily'): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`,
    [frequency],
  )
  await scheduler.enroll(rows[0]!.id)
  return rows[0]!.id
}

beforeAll(async () => {
  // Your test setup runs your own migrations; this stands in for them.
  await pool.query(`CREATE TABLE IF NOT EXISTS subscriptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid, frequency text, active boolean NOT NULL DEFAULT true)`)
  scheduler = createSubscriptionScheduler(pool, {
    workerClient: worker,
    logger,
    // Tests want retries and idle polls in about a second, not the production minutes.
    pollingIntervalSeconds: 0.5,
    retry: { limit: 2, delaySeconds: 1 },
  })
  await scheduler.start() // migrates, like your app's startup does
})

afterAll(async () => {
  await scheduler?.stop({ timeoutMs: 2_000 })
  await pool.end()
})

describe('subscription processing', () => {
  test('a new subscription is processed at the next run, once', async () => {
    const id = await subscribe()
    const summary = await scheduler.runNow() // resolves once every call has settled: no sleeps
    expect(summary).toMatchObject({ failed: 0 })
    expect(worker.callsFor(id)).toEqual([expect.objectContaining({ subscriptionId: id, attempt: 1 })])
    expect(await scheduler.getSubscription(id)).toMatchObject({ status: 'completed', nextRunAt: expect.any(Date) })
  })

  test('a worker that fails once is retried, and the slot succeeds', async () => {
    const id = await subscribe()
    worker.on(id, { fail: new Error('worker restarting'), failTimes: 1 })
    const summary = await scheduler.runNow()
    expect(summary).toMatchObject({ successful: 1, failed: 0, retried: 1 })
    // Both attempts carry the same idempotency key: your worker dedupes on it.
    const [first, second] = worker.callsFor(id)
    expect(second).toMatchObject({ attempt: 2, idempotencyKey: first!.idempotencyKey })
  })

  test('a permanent failure is recorded at once, without retries', async () => {
    const id = await subscribe()
    worker.on(id, { fail: new PermanentError('card expired') })
    const summary = await scheduler.runNow()
    expect(summary).toMatchObject({ successful: 0, failed: 1, retried: 0 })
    expect(worker.callsFor(id)).toHaveLength(1)
    expect(await scheduler.getSubscription(id)).toMatchObject({ status: 'failed', error: expect.stringContaining('card expired') })
  })

  test('a subscription with a frequency the scheduler does not know is logged as a warning', async () => {
    const id = await subscribe('fortnightly')
    await scheduler.runNow()
    expect(logger.messages('warn')).toContainEqual(expect.stringContaining(id))
  })
})
