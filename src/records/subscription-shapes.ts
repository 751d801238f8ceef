/**
 * What operators read of a subscription: its row with the host's fields (`getSubscription()`),
 * and its failures (`listFailures()`, `listFailing()`).
 */
import type { PausedReason, SubscriptionStatus } from '../db/names.js'
import type { HistoryEntry } from './history.js'

/** One failed attempt, as recorded for operators. */
export interface FailureRecord {
  /** The entry's own id: pass the last of a page as `before` to `listFailures()` for the next page. */
  id: string
  subscriptionId: string
  processingId: string
  runId: string | null
  scheduledFor: Date
  attempt: number
  /** True when no retry followed: the slot was recorded failed. */
  final: boolean
  error: string
  /** The worker's HTTP status, when the failure was an HTTP answer. */
  status: number | null
  failedAt: Date
}

/** A subscription whose last attempt failed: what `listFailing()` returns. */
export interface FailingSubscription {
  subscriptionId: string
  processingId: string
  status: SubscriptionStatus
  pausedReason: PausedReason | null
  /** The slot that failed. */
  scheduledFor: Date | null
  attempts: number
  consecutiveFailures: number
  /**
   * While `failed`: no sweep tries its slot again before this instant (`retry.failedSlotDelaySeconds`,
   * doubled for each run in a row it failed). Null when the next sweep may, or it is not `failed`.
   * `retryFailed()` and `runSubscription()` do not wait for it.
   */
  retryAt: Date | null
  error: string
  failedAt: Date | null
  nextRunAt: Date | null
  /** The subscription's own zone, which its slots are in; null: the scheduler's `timezone`. */
  timezone: string | null
}

/** A subscription's row, joined with the host's subscription, plus its recent errors. */
export interface SubscriptionDetails {
  processingId: string
  subscriptionId: string
  userId: string | null
  frequency: string | null
  /**
   * Null when `frequency` names a cadence of this scheduler (a built-in one, or of the
   * `frequencies` option); else what is done with it (the `unknownFrequency` option): `'daily'`,
   * run daily with a warning, or `'fail'`, not called. A `'Weekly'` for `'weekly'` runs daily.
   */
  unknownFrequency: 'daily' | 'fail' | null
  active: boolean
  status: SubscriptionStatus
  /**
   * Whether a job pg-boss still holds owns the row now (a call queued, in flight or waiting for
   * its retry), whose outcome sets the next slot: skip, reschedule and a run on demand wait for
   * it. False for a row whose job is gone (dead-lettered after its retries, or deleted), which
   * `runSubscription()` takes at once, and for a row the MVP left stuck in `processing`.
   */
  inFlight: boolean
  pausedReason: PausedReason | null
  timezone: string | null
  /** This subscription's own time of day, `'HH:MM'`; null means the scheduler's `runAt`. */
  runAt: string | null
  /** The slot that fixes the cadence's phase (weekday, day of month, date of year). */
  anchorAt: Date | null
  /** No slot before this instant. */
  startsAt: Date | null
  /** No slot after this instant; after its last slot the status is `ended`. */
  endsAt: Date | null
  /** A paused subscription resumes by itself at this instant. */
  pausedUntil: Date | null
  scheduledFor: Date | null
  nextRunAt: Date | null
  /** When its last successful call was recorded (a failure leaves it as it was). */
  lastRunAt: Date | null
  attempts: number
  consecutiveFailures: number
  /**
   * While `failed`: no sweep tries its slot again before this instant (`retry.failedSlotDelaySeconds`,
   * doubled for each run in a row it failed). Null when the next sweep may, or it is not `failed`.
   * `retryFailed()` and `runSubscription()` do not wait for it. While a retry of its slot waits out
   * its backoff (or the worker's `Retry-After`): when that retry is due.
   */
  retryAt: Date | null
  error: string | null
  lastResponse: unknown
  updatedAt: Date | null
  recentErrors: FailureRecord[]
  /** Skips, pauses, resumes, reschedules and backfills, newest first (at most 20). */
  history: HistoryEntry[]
}
