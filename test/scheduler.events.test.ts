import { expect, test } from 'vitest'
import { ConfigurationError, PermanentError, RetryableError } from '../src/index.js'
import type { SchedulerEvents } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { pollUntil } from './support/reliability-support.js'
import { useStartedScheduler } from './support/schedulers.js'
import { seedSubscriptions } from './support/seed.js'

const worker = createFakeWorkerClient()
const logger = captureLogger()

const shared = useStartedScheduler({ workerClient: worker, logger, retry: { limit: 2, delaySeconds: 1, maxDelaySeconds: 1 } })

test('emits typed events for a run: started, each success, each failure with its attempt, retries, finished', async () => {
  const [ok, flaky, broken] = await seedSubscriptions(shared.db.pool, { count: 3 })
  worker.on(flaky!, { fail: new RetryableError('busy', { status: 503 }), failTimes: 1 })
  worker.on(broken!, { fail: new PermanentError('gone', { status: 410 }) })
  const seen: { [E in keyof SchedulerEvents]?: SchedulerEvents[E][] } = {}
  const record = <E extends keyof SchedulerEvents>(event: E) =>
    shared.scheduler.on(event, (payload) => void (seen[event] ??= []).push(payload as never))
  const off = (['run:started', 'run:finished', 'subscription:succeeded', 'subscription:failed', 'retry:scheduled'] as const).map(record)

  const summary = await shared.scheduler.runNow()
  off.forEach((unsubscribe) => unsubscribe())

  expect(seen['run:started']).toEqual([{ runId: summary.runId, trigger: 'manual', startedAt: expect.any(Date) }])
  expect(seen['run:finished']).toEqual([expect.objectContaining({ runId: summary.runId, processed: 3, successful: 2, failed: 1, retried: 1 })])
  expect(seen['subscription:succeeded']?.map((e) => [e.subscriptionId, e.attempt]).sort()).toEqual([[flaky, 2], [ok, 1]].sort())
  expect(seen['subscription:succeeded']?.every((e) => e.nextRunAt !== null && e.nextRunAt > new Date() && e.runId === summary.runId)).toBe(true)
  const failed = seen['subscription:failed'] ?? []
  expect(failed.map((e) => ({ id: e.subscriptionId, attempt: e.attempt, final: e.final, permanent: e.permanent, status: e.status, cancelled: e.cancelled })).sort((a, b) => a.attempt - b.attempt)).toEqual(
    expect.arrayContaining([
      { id: flaky, attempt: 1, final: false, permanent: false, status: 503, cancelled: false },
      { id: broken, attempt: 1, final: true, permanent: true, status: 410, cancelled: false },
    ]),
  )
  expect(seen['retry:scheduled']).toEqual([expect.objectContaining({ subscriptionId: flaky, attempt: 1, error: 'RetryableError: busy', status: 503, cancelled: false })])
})

test("run:started carries the instant the run was recorded as started, for a backfill as for a sweep", async () => {
  // Not due: the backfill's are its only calls.
  const [id] = await seedSubscriptions(shared.db.pool, { count: 1, nextRunInSeconds: 3600 })
  const started: SchedulerEvents['run:started'][] = []
  const off = shared.scheduler.on('run:started', (payload) => void started.push(payload))
  const now = Date.now()
  const { runId } = await shared.scheduler.backfill(id!, { from: new Date(now - 3 * 86_400_000), to: new Date(now - 60_000) })
  off()
  expect(started.map((e) => e.runId)).toEqual([runId])
  expect(started[0]!.startedAt).toEqual((await shared.scheduler.getRun(runId)).startedAt)
})

test('a listener that throws is logged and does not break processing', async () => {
  const [id] = await seedSubscriptions(shared.db.pool, { count: 1 })
  const off = shared.scheduler.on('subscription:succeeded', () => {
    throw new Error('listener bug')
  })
  const summary = await shared.scheduler.runNow()
  off()
  expect(summary.successful).toBe(1)
  expect(worker.callsFor(id!)).toHaveLength(1)
})

test('an async listener that rejects is logged, and its rejection never reaches the host process', async () => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => void unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  try {
    const [id] = await seedSubscriptions(shared.db.pool, { count: 1 })
    const off = shared.scheduler.on('subscription:succeeded', async () => {
      await Promise.resolve()
      throw new Error('alerting service down')
    })
    const summary = await shared.scheduler.runNow()
    off()
    expect(summary.successful).toBe(1)
    expect(worker.callsFor(id!)).toHaveLength(1)
    const logged = await pollUntil(() => logger.messages('error').find((m) => m.includes('alerting service down')), { timeoutMs: 5000, what: 'the rejection in the log' })
    expect(logged).toMatch(/'subscription:succeeded' listener/)
    expect(unhandled).toEqual([])
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
})

test('an event name the scheduler does not emit, or a listener that is no function, is a ConfigurationError at on()', () => {
  // A JavaScript caller's typo: without the check its listener would wait forever.
  expect(() => shared.scheduler.on('job:done' as never, () => {})).toThrow(/`event`: unknown event "job:done"\. The events are run:started, run:finished, subscription:succeeded/)
  // A near miss names the event meant.
  expect(() => shared.scheduler.on('subscription:failure' as never, () => {})).toThrow(/`event`: unknown event "subscription:failure"; did you mean `subscription:failed`\? The events are run:started/)
  expect(() => shared.scheduler.on('run:finished', undefined as never)).toThrow(ConfigurationError)
  const off = shared.scheduler.on('breaker:closed', () => {})
  off()
})
