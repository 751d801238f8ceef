/**
 * A failed call's retry goes before the pages still queued ahead of it. pg-boss takes jobs in the
 * order they were queued, so a retry due while a big run's pages waited for the instances waited
 * behind all of them: a trial's outage of 100,000 rows saw retries start 110–480 s after a backoff
 * of at most 5 s. Retry jobs carry a higher priority, which pg-boss fetches first.
 */
import { expect, test } from 'vitest'
import { RetryableError } from '../src/index.js'
import { createFakeWorkerClient } from '../src/testing.js'
import { seedSubscriptions } from './support/seed.js'
import { useStartedScheduler } from './support/schedulers.js'

const ROWS = 40

const worker = createFakeWorkerClient().otherwise({ delayMs: 100 })
// One call at a time: one row per page job, four jobs fetched at once, forty queued by the sweep.
const shared = useStartedScheduler({ workerClient: worker, concurrency: 1, retry: { limit: 2, delaySeconds: 1, maxDelaySeconds: 1 } })

test('a retry due while a run\'s pages still wait is called before them, not after the last', { timeout: 60_000 }, async () => {
  const ids = await seedSubscriptions(shared.db.pool, { count: ROWS, nextRunInSeconds: -60 })
  // Whichever row is called first fails once; its retry is due about a second later, with some
  // thirty calls of 100 ms still queued.
  let failing: string | undefined
  worker.on((request) => (failing ??= request.subscriptionId) === request.subscriptionId, { fail: new RetryableError('503 busy'), failTimes: 1 })
  const summary = await shared.scheduler.runNow()
  expect(summary).toMatchObject({ processed: ROWS, successful: ROWS, failed: 0 })
  const order = worker.calls.map((c) => c.subscriptionId)
  expect(order).toHaveLength(ROWS + 1)
  expect(new Set(order)).toEqual(new Set(ids))
  const retriedAt = order.lastIndexOf(failing!)
  expect(retriedAt, `the retry was call ${retriedAt + 1} of ${order.length}`).toBeLessThan(ROWS - 10)
})
