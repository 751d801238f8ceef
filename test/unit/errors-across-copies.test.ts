/**
 * Two copies of the library in one process (an ESM app whose plugin `require()`s the CJS build,
 * or two versions in node_modules) have two sets of error classes. A host's `instanceof` checks,
 * as the README's quick start writes them, must still recognise the other copy's errors, by
 * code, and the guards must narrow.
 */
import { expect, test, vi } from 'vitest'
import * as here from '../../src/errors.js'

/** A second copy of errors.ts: a fresh module instance, with classes of its own. */
async function otherCopy(): Promise<typeof here> {
  vi.resetModules()
  return await import('../../src/errors.js')
}

test('the second copy really has classes of its own', async () => {
  const other = await otherCopy()
  expect(other.NotFoundError).not.toBe(here.NotFoundError)
})

test("instanceof recognises the other copy's errors by class, and only its own class", async () => {
  const other = await otherCopy()
  const notFound = new other.NotFoundError('Subscription x is not enrolled.')
  expect(notFound instanceof here.NotFoundError).toBe(true)
  expect(notFound instanceof here.SchedulerError).toBe(true)
  expect(notFound instanceof Error).toBe(true)
  expect(notFound instanceof here.NotStartedError).toBe(false)
  expect(notFound instanceof here.ConfigurationError).toBe(false)

  const stopped = new other.NotStartedError('runNow', 'the scheduler stopped', 'run-1')
  expect(stopped instanceof here.NotStartedError).toBe(true)
  expect(new other.ConfigurationError('concurrency', 'must be a whole number') instanceof here.ConfigurationError).toBe(true)
  expect(new other.PermanentError('gone', { status: 410 }) instanceof here.PermanentError).toBe(true)
  expect(new other.RetryableError('busy') instanceof here.PermanentError).toBe(false)
  expect(new other.SubscriptionStateError('paused', { subscriptionId: 'sub-1' }) instanceof here.SubscriptionStateError).toBe(true)
  expect(new other.SubscriptionStateError('paused', { subscriptionId: 'sub-1' }) instanceof here.SubscriptionBusyError).toBe(false)
})

test('a look-alike that is not one of the library errors is not taken for one', () => {
  const lookAlike = Object.assign(new Error('no'), { name: 'NotFoundError', code: 'NOT_FOUND' })
  expect(lookAlike instanceof here.NotFoundError).toBe(false)
  expect(lookAlike instanceof here.SchedulerError).toBe(false)
  expect((null as unknown) instanceof here.SchedulerError).toBe(false)
  expect(('NOT_FOUND' as unknown) instanceof here.NotFoundError).toBe(false)
})

test("a host's own subclass keeps plain instanceof: the other copy's base errors are not its instances", async () => {
  class GoneError extends here.PermanentError {}
  const other = await otherCopy()
  expect(new GoneError('gone') instanceof GoneError).toBe(true)
  expect(new GoneError('gone') instanceof here.PermanentError).toBe(true)
  expect(new other.PermanentError('gone') instanceof GoneError).toBe(false)
})

test('each error class narrows its code', () => {
  const error: unknown = new here.MigrationError('failed')
  if (error instanceof here.MigrationError) {
    const code: 'MIGRATION' = error.code
    expect(code).toBe('MIGRATION')
  }
})

test("the guards take another copy's errors, and not another library's errors that share a code", async () => {
  const guards = await import('../../src/error-guards.js')
  const other = await otherCopy()
  expect(guards.isSchedulerError(new other.NotFoundError('gone'))).toBe(true)
  expect(guards.isConfigurationError(new other.ConfigurationError('concurrency', 'bad'))).toBe(true)
  expect(guards.isRetryableError(new other.RetryableError('busy'))).toBe(true)
  expect(guards.isPermanentError(new other.PermanentError('gone'))).toBe(true)
  expect(guards.isPermanentError(new other.SubscriptionDataError('bad row'))).toBe(true)

  // A trial's error middleware sent tRPC's errors down its scheduler branch: name and code matched.
  class TRPCError extends Error {
    code = 'NOT_FOUND'
    override name = 'TRPCError'
  }
  const foreign = [
    new TRPCError('no such route'),
    Object.assign(new Error('locked'), { code: 'SUBSCRIPTION_BUSY' }),
    Object.assign(new Error('bad config'), { name: 'ConfigError', code: 'CONFIGURATION' }),
    Object.assign(new Error('try later'), { name: 'RetryableError', code: 'RETRYABLE' }),
    Object.assign(new Error('never'), { name: 'PermanentError', code: 'PERMANENT' }),
  ]
  for (const error of foreign) {
    expect([guards.isSchedulerError(error), guards.isConfigurationError(error), guards.isRetryableError(error), guards.isPermanentError(error)]).toEqual([false, false, false, false])
  }
  // The flag stays the way to mark an error of one's own as permanent.
  expect(guards.isPermanentError(Object.assign(new Error('card closed'), { permanent: true }))).toBe(true)
})

test("a base SchedulerError given a subclass's code is not that subclass: it lacks the subclass's fields", async () => {
  const other = await otherCopy()
  for (const base of [new here.SchedulerError('SUBSCRIPTION_BUSY', 'x'), new other.SchedulerError('SUBSCRIPTION_BUSY', 'x')]) {
    expect(base instanceof here.SchedulerError).toBe(true)
    expect(base instanceof here.SubscriptionBusyError).toBe(false)
  }
  expect(new other.SchedulerError('CALLS_PAUSED', 'x') instanceof here.CallsPausedError).toBe(false)
  expect(new other.SchedulerError('CONFIGURATION', 'x') instanceof here.ConfigurationError).toBe(false)
})
