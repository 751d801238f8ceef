/**
 * The log lines of failed calls: counted a minute at a time, and slots given up on apart from
 * attempts that will be retried, so that a storm of retries never hides a slot given up on (a
 * new user's trial: 191 dead-lettered subscriptions, none of them said, behind 20 retry lines).
 */
import { expect, test } from 'vitest'
import { resolveOptions } from '../../src/config/resolve-options.js'
import { failure } from '../../src/process/outcome.js'
import type { PageRow } from '../../src/settle/outcome.js'
import { PermanentError, RetryableError } from '../../src/errors.js'
import { LINES_PER_MINUTE } from '../../src/observe/limited-log.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../../src/testing.js'

const row = (n: number) => ({ id: `row-${n}`, subscription_id: `sub-${n}`, user_id: null, scheduled_for: new Date('2026-03-20T09:00:00Z'), attempts: 0, run_id: 'run' }) as unknown as PageRow

test('a slot given up on is logged even once the minute has had its lines of attempts that will be retried', () => {
  const logger = captureLogger()
  const options = resolveOptions({ workerClient: createFakeWorkerClient(), logger, clock: createManualClock('2026-03-20T12:00:00Z'), retry: { limit: 3 } })
  const cut = { cancelled: false, expired: false }
  for (let i = 0; i < LINES_PER_MINUTE + 10; i++) failure(options, { jobId: 'job', row: row(i), attempt: 1, startedAt: null }, new RetryableError('Worker answered 503'), cut)
  failure(options, { jobId: 'job', row: row(999), attempt: 1, startedAt: null }, new PermanentError('Worker answered 404'), cut)
  const warned = logger.messages('warn')
  expect(warned.filter((m) => / will retry in \d+\.\d s\)/.test(m))).toHaveLength(LINES_PER_MINUTE)
  expect(warned).toContainEqual(expect.stringMatching(/^Subscription sub-999 failed \(attempt 1, permanent, not retried in this run: the row is failed until a sweep after its delay \(its retryAt\) or retryFailed\(\)\): PermanentError: Worker answered 404/))
})

test("a retry's line says when it comes, and what the worker's Retry-After had to do with it: honoured, capped, or shorter than the backoff", () => {
  const logger = captureLogger()
  const options = resolveOptions({ workerClient: createFakeWorkerClient(), logger, clock: createManualClock('2026-03-20T12:00:00Z'), retry: { limit: 3, delaySeconds: 10, maxDelaySeconds: 60 } })
  const cut = { cancelled: false, expired: false }
  const fail = (n: number, retryAfterMs?: number) => failure(options, { jobId: 'job', row: row(n), attempt: 1, startedAt: null }, new RetryableError('Worker answered 503', { status: 503, retryAfterMs }), cut)
  fail(1, 30_000)
  fail(2, 120_000)
  fail(3, 1_000)
  fail(4)
  const [honoured, capped, shorter, none] = logger.messages('warn')
  expect(honoured).toMatch(/^Subscription sub-1 failed \(attempt 1, will retry in 30\.0 s \(its Retry-After\)\): /)
  expect(capped).toMatch(/^Subscription sub-2 failed \(attempt 1, will retry in 60\.0 s \(its Retry-After asked 120\.0 s; retry\.maxDelaySeconds caps the wait\)\): /)
  // The backoff of a first retry is 5 to 10 s (10 s, half of it jitter).
  expect(shorter).toMatch(/^Subscription sub-3 failed \(attempt 1, will retry in ([5-9]\.\d|10\.0) s \(its Retry-After asked 1\.0 s, less than the backoff\)\): /)
  expect(none).toMatch(/^Subscription sub-4 failed \(attempt 1, will retry in ([5-9]\.\d|10\.0) s\): /)
})
