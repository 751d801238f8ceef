/**
 * A host's logger that throws (every level but debug) changes nothing the scheduler records: it
 * starts, a failure is recorded as failed, the run finishes, and no row is left queued. Before the
 * guard, a throwing warn() failed the page job at every delivery and the row stayed queued.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler, PermanentError } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

let db: TestDatabase
let scheduler: SubscriptionScheduler | undefined
const explode = () => { throw new Error('logger exploded') }

beforeAll(async () => {
  db = await createTestDatabase()
})

afterAll(async () => {
  await scheduler?.stop({ timeoutMs: 2000 })
})

test('a logger that throws changes nothing recorded: the failure is recorded, the run finishes, nothing stays queued', async () => {
  const [ok, broken] = await seedSubscriptions(db.pool, { count: 2 })
  const worker = createFakeWorkerClient()
  worker.on(broken!, { fail: new PermanentError('nope', { status: 410 }) })
  scheduler = createSubscriptionScheduler(db.pool, {
    workerClient: worker,
    logger: { debug: () => {}, info: explode, warn: explode, error: explode },
    migrate: false,
    pollingIntervalSeconds: 0.5,
    retry: { limit: 0 },
  })
  await scheduler.start()
  const summary = await scheduler.runNow()
  expect(summary).toMatchObject({ processed: 2, successful: 1, failed: 1 })
  const { rows } = await db.pool.query<{ subscription_id: string; status: string }>(
    `SELECT subscription_id, status FROM subscription_processing ORDER BY status`,
  )
  expect(rows).toEqual([{ subscription_id: ok, status: 'completed' }, { subscription_id: broken, status: 'failed' }])
  expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([ok, broken].sort())
})
