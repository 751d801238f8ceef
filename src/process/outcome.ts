/**
 * How a call ended, as the settle stage records it: a success with the row's next slot, a
 * failure that is retried (with backoff and jitter, or the worker's Retry-After) or final, or a
 * call cut short that is nobody's failure.
 */
import type { ResolvedOptions } from '../config/options.js'
import { isPermanentError, isRetryableError, retryAfterMsOf } from '../error-guards.js'
import { boundResponse } from '../db/storable.js'
import { isLastAttempt } from '../settle/outcome.js'
import type { Cancelled, Failure, PageRow, Success } from '../settle/outcome.js'
import { describeError, refusalText } from '../observe/describe-error.js'
import { nextSlot } from '../schedule/row-schedule.js'
import { withinCatchUpWindow } from '../schedule/catch-up-window.js'
import { FAILED_ATTEMPTS, FINAL_FAILURES, limitedLogOf } from '../observe/limited-log.js'
import { seconds } from '../error-text.js'

export interface Call {
  jobId: string
  row: PageRow
  attempt: number
  startedAt: number | null
}

export function success(options: ResolvedOptions, call: Call, response: unknown, durationMs: number): Success {
  return {
    kind: 'success',
    jobId: call.jobId,
    row: call.row,
    attempt: call.attempt,
    startedAt: call.startedAt,
    durationMs,
    nextRunAt: nextSlotInWindow(options, call.row),
    response: boundResponse(response, options.maxStoredResponseBytes),
  }
}

/** The slot after the one called; with a catch-up window, none older than it (schedule/catch-up-window.ts). */
export function nextSlotInWindow(options: ResolvedOptions, row: Call['row']): Date | null {
  const next = nextSlot(options, row, row.scheduled_for)
  if (next === null || options.catchUpWindowDays === null) return next
  return withinCatchUpWindow(options, row, next, options.clock.now())
}

/**
 * The wait before the retry after attempt `attempt`: exponential from `retry.delaySeconds`, capped
 * at `retry.maxDelaySeconds`, with jitter (half of it random); a longer Retry-After wins, capped too.
 */
export function retryDelayMs(options: ResolvedOptions, attempt: number, retryAfterMs: number | undefined): number {
  const { delaySeconds, maxDelaySeconds } = options.retry
  const capMs = maxDelaySeconds * 1000
  const backoffMs = Math.min(capMs, delaySeconds * 1000 * 2 ** Math.min(30, attempt - 1))
  const jittered = backoffMs / 2 + Math.random() * (backoffMs / 2)
  return retryAfterMs !== undefined && retryAfterMs > jittered ? Math.min(capMs, retryAfterMs) : jittered
}

/**
 * A failed call, logged. Cut short because its job expired, it stays with that job, which pg-boss
 * delivers again. Cut short by `stop()`'s deadline, it is recorded as a retry (the row's error
 * says why), but is never final and waits no backoff: the worker did not fail, so its row goes back
 * to the queue at once, for another instance.
 */
export function failure(options: ResolvedOptions, call: Call, error: unknown, cut: { cancelled: boolean; expired: boolean }): Failure | Cancelled {
  const outcome = failedCall(options, call, error, cut)
  logFailure(options, outcome)
  return outcome
}

/** What `failure()` records, not yet logged: a probe's failure is not an attempt, and says nothing. */
export function failedCall(options: ResolvedOptions, call: Call, error: unknown, cut: { cancelled: boolean; expired: boolean }): Failure | Cancelled {
  const permanent = isPermanentError(error)
  const { jobId, row, attempt, startedAt } = call
  if (!permanent && cut.expired && !cut.cancelled) return { kind: 'cancelled', jobId, row, attempt, startedAt, handOver: false }
  const cancelled = cut.cancelled && !permanent
  const final = !cancelled && (permanent || isLastAttempt(options.retry, attempt))
  const status = isRetryableError(error) || (error as { status?: unknown })?.status !== undefined ? ((error as { status?: number | undefined }).status ?? null) : null
  const retryAfterMs = retryAfterMsOf(error)
  return {
    kind: 'failure',
    jobId,
    row,
    attempt,
    startedAt,
    error: describeError(error),
    status: typeof status === 'number' ? status : null,
    permanent,
    final,
    cancelled,
    retryAt: final ? null : new Date(options.clock.now().getTime() + (cancelled ? 0 : retryDelayMs(options, attempt, retryAfterMs))),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  }
}

