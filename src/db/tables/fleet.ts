/**
 * What the instances of one scheduler share: the published schedule defaults, the call limits
 * and the fleet-wide pause, and the instances themselves.
 */
import { sql } from 'drizzle-orm'
import { boolean, doublePrecision, index, integer, jsonb, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { scheduler, timestamptz } from './columns.js'

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
