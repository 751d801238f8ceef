/**
 * `subscription_processing`: one row per subscription, in the host's own schema, where the
 * original design put it.
 */
import { sql } from 'drizzle-orm'
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core'
import type { PausedReason, SubscriptionStatus } from '../names.js'
import { timestamptz } from './columns.js'

/**
 * One row per subscription: its status, its slot and the next one. The first nine columns are
 * those of the table of the original scheduler design, unchanged, so an existing one is adopted in place.
 */
export const subscriptionProcessing = pgTable(
  'subscription_processing',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** References the host's `subscriptions(id)` with `ON DELETE CASCADE` (added in SQL). */
    subscriptionId: uuid('subscription_id').notNull(),
    status: varchar('status', { length: 50 }).$type<SubscriptionStatus>().notNull().default('pending'),
    nextRunAt: timestamptz('next_run_at'),
    lastRunAt: timestamptz('last_run_at'),
    error: text('error'),
    metadata: jsonb('metadata').default({}),
    createdAt: timestamptz('created_at').defaultNow(),
    updatedAt: timestamptz('updated_at').defaultNow(),
    /** IANA zone of this subscription; null means the scheduler's `timezone` option. */
    timezone: text('timezone'),
    /** The slot being (or last) processed: the run time the row was due at when claimed. */
    scheduledFor: timestamptz('scheduled_for'),
    /** The first slot ever processed; weekly keeps its weekday, monthly its day of month. */
    anchorAt: timestamptz('anchor_at'),
    /** The slot of the last recorded completion: a slot is never completed twice. */
    lastCompletedFor: timestamptz('last_completed_for'),
    /** Attempts made at the current slot. */
    attempts: integer('attempts').notNull().default(0),
    /** Slots failed in a row; reset by a success. */
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    claimedAt: timestamptz('claimed_at'),
    /** While queued or processing, the claim is void after this instant and the row is taken again. */
    leaseExpiresAt: timestamptz('lease_expires_at'),
    /** The run that last claimed the row. */
    runId: uuid('run_id'),
    /**
     * The pg-boss job that owns the row while it is queued: only that job may call the worker for
     * it and record its outcome. Cleared when the outcome is recorded.
     */
    jobId: uuid('job_id'),
    /** The slot of the last failure recorded for good: failing the same slot again is not a new failed run. */
    lastFailedFor: timestamptz('last_failed_for'),
    /**
     * While `failed`, no sweep tries its slot again before this instant: the failure's time plus
     * `retry.failedSlotDelaySeconds`, doubled for each run in a row it failed. Null: the next sweep.
     */
    retryAt: timestamptz('retry_at'),
    /** Why a `paused` row is paused: `manual`, or `failures` (failed too many runs in a row). */
    pausedReason: text('paused_reason').$type<PausedReason>(),
    /** The worker's last answer, truncated to a few kilobytes. */
    lastResponse: jsonb('last_response'),
    /** This subscription's own time of day, 'HH:MM'; null means the scheduler's `runAt`. */
    runAt: text('run_at'),
    /** No slot before this instant. */
    startsAt: timestamptz('starts_at'),
    /** No slot after this instant: after its last one the row is `ended`. */
    endsAt: timestamptz('ends_at'),
    /** A `paused` row resumes by itself at this instant (its `next_run_at` is already set past it). */
    pausedUntil: timestamptz('paused_until'),
    /**
     * Whether `anchor_at` was given (an `anchor` to `enroll()` or `reschedule()`), not taken from
     * `startsAt`, the day of enrolment or the first slot: until its first run, a new `startsAt`
     * moves a phase not given.
     */
    anchorGiven: boolean('anchor_given').notNull().default(false),
    /**
     * The next slot the row had when a run on demand (`runSubscription()`), made before it, failed:
     * `next_run_at` then holds the failed run's instant, to retry it under its key, and the success
     * goes on from here, not from that instant (a slot skipped meanwhile stays skipped). Null otherwise.
     */
    keptNextRunAt: timestamptz('kept_next_run_at'),
    /**
     * The instant the row's first success was called for, when the row had no phase yet: a new
     * subscription's first sweep calls it at the sweep's instant (or a `runSubscription()` at the
     * instant asked), off its cadence's time of day, and that spends the slot of its local day.
     * `backfill()` calls that day under this key, the one the worker saw. Null before, and for a row
     * whose first slot was computed (enrolled with a `runAt`, `anchor` or `startsAt`).
     */
    firstRunFor: timestamptz('first_run_for'),
  },
  (t) => [
    uniqueIndex('subscription_processing_subscription_id_key').on(t.subscriptionId),
    // Sweeps walk these in key order (keyset pages), so an idle sweep is one index probe and a
    // busy one never rescans rows it has passed. NULL sorts first, as "due since forever". A
    // failed row sorts at its retry_at when that is later: rows waiting out a retry delay lie
    // beyond the sweep's range, not walked by every sweep (sweep/claim-sql.ts, DUE_KEY).
    index('subscription_processing_due_idx')
      .on(sql`GREATEST(COALESCE(${t.nextRunAt}, '-infinity'::timestamptz), CASE WHEN ${t.status} = 'failed' THEN ${t.retryAt} END)`, t.id)
      .where(sql`status IN ('pending', 'failed', 'completed')`),
    index('subscription_processing_lease_idx')
      .on(sql`COALESCE(${t.leaseExpiresAt}, '-infinity'::timestamptz)`, t.id)
      .where(sql`status IN ('queued', 'processing')`),
    // retryFailed(): rows failed, or paused for failing, in slot order (the claim's `failed` kind),
    // a page at a time: without it each page of a retry of 100k failed rows sorted them all.
    index('subscription_processing_failed_idx')
      .on(sql`COALESCE(${t.nextRunAt}, '-infinity'::timestamptz)`, t.id)
      .where(sql`status = 'failed' OR (status = 'paused' AND paused_reason = 'failures')`),
    // listFailing(): rows whose last attempt failed, newest first.
    index('subscription_processing_failing_idx').on(t.updatedAt.desc()).where(sql`error IS NOT NULL`),
    // Pauses that end by themselves, found by every sweep and rescue tick.
    index('subscription_processing_paused_until_idx').on(t.pausedUntil).where(sql`status = 'paused' AND paused_until IS NOT NULL`),
  ],
)