/**
 * A call that succeeded but whose success the database refused on its own row (a trigger or
 * constraint of the host's): a failed attempt like any other, retried with backoff and the same
 * key until retries are spent, then failed. Its row is neither called over and over by its job's
 * redeliveries nor left claimed for its lease, with its run unfinished.
 */
export function unrecordedSuccess(options: ResolvedOptions, outcome: Success, error: unknown): Failure | Cancelled {
  const said = error instanceof Error ? refusalText(error) : describeError(error)
  // The log line and the events say whether a retry follows: not this text, which the row keeps.
  const why = new Error(
    `the worker answered, but its success could not be recorded: ${said}. ` +
      `A trigger or constraint of yours on subscription_processing refusing the row's update?`,
  )
  return failure(options, outcome, why, { cancelled: false, expired: false })
}

/**
 * When a retry follows, and what the worker's `Retry-After` had to do with it: honoured, capped
 * by `retry.maxDelaySeconds`, or shorter than the backoff, which wins.
 */
function retryWait(options: ResolvedOptions, outcome: Failure): string {
  if (outcome.retryAt === null) return ''
  const inMs = Math.max(0, outcome.retryAt.getTime() - options.clock.now().getTime())
  const asked = outcome.retryAfterMs
  const capMs = options.retry.maxDelaySeconds * 1000
  const why = asked === undefined ? ''
    : asked > capMs ? ` (its Retry-After asked ${seconds(asked)}; retry.maxDelaySeconds caps the wait)`
    : asked >= inMs ? ' (its Retry-After)'
    : ` (its Retry-After asked ${seconds(asked)}, less than the backoff)`
  return ` in ${seconds(inMs)}${why}`
}

/** Most characters of a failure's error in its log line: a worker's 4 KB error page, every retry, buries the log. */
const LOGGED_ERROR_LENGTH = 500

/** A failure's error as its log line gives it: the row and the events keep it whole. */
function logged(error: string): string {
  if (error.length <= LOGGED_ERROR_LENGTH) return error
  return `${error.slice(0, LOGGED_ERROR_LENGTH)}… (${error.length - LOGGED_ERROR_LENGTH} more characters in the row's error, getSubscription() and listFailures())`
}

/** The line a failed call leaves in the log; one cut short by its job's expiry leaves none. */
export function logFailure(options: ResolvedOptions, outcome: Failure | Cancelled): void {
  if (outcome.kind === 'cancelled') return
  const { row, attempt } = outcome
  if (outcome.cancelled) {
    // No retry job follows the last attempt: the row is let go of, for the next sweep or rescue.
    const then = isLastAttempt(options.retry, attempt)
      ? 'on its last attempt, not a failure: the next sweep or rescue pass (any instance\'s, within a minute) calls it again.'
      : 'back in the queue for another instance.'
    options.logger.info(`Subscription ${row.subscription_id}: call cancelled by stop() (attempt ${attempt}); ${then}`)
  } else {
    // No retry left, and will be retried: each kind has its own lines a minute, so a storm of retries never hides a final failure.
    const kind = outcome.final ? FINAL_FAILURES : FAILED_ATTEMPTS
    const until = options.retry.failedSlotDelaySeconds > 0 ? 'a sweep after its delay (its retryAt)' : 'the next sweep'
    // A permanent answer is not retried whatever attempts are left: "no retry left" read as retries spent (a trial).
    const final = outcome.permanent ? 'permanent, not retried in this run' : 'no retry left'
    limitedLogOf(options, kind).warn(`Subscription ${row.subscription_id} failed (attempt ${attempt}${outcome.final ? `, ${final}: the row is failed until ${until} or retryFailed()` : `, will retry${retryWait(options, outcome)}`}): ${logged(outcome.error)}`)
  }
}
