/**
 * A slot that failed for good (a permanent 4xx, or its retries spent) waits before a sweep tries
 * it again: `retry.failedSlotDelaySeconds`, doubled for each run in a row it failed, at most
 * `retry.failedSlotMaxDelaySeconds`. A trial's fleet swept every two minutes, and called each
 * subscription its worker refused with a 400 at every sweep: 720 times a day for a daily one.
 * An operator's retryFailed() does not wait, nor does a resume. Real Postgres and pg-boss; the
 * clock is manual.
 */
import { expect, test } from 'vitest'
import { createSubscriptionScheduler, PermanentError } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { useStartedScheduler } from './support/schedulers.js'

const clock = createManualClock('2026-03-02T08:00:00.000Z')
const worker = createFakeWorkerClient()

const shared = useStartedScheduler({ workerClient: worker, clock })

const at = (iso: string) => new Date(iso)
const secondsLater = (from: string, seconds: number) => new Date(at(from).getTime() + seconds * 1000)

/** A daily subscription at 09:00 whose worker refuses it for good after `callMs` of the clock; swept once, at 09:00:05 (by `by`, on `pool`). */
async function refused(by = shared.scheduler, pool = shared.db.pool, callMs = 20_000): Promise<string> {
  clock.set('2026-03-02T08:00:00.000Z')
  const { rows } = await pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
  const id = rows[0]!.id
  await by.enroll(id, { runAt: '09:00' })
  // Each call takes 20 s of the clock: the failure is recorded after the sweep that claimed it.
  worker.on(id, { fail: () => (clock.advance(callMs), new PermanentError('400: unknown plan')) })
  await sweepAt('2026-03-02T09:00:05.000Z', by)
  return id
}

async function sweepAt(iso: string, by = shared.scheduler): Promise<void> {
  clock.set(iso)
  await by.runNow()
}

test('a refused slot is tried again by the first sweep after its delay, which doubles with each failed run, not by every sweep', async () => {
  const id = await refused()
  expect(worker.callsFor(id)).toHaveLength(1)
  // Five minutes from the sweep that claimed it (09:00:05), not from its failure 20 s later.
  expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed', consecutiveFailures: 1, retryAt: secondsLater('2026-03-02T09:00:05.000Z', 300) })
  expect((await shared.scheduler.listFailing()).find((f) => f.subscriptionId === id)?.retryAt).toEqual(secondsLater('2026-03-02T09:00:05.000Z', 300))
  expect((await shared.scheduler.listSubscriptions({ status: 'failed' })).find((s) => s.subscriptionId === id)?.retryAt).toEqual(secondsLater('2026-03-02T09:00:05.000Z', 300))

  // Sweeps every minute meanwhile: none calls it.
  for (const minute of ['09:01', '09:02', '09:03', '09:04']) await sweepAt(`2026-03-02T${minute}:30.000Z`)
  expect(worker.callsFor(id)).toHaveLength(1)

  await sweepAt('2026-03-02T09:05:05.000Z')
  expect(worker.callsFor(id)).toHaveLength(2)
  // The same slot, so the same key.
  expect(new Set(worker.callsFor(id).map((c) => c.idempotencyKey)).size).toBe(1)
  expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed', consecutiveFailures: 2, retryAt: secondsLater('2026-03-02T09:05:05.000Z', 600) })
  await sweepAt('2026-03-02T09:14:30.000Z')
  expect(worker.callsFor(id)).toHaveLength(2)
  await sweepAt('2026-03-02T09:15:05.000Z')
  expect(worker.callsFor(id)).toHaveLength(3)
  expect((await shared.scheduler.getSubscription(id)).retryAt).toEqual(secondsLater('2026-03-02T09:15:05.000Z', 1200))
  // A sweep a few seconds early (cron sweeps start late by differing amounts) takes it: not one period later.
  await sweepAt('2026-03-02T09:34:50.000Z')
  expect(worker.callsFor(id)).toHaveLength(4)
})

test('a slot that failed late in a long run still waits half its delay after the failure, not only what is left of it after the sweep', async () => {
  // A run of 100,000 calls to a worker that is down fails for 12 minutes: its last rows, counted
  // from the sweep alone, would be due again at once, the worker still down.
  const id = await refused(shared.scheduler, shared.db.pool, 240_000)
  expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed', retryAt: secondsLater('2026-03-02T09:04:05.000Z', 150) })
  await sweepAt('2026-03-02T09:05:05.000Z')
  expect(worker.callsFor(id)).toHaveLength(1)
  await sweepAt('2026-03-02T09:06:10.000Z')
  expect(worker.callsFor(id)).toHaveLength(2)
})

test('the delay stops doubling at retry.failedSlotMaxDelaySeconds (6 hours)', async () => {
  const id = await refused()
  await shared.db.pool.query(`UPDATE subscription_processing SET consecutive_failures = 40 WHERE subscription_id = $1`, [id])
  await sweepAt('2026-03-02T09:05:05.000Z')
  expect(await shared.scheduler.getSubscription(id)).toMatchObject({ consecutiveFailures: 41, retryAt: secondsLater('2026-03-02T09:05:05.000Z', 21_600) })
})

test("retryFailed() calls a waiting slot at once; resume() of a failed row lets the next sweep try it; a success ends the wait", async () => {
  const id = await refused()
  clock.set('2026-03-02T09:01:00.000Z')
  await expect(shared.scheduler.retryFailed({ subscriptionIds: [id] })).resolves.toMatchObject({ processed: 1, failed: 1 })
  expect(worker.callsFor(id)).toHaveLength(2)
  // An operator's re-drive is not another failed run: the delay does not double.
  expect(await shared.scheduler.getSubscription(id)).toMatchObject({ consecutiveFailures: 1, retryAt: secondsLater('2026-03-02T09:01:00.000Z', 300) })

  await shared.scheduler.pause(id)
  await expect(shared.scheduler.resume(id)).resolves.toMatchObject({ status: 'failed', retryAt: null })
  worker.on(id, {})
  await sweepAt('2026-03-02T09:02:00.000Z')
  expect(worker.callsFor(id)).toHaveLength(3)
  expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'completed', retryAt: null, error: null })
})

test('failedSlotDelaySeconds: 0 tries a failed slot at every sweep, as before', async () => {
  const own = await createTestDatabase()
  const every = createSubscriptionScheduler(own.pool, { workerClient: worker, clock, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, retry: { failedSlotDelaySeconds: 0 } })
  await every.start()
  try {
    const id = await refused(every, own.pool)
    expect(await every.getSubscription(id)).toMatchObject({ status: 'failed', retryAt: null })
    await every.runNow()
    await every.runNow()
    expect(worker.callsFor(id)).toHaveLength(3)
  } finally {
    await every.stop({ timeoutMs: 2000 })
  }
})
