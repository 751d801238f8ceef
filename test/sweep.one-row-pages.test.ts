/**
 * Pages of one row: `claimBatchSize: 1`, and the one-row claims a sweep narrows to around a row a
 * host's rule refuses. The one-row claim first locks its row with a statement of its own, whose
 * parameters must each have a type: the walk over expired claims (the first of every sweep) left
 * the run's id untyped, and every sweep with `claimBatchSize: 1` stopped at once ("could not
 * determine data type of parameter $6"), calling nobody.
 */
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

test('claimBatchSize 1: a sweep claims a page of one row at a time, and calls every due subscription', async () => {
  const db = await createTestDatabase()
  const ids = await seedSubscriptions(db.pool, { count: 5 })
  const worker = createFakeWorkerClient()
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5, claimBatchSize: 1 })
  await scheduler.start()
  try {
    const summary = await scheduler.runNow()
    expect(summary).toMatchObject({ processed: 5, successful: 5, failed: 0 })
    expect(new Set(worker.calls.map((c) => c.subscriptionId))).toEqual(new Set(ids))
    expect(logger.messages('error')).toEqual([])
  } finally {
    await scheduler.stop({ timeoutMs: 2000 })
  }
})
