/**
 * `pauseAfterConsecutiveFailures` pauses a subscription whose own calls keep failing (a card
 * declined), not the subscriptions a worker outage failed: they stay failed, and the sweeps after
 * the outage call them. Real Postgres and pg-boss; the clock is manual.
 */
import { expect, test } from 'vitest'
import { PermanentError, RetryableError } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { useStartedScheduler } from './support/schedulers.js'

const clock = createManualClock('2026-03-02T08:00:00.000Z')
const worker = createFakeWorkerClient()

// No retry within a run, and each sweep tries a failed slot again: a failed run per sweep.
const shared = useStartedScheduler({ workerClient: worker, clock, logger: captureLogger(), pauseAfterConsecutiveFailures: 3, retry: { limit: 0, failedSlotDelaySeconds: 0 } })

test("runs failed by an outage (5xx, timeouts, a refused connection) do not pause a subscription; its own refusals do, and it runs once the worker is back", async () => {
  // A finance trial's two-day worker outage paused 55 healthy subscriptions "after 3 failed runs
  // in a row", beside the cards that were declined; nothing brought them back but retryFailed().
  clock.set('2026-03-02T08:00:00.000Z')
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), 'daily' FROM generate_series(1, 3) RETURNING id`)
  const [healthy, declined, unauthorized] = rows.map((r) => r.id) as [string, string, string]
  for (const id of [healthy, declined, unauthorized]) await shared.scheduler.enroll(id, { runAt: '09:00' })
  worker.on(healthy, { fail: new RetryableError('Worker answered 503 Service Unavailable', { status: 503 }) })
  worker.on(declined, { fail: new PermanentError('card declined', { status: 402 }) })
  // The scheduler's credentials refused: the worker's setup, not this subscription.
  worker.on(unauthorized, { fail: new PermanentError('Worker answered 401 Unauthorized', { status: 401 }) })
  clock.set('2026-03-02T09:00:05.000Z')
  for (let run = 0; run < 3; run++) await shared.scheduler.runNow()

  expect(await shared.scheduler.getSubscription(declined)).toMatchObject({ status: 'paused', pausedReason: 'failures' })
  for (const id of [healthy, unauthorized]) {
    expect(await shared.scheduler.getSubscription(id), id).toMatchObject({ status: 'failed', pausedReason: null, consecutiveFailures: 3 })
  }
  // The worker is back: the next sweep calls them, with no operator's re-drive.
  worker.on(healthy, { result: { ok: true } })
  worker.on(unauthorized, { result: { ok: true } })
  await shared.scheduler.runNow()
  for (const id of [healthy, unauthorized]) expect((await shared.scheduler.getSubscription(id)).status, id).toBe('completed')
})
