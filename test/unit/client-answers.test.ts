/**
 * What a custom worker client's answers mean when they are not quite what the contract says: an
 * Error returned instead of thrown, a plain error flagged with the wait the worker asked for, and
 * a RetryableError given a wait that is no number of milliseconds (a trial's custom client saw
 * the first recorded as a success, the second ignored, the third logged as "asked NaN s").
 */
import { expect, test } from 'vitest'
import { resolveOptions } from '../../src/config/resolve-options.js'
import { PermanentError, RetryableError } from '../../src/errors.js'
import { isPermanentError } from '../../src/error-guards.js'
import { openCallScope } from '../../src/process/call-worker.js'
import type { ProcessorContext } from '../../src/process/context.js'
import { failure } from '../../src/process/outcome.js'
import type { PageRow } from '../../src/settle/outcome.js'
import type { WorkerClient } from '../../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../../src/testing.js'

const row = (n: number) => ({ id: `row-${n}`, subscription_id: `sub-${n}`, user_id: null, scheduled_for: new Date('2026-03-20T09:00:00Z'), attempts: 0, run_id: 'run' }) as unknown as PageRow

test('an Error a client returns instead of throwing fails the call as if thrown (a PermanentError stays permanent), said once per client', async () => {
  const logger = captureLogger()
  let answer: unknown = new PermanentError('no card on file')
  const workerClient: WorkerClient = { process: async () => answer }
  const ctx = { options: { workerTimeoutMs: 5_000, logger }, cancelSignal: new AbortController().signal, workerClient, unanswered: { calls: 0 } } as unknown as ProcessorContext
  const scope = openCallScope(ctx, new AbortController().signal)
  const refused = await scope.call(row(1), 'user-1', 1).catch((error: unknown) => error)
  expect(refused).toBeInstanceOf(PermanentError)
  expect(isPermanentError(refused)).toBe(true)
  answer = new Error('card declined')
  await expect(scope.call(row(2), 'user-2', 1)).rejects.toThrow('card declined')
  // Anything else it resolves with is an answer, as before.
  answer = { charged: true }
  await expect(scope.call(row(3), 'user-3', 1)).resolves.toEqual({ charged: true })
  scope.close()
  expect(logger.messages('warn')).toEqual([
    "The worker client's process() resolved with an error (PermanentError: no card on file) instead of throwing it: the call fails with it, as if thrown. Throw it (or return a rejected promise) to fail a call.",
  ])
})

test("a plain error flagged with retryAfterMs gets the wait it asked for, as one flagged permanent is not retried", () => {
  const logger = captureLogger()
  const options = resolveOptions({ workerClient: createFakeWorkerClient(), logger, clock: createManualClock('2026-03-20T12:00:00Z'), retry: { limit: 3, delaySeconds: 1, maxDelaySeconds: 60 } })
  const cut = { cancelled: false, expired: false }
  failure(options, { jobId: 'job', row: row(1), attempt: 1, startedAt: null }, Object.assign(new Error('rate limited'), { retryAfterMs: 15_000 }), cut)
  // One that is no number of milliseconds is not a wait: the backoff applies.
  failure(options, { jobId: 'job', row: row(2), attempt: 1, startedAt: null }, Object.assign(new Error('rate limited'), { retryAfterMs: '15s' }), cut)
  const [asked, unusable] = logger.messages('warn')
  expect(asked).toMatch(/^Subscription sub-1 failed \(attempt 1, will retry in 15\.0 s \(its Retry-After\)\): rate limited/)
  expect(unusable).toMatch(/^Subscription sub-2 failed \(attempt 1, will retry in (0\.[5-9]|1\.0) s\): rate limited/)
})

test.each([Number.NaN, -5, Number.POSITIVE_INFINITY, '3000'])('RetryableError refuses retryAfterMs %s, saying what it takes', (retryAfterMs) => {
  expect(() => new RetryableError('busy', { retryAfterMs: retryAfterMs as number })).toThrow(
    new RangeError(`RetryableError: retryAfterMs must be a number of milliseconds, 0 or more, got ${String(retryAfterMs)}; leave it out to wait the retry backoff.`),
  )
  expect(new RetryableError('busy', { retryAfterMs: 0 }).retryAfterMs).toBe(0)
  expect(new RetryableError('busy', { retryAfterMs: undefined }).retryAfterMs).toBeUndefined()
})

test('a client that ignores its signal and answers after its call timed out is said to, with what it answered; one that honours it is not', async () => {
  const logger = captureLogger()
  const clock = createManualClock('2026-03-20T12:00:00Z')
  const answered: string[] = []
  const workerClient: WorkerClient = {
    async process(request, { signal }) {
      if (request.subscriptionId === 'sub-1') {
        // Charges all the same: the signal is ignored.
        await new Promise((resolve) => setTimeout(resolve, 1_200))
        answered.push(request.subscriptionId)
        return { charged: true }
      }
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))
    },
  }
  const ctx = { options: { workerTimeoutMs: 50, logger, clock }, cancelSignal: new AbortController().signal, workerClient, unanswered: { calls: 0 } } as unknown as ProcessorContext
  const scope = openCallScope(ctx, new AbortController().signal)
  await expect(scope.call(row(1), 'user-1', 1)).rejects.toThrow('timed out after 50 ms')
  await expect(scope.call(row(2), 'user-2', 1)).rejects.toThrow('timed out after 50 ms')
  await expect.poll(() => answered, { timeout: 5_000 }).toEqual(['sub-1'])
  await expect.poll(() => logger.messages('warn'), { timeout: 5_000 }).toEqual([
    expect.stringMatching(
      /^The worker client answered subscription sub-1's call \(attempt 1, key sub-1:2026-03-20T09:00:00\.000Z\) 1\.\d s after it had ended \(timed out after 50 ms\): it succeeded, but its row records the call's end\. The client ignores its `signal`/,
    ),
  ])
  scope.close()
})
