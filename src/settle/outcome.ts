/**
 * What a page job hands to the settle stage: the rows it called the worker for, and how each
 * call ended. Leaf module: the process stage produces these, the settle stage records them.
 */

import type { RowSchedule } from '../schedule/row-schedule.js'
import type { FailureDetail } from '../observe/events.js'

/** A row a job owns and may call the worker for, with what the call and the next slot need. */
export interface PageRow extends RowSchedule {
  id: string
  user_id: string | null
  scheduled_for: Date
  /** Attempts already recorded at this slot; this call is attempt `attempts + 1`. */
  attempts: number
  run_id: string
}

interface Called {
  /** The job that owns the row and made (or was to make) the call. */
  jobId: string
  row: PageRow
  /** This call's attempt number (1 for the first at its slot). */
  attempt: number
  /** When the call started (ms since the epoch), for fire lateness; null if it never started. */
  startedAt: number | null
}

export interface Success extends Called {
  kind: 'success'
  durationMs: number
  /** The row's next slot; null when its end (`ends_at`) has passed: it is then `ended`. */
  nextRunAt: Date | null
  /** The worker's answer, already bounded in size, or null. */
  response: unknown
}

export interface Failure extends Called {
  kind: 'failure'
  error: string
  /** The worker's HTTP status, when it answered. */
  status: number | null
  /** Retrying cannot help: a 4xx, a `PermanentError`, or data the row must have fixed. */
  permanent: boolean
  /** No retry follows: retries are spent, or retrying cannot help. */
  final: boolean
  /** For a retry: when it starts (backoff with jitter, or the worker's Retry-After). */
  retryAt: Date | null
  /** The wait the worker's `Retry-After` asked for, when it sent one the client could read. */
  retryAfterMs?: number | undefined
  /**
   * Cut short by `stop()`'s deadline: never final, and with no retry left the row is let go of
   * for the rescue to take at once, rather than recorded failed.
   */
  cancelled: boolean
}

/**
 * Never called, or cut short by its job's expiry: nothing is recorded for it. A row not yet
 * called when `stop()` began, or held back by the circuit breaker, goes to another job of its run
 * (`handOver`); after its job expired, pg-boss delivers the job again and the row stays with it.
 */
export interface Cancelled extends Called {
  kind: 'cancelled'
  handOver: boolean
  /**
   * Held back by the circuit breaker: handed over to a job that starts at this instant (ms since
   * the epoch, by the system clock), and claimed until that job has run. Its attempt is not used up.
   */
  resumeAt?: number | undefined
}

/** Not called after all: paused, deactivated or deleted while it waited its turn. Counted skipped. */
export interface Skipped extends Called {
  kind: 'skipped'
}

export type Outcome = Success | Failure | Cancelled | Skipped

/** The attempt after which no retry follows: `retry.limit` retries after the first call. */
export function isLastAttempt(retry: { limit: number }, attempt: number): boolean {
  return attempt >= retry.limit + 1
}

/** A failed attempt as the failure events tell it. */
export function failureDetail(o: Failure): FailureDetail {
  return { error: o.error, status: o.status, cancelled: o.cancelled }
}

/** Statuses that refuse the scheduler's credentials (a token rotated, a header missing), not one subscription. */
const REFUSING_CALLER = new Set([401, 403, 407])

/** Whether the outcome is the worker refusing the scheduler's credentials: every call would get the same. */
export function refusesCaller(outcome: Outcome): boolean {
  return outcome.kind === 'failure' && outcome.status !== null && REFUSING_CALLER.has(outcome.status)
}

/**
 * Whether a final failure is this subscription's own (a permanent answer about it: a 4xx, a
 * `PermanentError`, data to fix), which `pauseAfterConsecutiveFailures` pauses after; not one
 * that retries could not cure in time (a timeout, a 5xx, a worker down) nor a refusal of the
 * scheduler's credentials. A finance trial's two-day worker outage paused 55 healthy subscriptions.
 */
export function failsOnItsOwn(failure: Failure): boolean {
  return failure.permanent && !refusesCaller(failure)
}
