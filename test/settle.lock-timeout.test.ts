/**
 * A role or database `lock_timeout` (the host's, for its own queries) must not fail the
 * scheduler's own writes. A trial with `lock_timeout=100ms` and three instances saw a sweep's
 * update of its run's counter cancelled (runNow() rejected while its run succeeded), and outcomes
 * waiting on a row the host held for a moment cancelled too: each such job was delivered again,
 * and its subscriptions called twice. Real Postgres and pg-boss; the worker is a fake.
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { enrollMissing } from '../src/sweep/auto-enroll.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase, ownPool } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

let db: TestDatabase
let timed: pg.Pool
let scheduler: SubscriptionScheduler
const worker = createFakeWorkerClient()

beforeAll(async () => {
  db = await createTestDatabase()
  timed = ownPool(db.url, 10, '-c lock_timeout=100')
  scheduler = createSubscriptionScheduler(timed, { workerClient: worker, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
})

afterAll(async () => {
  await scheduler?.stop({ timeoutMs: 2000 })
  await timed?.end()
})

test('outcomes that wait on rows the host holds for a moment are recorded once it lets go: each subscription is called once', async () => {
  const ids = await seedSubscriptions(db.pool, { count: 20 })
  worker.otherwise({ delayMs: 800 })
  const host = new pg.Client({ connectionString: db.url })
  host.on('error', () => {}) // the database dropped at the file's end
  await host.connect()
  try {
    const before = worker.calls.length
    const { runId } = await scheduler.runNow({ wait: false })
    // Every call started: the rows are claimed. The host then holds them past the calls' end.
    await worker.waitForCalls(before + ids.length)
    await host.query('BEGIN')
    await host.query('SELECT 1 FROM subscription_processing WHERE subscription_id = ANY($1::uuid[]) FOR UPDATE', [ids])
    await new Promise<void>((resolve) => setTimeout(resolve, 1500)) // the host's own work, past the calls' end and the lock_timeout
    await host.query('COMMIT')
    const finished = await pollUntil(async () => {
      const run = await scheduler.getRun(runId)
      return run.finishedAt ? run : null
    }, { timeoutMs: 30_000, what: 'the run to finish' })
    expect(finished).toMatchObject({ processed: ids.length, successful: ids.length, failed: 0, error: null })
    const calls = worker.calls.slice(before).map((c) => c.subscriptionId)
    expect(calls.sort()).toEqual([...ids].sort())
    expect((await rowsFor(db.pool, ids)).every((r) => r.status === 'completed')).toBe(true)
  } finally {
    await host.end().catch(() => {})
    worker.reset()
  }
})

test('enrollMissing() waits for new subscriptions the host holds locked, whatever the lock_timeout', async () => {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id) SELECT gen_random_uuid() FROM generate_series(1, 5) RETURNING id::text`)
  const host = new pg.Client({ connectionString: db.url })
  host.on('error', () => {}) // the database dropped at the file's end
  await host.connect()
  try {
    await host.query('BEGIN')
    await host.query('SELECT 1 FROM subscriptions WHERE id = $1 FOR UPDATE', [rows[0]!.id])
    const enrolling = enrollMissing(timed)
    await new Promise<void>((resolve) => setTimeout(resolve, 500)) // the host's own work, past the lock_timeout
    await host.query('COMMIT')
    await expect(enrolling).resolves.toBe(5)
  } finally {
    await host.end().catch(() => {})
  }
})
