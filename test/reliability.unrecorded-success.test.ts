/**
 * A call the worker answered whose success the database refuses to record on its row (a trigger
 * or constraint of the host's): it is a failed attempt like any other, retried with backoff and
 * the same key, and failed once its retries are spent. Before, its page job was delivered again
 * ten times in a few seconds, calling it each time, and then left it claimed for its hour-long
 * lease, its run unfinished.
 */
import { expect, test } from 'vitest'
import { createFakeWorkerClient } from '../src/testing.js'
import { addHostTrigger } from './support/host-trigger.js'
import { useSchedulerHarness } from './support/schedulers.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const harness = useSchedulerHarness()

/** A started scheduler whose calls the returned fake worker answers, two retries a second or so apart. */
async function started() {
  const worker = createFakeWorkerClient()
  const scheduler = harness.scheduler({ workerClient: worker, retry: { limit: 2, delaySeconds: 1, maxDelaySeconds: 4 } })
  await scheduler.start()
  return { scheduler, worker, db: harness.db, logger: harness.logger }
}

test('a success refused every time is retried with backoff and the same key, then failed for good: retry.limit + 1 calls, the run adds up', async () => {
  const { scheduler, worker, db, logger } = await started()
  const ids = await seedSubscriptions(db.pool, { count: 5 })
  const refused = ids[0]!
  const trigger = await addHostTrigger(db.pool, 'refuse_always', 'UPDATE', `IF NEW.subscription_id = '${refused}' AND NEW.status = 'completed' THEN RAISE EXCEPTION 'host rule: not now'; END IF;`)
  try {
    const run = await scheduler.runNow()
    expect(run).toMatchObject({ processed: 5, successful: 4, retried: 2, failed: 1, skipped: 0 })
    const calls = worker.callsFor(refused)
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3])
    expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(1)
    const [row] = await rowsFor(db.pool, [refused])
    expect(row).toMatchObject({ status: 'failed', job_id: null })
    expect(row!.error).toContain('its success could not be recorded: host rule: not now')
    const failures = (await scheduler.listFailures({ limit: 10, runId: run.runId })).filter((f) => f.subscriptionId === refused)
    expect(failures.map((f) => [f.attempt, f.final]).sort()).toEqual([[1, false], [2, false], [3, true]])
    for (const id of ids.slice(1)) expect(worker.callsFor(id), id).toHaveLength(1)
    expect(logger.messages('warn')).toContainEqual(expect.stringMatching(/^Subscription .* failed \(attempt 3, no retry left: .*its success could not be recorded: host rule: not now/))
    // The rule lifted, the slot is tried again and recorded.
    await trigger.drop()
    await expect(scheduler.retryFailed({ subscriptionIds: [refused] })).resolves.toMatchObject({ processed: 1, successful: 1 })
    expect((await rowsFor(db.pool, [refused]))[0]).toMatchObject({ status: 'completed', error: null })
  } finally {
    await trigger.drop()
  }
})

test('a success refused once is recorded at its retry: the row completes, called twice with one key, and the run counts one retry', async () => {
  const { scheduler, worker, db } = await started()
  const [once] = await seedSubscriptions(db.pool, { count: 1 }) as [string]
  // A sequence is not rolled back with the refused update: only the first completion is refused.
  await db.pool.query('CREATE SEQUENCE refusals')
  const trigger = await addHostTrigger(db.pool, 'refuse_once', 'UPDATE', `IF NEW.subscription_id = '${once}' AND NEW.status = 'completed' AND nextval('refusals') = 1 THEN RAISE EXCEPTION 'host rule: not yet'; END IF;`)
  try {
    const run = await scheduler.runNow()
    expect(run).toMatchObject({ processed: 1, successful: 1, retried: 1, failed: 0 })
    const calls = worker.callsFor(once)
    expect(calls.map((c) => c.attempt)).toEqual([1, 2])
    expect(calls[1]!.idempotencyKey).toBe(calls[0]!.idempotencyKey)
    const [row] = await rowsFor(db.pool, [once])
    expect(row).toMatchObject({ status: 'completed', error: null, job_id: null })
  } finally {
    await trigger.drop()
    await db.pool.query('DROP SEQUENCE IF EXISTS refusals')
  }
})
