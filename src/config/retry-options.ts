/**
 * The retry policy, validated: how often and how long after a failed call its slot is tried again
 * within its run, and how long a slot that failed for good waits before a sweep tries it again.
 */
import { nearestKey } from './suggest.js'
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import { nonNegativeInteger, positiveInteger } from './integers.js'
import { DEFAULTS } from './options.js'
import type { RetryOptions } from './options.js'

/** Every field of a retry policy, in the order errors and drifts name them (the record makes the list whole). */
export const RETRY_KEYS = Object.keys({ limit: true, delaySeconds: true, maxDelaySeconds: true, failedSlotDelaySeconds: true, failedSlotMaxDelaySeconds: true } as const satisfies Record<keyof RetryOptions, true>) as (keyof RetryOptions)[]

/** A slot retried for longer than a month is for retryFailed(), not for backoff. */
const MAX_RETRY_DELAY_SECONDS = 30 * 24 * 3600
const MAX_RETRY_LIMIT = 1000

export function resolveRetry(retry: RetryOptions | undefined): Required<RetryOptions> {
  if (retry !== undefined && (typeof retry !== 'object' || retry === null)) {
    throw new ConfigurationError('retry', `expected an object like { limit: 3, delaySeconds: 30 }, got ${shown(retry)}.`)
  }
  for (const key of Object.keys(retry ?? {})) {
    if (!(RETRY_KEYS as string[]).includes(key)) {
      throw new ConfigurationError(`retry.${key}`, `unknown key${nearestKey(key, RETRY_KEYS) || '.'} Known keys: ${RETRY_KEYS.join(', ')}.`)
    }
  }
  const resolved = {
    limit: nonNegativeInteger('retry.limit', retry?.limit ?? DEFAULTS.retry.limit, MAX_RETRY_LIMIT),
    delaySeconds: positiveInteger('retry.delaySeconds', retry?.delaySeconds ?? DEFAULTS.retry.delaySeconds, MAX_RETRY_DELAY_SECONDS),
    maxDelaySeconds: positiveInteger('retry.maxDelaySeconds', retry?.maxDelaySeconds ?? DEFAULTS.retry.maxDelaySeconds, MAX_RETRY_DELAY_SECONDS),
    ...failedSlotDelays(retry),
  }
  if (resolved.maxDelaySeconds < resolved.delaySeconds) {
    const given = retry?.maxDelaySeconds === undefined ? ' (the default)' : ''
    throw new ConfigurationError('retry.maxDelaySeconds', `must be at least retry.delaySeconds (${resolved.delaySeconds}), got ${resolved.maxDelaySeconds}${given}. Raise retry.maxDelaySeconds or lower retry.delaySeconds.`)
  }
  // Only both given can disagree: one alone moves the other's default (failedSlotDelays).
  if (resolved.failedSlotMaxDelaySeconds < resolved.failedSlotDelaySeconds) {
    throw new ConfigurationError(
      'retry.failedSlotMaxDelaySeconds',
      `must be at least retry.failedSlotDelaySeconds (${resolved.failedSlotDelaySeconds}), got ${resolved.failedSlotMaxDelaySeconds}. Raise retry.failedSlotMaxDelaySeconds or lower retry.failedSlotDelaySeconds.`,
    )
  }
  return resolved
}

/** The failed-slot delay and its bound: either given alone moves the default of the other, as far as it must. */
function failedSlotDelays(retry: RetryOptions | undefined): Pick<Required<RetryOptions>, 'failedSlotDelaySeconds' | 'failedSlotMaxDelaySeconds'> {
  const given = (key: 'failedSlotDelaySeconds' | 'failedSlotMaxDelaySeconds') =>
    retry?.[key] === undefined ? undefined : nonNegativeInteger(`retry.${key}`, retry[key], MAX_RETRY_DELAY_SECONDS)
  const delay = given('failedSlotDelaySeconds')
  const max = given('failedSlotMaxDelaySeconds')
  return {
    failedSlotDelaySeconds: delay ?? Math.min(DEFAULTS.retry.failedSlotDelaySeconds, max ?? Number.MAX_SAFE_INTEGER),
    failedSlotMaxDelaySeconds: max ?? Math.max(DEFAULTS.retry.failedSlotMaxDelaySeconds, delay ?? 0),
  }
}
