/**
 * Drizzle definitions of the tables this library owns, for hosts that query them with Drizzle.
 * `import { subscriptionProcessing } from 'pg-subscription-scheduler/schema'`.
 *
 * The host's own `subscriptions(id, user_id, frequency, active)` table is not declared here:
 * the host owns it, and the library only reads it.
 */
import { sql } from 'drizzle-orm'
import {
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgSchema,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core'

export { HISTORY_KINDS, RUN_TRIGGERS, SCHEDULER_SCHEMA, SUBSCRIPTION_STATUSES } from './db/names.js'
export type { HistoryKind, PausedReason, RunTrigger, SubscriptionStatus } from './db/names.js'
import { SCHEDULER_SCHEMA } from './db/names.js'
import type { HistoryKind, PausedReason, RunTrigger, SubscriptionStatus } from './db/names.js'

const timestamptz = <N extends string>(name: N) => timestamp(name, { withTimezone: true, mode: 'date' })

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

const scheduler = pgSchema(SCHEDULER_SCHEMA)

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

/**
 * The schedule defaults every process on a scheduler should agree on (its zone, time of day,
 * cadence names, catch-up and retry policy), published by the instances that register the schedule, so that
 * processes that do not (the CLI, an admin server) compute the same slots. One row per queue prefix.
 */
export const sharedSettings = scheduler.table('settings', {
  scope: text('scope').primaryKey(),
  timezone: text('timezone').notNull(),
  runAt: text('run_at').notNull(),
  catchUp: text('catch_up').notNull(),
  /** The resolved cadence table: the built-ins and the host's `frequencies`. */
  frequencies: jsonb('frequencies').notNull(),
  /**
   * The resolved `retry` policy (`{ limit, delaySeconds, maxDelaySeconds }`), which the CLI's
   * processes apply to the calls they make. Null in a row published before migration 0008.
   */
  retry: jsonb('retry'),
  /** `'daily'` or `'fail'`: what a subscription whose frequency is no cadence gets. Null in a row published before migration 0010. */
  unknownFrequency: text('unknown_frequency'),
  /** Whether sweeps enrol host subscriptions that have no row (`autoEnroll`). Null in a row published before migration 0013. */
  autoEnroll: boolean('auto_enroll'),
  /**
   * `pauseAfterConsecutiveFailures`, which the CLI's processes apply to the calls they make: 0
   * when never. Null in a row published before migration 0014.
   */
  pauseAfterFailures: integer('pause_after_failures'),
  /**
   * `catchUpWindowDays`: how far back `catchUp: 'all'` replays missed slots; null for no limit,
   * and in a row published before migration 0018.
   */
  catchUpWindowDays: doublePrecision('catch_up_window_days'),
  /**
   * Set with `updated_at` by versions from migration 0019 on, which write every column above. An
   * older version writes only the columns it knows, and `updated_at`: a row whose `updated_at` is
   * later was last published by one, and its newer columns still hold what a newer version wrote.
   */
  wholeAt: timestamptz('whole_at'),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
})
export type SubscriptionFailureRow = typeof subscriptionFailures.$inferSelect
export type SubscriptionProcessingRow = typeof subscriptionProcessing.$inferSelect
export type SubscriptionRunRow = typeof subscriptionRuns.$inferSelect

/**
 * The permits of `maxConcurrentCalls`: one row per worker call allowed in flight across every
 * instance of a scheduler (`scope` is its queue prefix). A permit is held until `expires_at`,
 * so an instance that dies with permits in hand gives them back when they expire.
 */
export const callPermits = scheduler.table(
  'call_permits',
  {
    scope: text('scope').notNull(),
    slot: integer('slot').notNull(),
    /** The grant holding it, released only by that grant. */
    holder: uuid('holder'),
    expiresAt: timestamptz('expires_at').notNull().default(sql`'-infinity'::timestamptz`),
  },
  (t) => [primaryKey({ columns: [t.scope, t.slot] })],
)

/**
 * `maxCallsPerSecond`: the time from which the next worker call may start, per scope. Every
 * grant moves it forward by its share of calls, so calls are spaced evenly across instances.
 */
export const callRates = scheduler.table('call_rates', {
  scope: text('scope').primaryKey(),
  nextAt: timestamptz('next_at').notNull().default(sql`'-infinity'::timestamptz`),
  /** The rate, as the last instance started with one set it; null when written by an older version. */
  perSecond: doublePrecision('per_second'),
})

/**
 * Calls paused fleet-wide (`pauseCalls()`), per scope: while its row is there, no sweep claims,
 * no run on demand starts, and no instance calls the worker; rows already claimed are let go of
 * with their slot. `resumeCalls()` deletes it.
 */
export const callsPause = scheduler.table('calls_pause', {
  scope: text('scope').primaryKey(),
  pausedAt: timestamptz('paused_at').notNull(),
  /** Why, and who: the note given to `pauseCalls()`. */
  note: text('note'),
})

/**
 * The scheduler's instances, as each started one reports itself (every 15 s while it runs), for
 * operators: which hosts and versions run, which schedule and which call the worker, whose
 * circuit breaker is open, and which went silent without a stop (killed). Rows of instances
 * stopped or silent for a day are pruned.
 */
export const schedulerInstances = scheduler.table(
  'instances',
  {
    id: uuid('id').primaryKey(),
    /** The queue prefix: the scheduler it belongs to. */
    scope: text('scope').notNull(),
    /** The pg-boss schema (`bossSchema`) whose queues it uses; null when written by an older version. */
    bossSchema: text('boss_schema'),
    host: text('host').notNull(),
    pid: integer('pid').notNull(),
    version: text('version').notNull(),
    /** It registers the cron schedule (`schedule` option). */
    schedules: boolean('schedules').notNull(),
    /** It calls the worker (`work` option), with this `concurrency`. */
    works: boolean('works').notNull(),
    concurrency: integer('concurrency').notNull(),
    /** Its `maxConcurrentCalls` and `maxCallsPerSecond` options; null when it set none. */
    maxConcurrentCalls: integer('max_concurrent_calls'),
    maxCallsPerSecond: doublePrecision('max_calls_per_second'),
    /** Its worker calls at its last report (`{ inFlight, waiting }`); null when it calls none. */
    calls: jsonb('calls'),
    /** Its circuit breaker at its last report (`{ state, openSince, until }`); null without one. */
    breaker: jsonb('breaker'),
    startedAt: timestamptz('started_at').notNull().defaultNow(),
    seenAt: timestamptz('seen_at').notNull().defaultNow(),
    stoppedAt: timestamptz('stopped_at'),
  },
  (t) => [index('instances_seen_at_idx').on(t.seenAt)],
)
