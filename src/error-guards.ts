/**
 * Whether a value is one of this library's errors, and of which kind: `instanceof` for this copy,
 * the code for an error from another copy of the library (its other build, or another version,
 * in the same process), whose classes are not this copy's.
 */
import { CODES, ConfigurationError, isWaitMs, PermanentError, RetryableError, SchedulerError, SubscriptionDataError } from './errors.js'
import type { SchedulerErrorCode } from './errors.js'

function hasCode(error: unknown, code: SchedulerErrorCode): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code
    && typeof (error as { name?: unknown }).name === 'string'
}

/** True for any error of this library, even one from another copy of it (another realm). */
export function isSchedulerError(error: unknown): error is SchedulerError {
  if (error instanceof SchedulerError) return true
  return typeof error === 'object' && error !== null
    && typeof (error as { name?: unknown }).name === 'string'
    && /Error$/.test((error as { name: string }).name)
    && (CODES as readonly unknown[]).includes((error as { code?: unknown }).code)
}

export function isConfigurationError(error: unknown): error is ConfigurationError {
  return error instanceof ConfigurationError || hasCode(error, 'CONFIGURATION')
}

/**
 * True when retrying cannot help: a {@link PermanentError}, a {@link SubscriptionDataError} (the
 * row must be fixed first), or anything flagged `permanent: true`.
 */
export function isPermanentError(error: unknown): boolean {
  if (error instanceof PermanentError || hasCode(error, 'PERMANENT')) return true
  if (error instanceof SubscriptionDataError || hasCode(error, 'SUBSCRIPTION_DATA')) return true
  return typeof error === 'object' && error !== null && (error as { permanent?: unknown }).permanent === true
}

export function isRetryableError(error: unknown): error is RetryableError {
  return error instanceof RetryableError || hasCode(error, 'RETRYABLE')
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
