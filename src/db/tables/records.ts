/**
 * What operators read back: the runs, every failed attempt, the slots skipped, and each
 * subscription's history.
 */
import { sql } from 'drizzle-orm'
import { bigserial, boolean, index, integer, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import type { HistoryKind, RunTrigger } from '../names.js'
import { scheduler, timestamptz } from './columns.js'

/** One row per sweep: what it claimed and how those subscriptions settled. */
export const subscriptionRuns = scheduler.table(
  'runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    trigger: text('trigger').$type<RunTrigger>().notNull(),
    startedAt: timestamptz('started_at').notNull().defaultNow(),
    /** Set when the sweep has claimed every due row; the run is settled once all of them are. */
    sweepFinishedAt: timestamptz('sweep_finished_at'),
    /** Touched by every page a sweep claims; a sweep silent for long has died with its instance. */
    sweepHeartbeatAt: timestamptz('sweep_heartbeat_at'),
    finishedAt: timestamptz('finished_at'),
    claimed: integer('claimed').notNull().default(0),
    successful: integer('successful').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    retried: integer('retried').notNull().default(0),
    skipped: integer('skipped').notNull().default(0),
    /** Fire lateness of the run's calls (slot to call), counted in fixed buckets (records/lateness.ts). */
    latenessHistogram: integer('lateness_histogram').array().notNull().default(sql`'{}'::integer[]`),
    /** The largest fire lateness of the run's calls, in ms (capped at 2^31 - 1): percentiles read from the buckets never pass it. */
    latenessMaxMs: integer('lateness_max_ms'),
    error: text('error'),
    /** A backfill's subscription (one backfill of a subscription runs at a time); null for every other run. */
    subscriptionId: uuid('subscription_id'),
  },
  (t) => [
    index('runs_started_at_idx').on(t.startedAt),
    index('runs_unfinished_idx').on(t.startedAt).where(sql`finished_at IS NULL`),
    index('runs_open_backfill_idx').on(t.subscriptionId).where(sql`trigger = 'backfill' AND finished_at IS NULL`),
  ],
)

/** Every failed attempt, kept for operators ("what failed, and why?") for `historyRetentionDays`. */
export const subscriptionFailures = scheduler.table(
  'failures',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    processingId: uuid('processing_id').notNull(),
    subscriptionId: uuid('subscription_id').notNull(),
    runId: uuid('run_id'),
    scheduledFor: timestamptz('scheduled_for').notNull(),
    attempt: integer('attempt').notNull(),
    /** True when no retry follows: the slot is recorded failed. */
    final: boolean('final').notNull(),
    error: text('error').notNull(),
    /** The worker's HTTP status, when the failure was an HTTP answer. */
    status: integer('status'),
    failedAt: timestamptz('failed_at').notNull().defaultNow(),
  },
  (t) => [
    index('failures_subscription_idx').on(t.subscriptionId, t.failedAt),
    index('failures_failed_at_idx').on(t.failedAt),
    index('failures_run_idx').on(t.runId),
  ],
)

/**
 * Rows a run enqueued that were gone (their subscription deleted) when their job came: each is
 * counted skipped once, however often the job is delivered.
 */
export const runSkips = scheduler.table(
  'run_skips',
  {
    runId: uuid('run_id')
      .notNull()
      .references(() => subscriptionRuns.id, { onDelete: 'cascade' }),
    processingId: uuid('processing_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.processingId] })],
)

/**
 * What happened to a subscription's schedule besides its calls (skips, pauses, resumes,
 * reschedules, backfills, its end), for operators; pruned with the run history.
 */
export const subscriptionHistory = scheduler.table(
  'history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    subscriptionId: uuid('subscription_id').notNull(),
    kind: text('kind').$type<HistoryKind>().notNull(),
    slot: timestamptz('slot'),
    detail: text('detail'),
    /**
     * On a reschedule that moved the subscription to another zone: the zone it left (its own, or
     * the scheduler's then). The local days it spent before are those of that zone. Null otherwise,
     * and on entries written before migration 0011.
     */
    fromZone: text('from_zone'),
    /** The caller's own words on a pause, resume, skip or reschedule (`{ note }`), up to 500 characters; null without. */
    note: text('note'),
    at: timestamptz('at').notNull().defaultNow(),
  },
  (t) => [index('history_subscription_idx').on(t.subscriptionId, t.at), index('history_at_idx').on(t.at)],
)

export type SubscriptionHistoryRow = typeof subscriptionHistory.$inferSelect
