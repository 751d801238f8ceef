/**
 * Names the engine shares with the Drizzle schema (schema.ts). Kept apart from it so that only
 * `./schema` loads drizzle-orm, which is heavy (bench/RESULTS.md) and an optional peer.
 */

/** The Postgres schema holding the library's private tables and its migrations journal. */
export const SCHEDULER_SCHEMA = 'subscription_scheduler'

/** Below every UUID: where a keyset walk over uuid ids starts. */
export const LOWEST_UUID = '00000000-0000-0000-0000-000000000000'

/** The host's table as the library reads it, for messages about a database that lacks it. */
export const HOST_TABLE_SHAPE = 'subscriptions(id uuid, user_id uuid, frequency, active)'

/** The library's private tables, schema-qualified for SQL. */
export const TABLES = {
  runs: `${SCHEDULER_SCHEMA}.runs`,
  failures: `${SCHEDULER_SCHEMA}.failures`,
  runSkips: `${SCHEDULER_SCHEMA}.run_skips`,
  history: `${SCHEDULER_SCHEMA}.history`,
  settings: `${SCHEDULER_SCHEMA}.settings`,
  callPermits: `${SCHEDULER_SCHEMA}.call_permits`,
  callRates: `${SCHEDULER_SCHEMA}.call_rates`,
  instances: `${SCHEDULER_SCHEMA}.instances`,
  callsPause: `${SCHEDULER_SCHEMA}.calls_pause`,
  migrations: `${SCHEDULER_SCHEMA}.__drizzle_migrations`,
} as const

/**
 * Where a row is in its life:
 * - `pending`: enrolled, never processed;
 * - `queued`: claimed by a sweep, a job waits in pg-boss;
 * - `processing`: taken by an instance: its worker call is in flight, or next in line there;
 * - `completed` / `failed`: the outcome of the last slot;
 * - `paused`: never picked until resumed (by hand, or at its `paused_until`);
 * - `ended`: its last slot before `ends_at` is done: never picked again unless rescheduled.
 */
export const SUBSCRIPTION_STATUSES = ['pending', 'queued', 'processing', 'completed', 'failed', 'paused', 'ended'] as const
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number]

/** Why a row is paused: by an operator, or after `pauseAfterConsecutiveFailures`. */
export type PausedReason = 'manual' | 'failures'

/** What started a run. */
export const RUN_TRIGGERS = ['cron', 'catch-up', 'manual', 'retry', 'single', 'rescue', 'backfill'] as const
export type RunTrigger = (typeof RUN_TRIGGERS)[number]

/** True for one of {@link RUN_TRIGGERS}. */
export function isRunTrigger(value: unknown): value is RunTrigger {
  return (RUN_TRIGGERS as readonly unknown[]).includes(value)
}

/** What a subscription's history records besides its calls. */
export const HISTORY_KINDS = ['skipped', 'paused', 'resumed', 'rescheduled', 'backfill', 'ended'] as const
export type HistoryKind = (typeof HISTORY_KINDS)[number]
