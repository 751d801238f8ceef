/**
 * Whether a value is one of this library's errors, and of which kind. Each is `instanceof`, which
 * also recognises an error of another copy of the library in the process (its other build, another
 * version, a `vm` context): every copy brands its errors with a symbol of the global registry.
 * A look-alike of another library (a `code: 'NOT_FOUND'` of its own) is not taken for one.
 */
import { ConfigurationError, isWaitMs, PermanentError, RetryableError, SchedulerError, SubscriptionDataError } from './errors.js'

/** True for any error of this library, even one from another copy of it (another realm). */
export function isSchedulerError(error: unknown): error is SchedulerError {
  return error instanceof SchedulerError
}

export function isConfigurationError(error: unknown): error is ConfigurationError {
  return error instanceof ConfigurationError
}

/**
 * True when retrying cannot help: a {@link PermanentError}, a {@link SubscriptionDataError} (the
 * row must be fixed first), or anything flagged `permanent: true`.
 */
export function isPermanentError(error: unknown): boolean {
  if (error instanceof PermanentError || error instanceof SubscriptionDataError) return true
  return typeof error === 'object' && error !== null && (error as { permanent?: unknown }).permanent === true
}

export function isRetryableError(error: unknown): error is RetryableError {
  return error instanceof RetryableError
}

/**
 * How long the worker asked to wait before a retry: a {@link RetryableError}'s `retryAfterMs`, or
 * that of any error flagged with one (as `permanent: true` flags any error), when it is a number
 * of milliseconds, 0 or more.
 */
export function retryAfterMsOf(error: unknown): number | undefined {
  const asked = typeof error === 'object' && error !== null ? (error as { retryAfterMs?: unknown }).retryAfterMs : undefined
  return isWaitMs(asked) ? asked : undefined
}
