/**
 * Drizzle definitions of the tables this library owns, for hosts that query them with Drizzle.
 * `import { subscriptionProcessing } from 'pg-subscription-scheduler/schema'`. drizzle-kit
 * generates the shipped migrations from this entry (drizzle.config.ts).
 *
 * The host's own `subscriptions(id, user_id, frequency, active)` table is not declared here:
 * the host owns it, and the library only reads it.
 */
import type { subscriptionFailures, subscriptionRuns } from './db/tables/records.js'
import type { subscriptionProcessing } from './db/tables/processing.js'

export { HISTORY_KINDS, RUN_TRIGGERS, SCHEDULER_SCHEMA, SUBSCRIPTION_STATUSES } from './db/names.js'
export type { HistoryKind, PausedReason, RunTrigger, SubscriptionStatus } from './db/names.js'
export { subscriptionProcessing } from './db/tables/processing.js'
export { runSkips, subscriptionFailures, subscriptionHistory, subscriptionRuns } from './db/tables/records.js'
export type { SubscriptionHistoryRow } from './db/tables/records.js'
export { callPermits, callRates, callsPause, schedulerInstances, sharedSettings } from './db/tables/fleet.js'

export type SubscriptionFailureRow = typeof subscriptionFailures.$inferSelect
export type SubscriptionProcessingRow = typeof subscriptionProcessing.$inferSelect
export type SubscriptionRunRow = typeof subscriptionRuns.$inferSelect
