/**
 * A failed subscription's failed slot, once a control moves its next slot off it, is given up:
 * the row no longer fails, nor lists as failing, and no retry calls the slot ahead before it
 * comes, whichever control moved it (a pause until an instant, a resume that does not replay the
 * paused slots, a skip after a resume, a reschedule while paused after failing). And an operator
 * running the failed slot again by hand, as a retry, is not another failed run. Real Postgres and
 * pg-boss; the clock is manual.
 */
import { describe, expect, test } from 'vitest'
import { PermanentError } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { useStartedScheduler } from './support/schedulers.js'

const clock = createManualClock('2026-03-02T08:00:00.000Z') // Monday, 08:00 UTC
const worker = createFakeWorkerClient()
const logger = captureLogger()

// Failed runs in a row, one sweep after another: no delay between a failure and the next sweep's retry.
const shared = useStartedScheduler({ workerClient: worker, clock, logger, pauseAfterConsecutiveFailures: 2, retry: { failedSlotDelaySeconds: 0 } })

const at = (iso: string) => new Date(iso)
const FAILED_SLOT = '2026-03-02T09:00:00.000Z'

/** A daily subscription at 09:00 whose 2 March slot failed for good `times` runs in a row. */
async function failing(times: 1 | 2): Promise<string> {
  clock.set('2026-03-02T08:00:00.000Z')
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
  const id = rows[0]!.id
  await shared.scheduler.enroll(id, { runAt: '09:00' })
  worker.on(id, { fail: new PermanentError('card declined') })
  clock.set('2026-03-02T09:00:05.000Z')
  for (let run = 0; run < times; run++) await shared.scheduler.runNow()
  expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: times === 1 ? 'failed' : 'paused', error: expect.stringContaining('card declined') })
  return id
}

const failingIds = async () => (await shared.scheduler.listFailing({ limit: 500 })).map((f) => f.subscriptionId)

/** The row no longer fails, and nothing retries its given-up slot: a retry calls nobody. */
async function expectGivenUp(id: string): Promise<void> {
  const row = await shared.scheduler.getSubscription(id)
  expect(row.error, 'error').toBeNull()
  expect(row.recentErrors.map((e) => e.error)).toContainEqual(expect.stringContaining('card declined'))
  expect(await failingIds()).not.toContain(id)
  const calls = worker.callsFor(id).length
  await expect(shared.scheduler.retryFailed({ subscriptionIds: [id] })).resolves.toMatchObject({ processed: 0 })
  expect(worker.callsFor(id)).toHaveLength(calls)
}

describe('a failed slot given up by a control', () => {
  test('pause({ until }) past the failed slot gives it up, during the pause and after a resume by hand', async () => {
    const id = await failing(1)
    await shared.scheduler.pause(id, { until: at('2026-03-04T00:00:00.000Z') })
    await expectGivenUp(id)
    await shared.scheduler.resume(id)
    expect((await shared.scheduler.getSubscription(id)).status).toBe('pending')
    await expectGivenUp(id)
  })

  test('paused and resumed, a failed row is failed again, its slot due; a skip then gives it up', async () => {
    const id = await failing(1)
    await shared.scheduler.pause(id)
    await shared.scheduler.resume(id)
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed', nextRunAt: at(FAILED_SLOT), error: expect.stringContaining('card declined') })
    expect(await failingIds()).toContain(id)
    const { skipped } = await shared.scheduler.skipNext(id)
    expect(skipped).not.toBeNull()
    await expectGivenUp(id)
  })

  test('paused after failing in a row and rescheduled: paused as by hand, no longer failing; resumed, it waits for its new slot', async () => {
    const id = await failing(2)
    await shared.scheduler.reschedule(id, { runAt: '10:00' })
    const moved = await shared.scheduler.getSubscription(id)
    expect(moved).toMatchObject({ status: 'paused', pausedReason: 'manual' })
    await expectGivenUp(id)
    await shared.scheduler.resume(id)
    const resumed = await shared.scheduler.getSubscription(id)
    expect(resumed.status).toBe('pending')
    expect(resumed.nextRunAt!.getTime()).toBeGreaterThan(clock.now().getTime())
    await shared.scheduler.runNow()
    expect(worker.callsFor(id).map((c) => c.scheduledFor)).toEqual([FAILED_SLOT, FAILED_SLOT])
  })

  test('resumed as it was, a subscription paused after failing keeps its failed slot, which the next sweep retries', async () => {
    const id = await failing(2)
    // As the refusal of a run by hand says.
    await expect(shared.scheduler.runSubscription(id)).rejects.toThrow(/resume\(id\) leaves it failed, that slot due, for the next sweep \(or a retry\) to retry/)
    await shared.scheduler.resume(id)
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed', nextRunAt: at(FAILED_SLOT), error: expect.stringContaining('card declined') })
    expect(await failingIds()).toContain(id)
    await shared.scheduler.runNow()
    expect(worker.callsFor(id).map((c) => c.scheduledFor)).toEqual([FAILED_SLOT, FAILED_SLOT, FAILED_SLOT])
  })

  test.each([
    ['paused by hand', 1, 'pause'],
    ['paused after failing in a row', 2, 'failures'],
  ] as const)('%s and resumed, a failed row is retried by retryFailed() (the dashboard\'s Retry, the CLI\'s retry-failed), its failures counted afresh', async (_, times, how) => {
    const id = await failing(times)
    if (how === 'pause') await shared.scheduler.pause(id)
    await shared.scheduler.resume(id)
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed', consecutiveFailures: 0 })
    await expect(shared.scheduler.retryFailed({ subscriptionIds: [id] })).resolves.toMatchObject({ processed: 1 })
    expect(worker.callsFor(id).map((c) => c.scheduledFor)).toEqual([...Array(times).fill(FAILED_SLOT), FAILED_SLOT])
    // The resume gave it a fresh count: one more failure does not pause it (after 2).
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed', error: expect.stringContaining('card declined') })
  })
})

describe('runSubscription() of a failed slot', () => {
  test('failing again is not another failed run: the row is not paused by pauseAfterConsecutiveFailures', async () => {
    const id = await failing(1)
    await shared.scheduler.runSubscription(id)
    expect(worker.callsFor(id).map((c) => c.scheduledFor)).toEqual([FAILED_SLOT, FAILED_SLOT])
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'failed', consecutiveFailures: 1, nextRunAt: at(FAILED_SLOT) })
    // A sweep's own retry of it still counts, and pauses it.
    await shared.scheduler.runNow()
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'paused', pausedReason: 'failures', consecutiveFailures: 2 })
  })

  test('a retry of a slot paused after failing that fails again says it is paused again, not that it failed another run', async () => {
    const id = await failing(2)
    const pausedLines = () => logger.entries.filter((e) => e.level === 'warn' && e.message.startsWith(`Subscription ${id} `) && e.message.includes('paused')).map((e) => e.message)
    expect(pausedLines()).toEqual([`Subscription ${id} paused after 2 failed runs in a row; resume() or retryFailed() picks it again.`])
    await shared.scheduler.retryFailed({ subscriptionIds: [id] })
    expect(await shared.scheduler.getSubscription(id)).toMatchObject({ status: 'paused', pausedReason: 'failures', consecutiveFailures: 2 })
    expect(pausedLines()).toEqual([
      `Subscription ${id} paused after 2 failed runs in a row; resume() or retryFailed() picks it again.`,
      `Subscription ${id} is paused again: the retry of its failed slot failed too (no failed run more counted; it had failed 2 in a row). Fix the worker or its data, then resume() or retryFailed().`,
    ])
  })
})
