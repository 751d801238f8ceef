/**
 * Timestamps of `subscription_processing` that a host wrote by hand as `infinity` or
 * `-infinity`. Postgres takes them; `pg` reads them as the numbers `Infinity` and `-Infinity`,
 * not Dates, and date arithmetic on them throws. What they plainly mean is read as such (a start
 * of `-infinity` is no start, an end of `infinity` no end, a slot due since `-infinity` is due
 * now: claim-sql.ts); any other is refused on its own row, naming the column and the fix.
 */
import { SubscriptionDataError } from '../errors.js'

/** The columns read, with what NULL means in each: the fix a message offers. */
const NULL_MEANS = {
  next_run_at: 'due at the next sweep',
  anchor_at: 'the first slot sets it',
  starts_at: 'no start',
  ends_at: 'no end',
  paused_until: 'paused until resumed',
} as const

export type InstantColumn = keyof typeof NULL_MEANS

/** `starts_at` and `ends_at` as selected from `sp`, their plain infinities read as NULL (no start, no end). */
export const START_END_COLUMNS = `CASE WHEN sp.starts_at = '-infinity' THEN NULL ELSE sp.starts_at END AS starts_at,
              CASE WHEN sp.ends_at = 'infinity' THEN NULL ELSE sp.ends_at END AS ends_at`

/** `next_run_at` as selected from `sp`, due since `-infinity` read as NULL: due at the next sweep, as a sweep takes it. */
export const NEXT_RUN_COLUMN = `CASE WHEN sp.next_run_at = '-infinity' THEN NULL ELSE sp.next_run_at END AS next_run_at`

/**
 * The error for the first of `columns` whose value is not an instant (nor NULL), or null when
 * every one is.
 */
export function nonInstant<T extends Partial<Record<InstantColumn, unknown>>>(
  row: T & { subscription_id: string },
  columns: readonly (InstantColumn & keyof T)[],
): SubscriptionDataError | null {
  for (const column of columns) {
    const value = row[column]
    if (value === null || value === undefined || value instanceof Date) continue
    const shown = value === Infinity ? 'infinity' : value === -Infinity ? '-infinity' : JSON.stringify(value)
    return new SubscriptionDataError(
      `Subscription ${row.subscription_id} has ${column} ${shown}, which is not an instant; set subscription_processing.${column} ` +
        `to an instant, or to NULL (${NULL_MEANS[column]}).`,
      { subscriptionId: row.subscription_id, column: `subscription_processing.${column}` },
    )
  }
  return null
}

/**
 * A timestamp as the API returns it: a Date, or null for NULL and for an `infinity` or `-infinity`
 * written by hand, which `pg` reads as a number (typed code's `nextRunAt?.toISOString()` threw).
 */
export function shownInstant(value: Date | number | null): Date | null {
  return value instanceof Date ? value : null
}

/** When a sweep may try a failed row's slot again (`retry_at`): null when the next one may, or the row is not `failed`. */
export function failedSlotRetryAt(row: { status: string; retry_at: Date | null }): Date | null {
  return row.status === 'failed' ? shownInstant(row.retry_at) : null
}

/**
 * The next slot a failed run on demand kept (recordFinalFailures()), while the row is on that
 * failed slot (a retry of it, or a control reading it): once the row has left it, the value is
 * stale. An older version, beside this one in a rolling deploy or after a rollback, completes a
 * row without clearing it, and a later success jumped to that old slot, dropping the ones before.
 */
export const KEPT_NEXT = `(CASE WHEN sp.last_failed_for = sp.scheduled_for THEN sp.kept_next_run_at END)`
