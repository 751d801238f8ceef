export { createSubscriptionScheduler } from './scheduler.js'
export type {
  BackfillOptions,
  FailingSubscription,
  FailureRecord,
  GetSubscriptionOptions,
  HistoryEntry,
  ListFailingOptions,
  ListFailuresOptions,
  ListRunsOptions,
  ListSubscriptionsOptions,
  NoteOption,
  PauseOptions,
  ResumeOptions,
  SkipOptions,
  RetryFailedOptions,
  SkipResult,
  UpcomingOptions,
  RunNowOptions,
  RunStarted,
  SchedulerHealth,
  StopOptions,
  SubscriptionDetails,
  SubscriptionScheduler,
} from './types.js'
export type { InstanceInfo } from './records/instances.js'
export type { ErasedSubscriptions } from './records/erase.js'
export type { ListedStatus, SubscriptionListEntry } from './records/subscription-list.js'
export type { FailureDetail, SchedulerEventName, SchedulerEvents, SchedulerListener, SubscriptionEventBase } from './observe/events.js'
export { migrate } from './db/migrate.js'
export type { MigrateOptions, MigrateResult } from './db/migrate.js'
export { isKnownFrequency } from './schedule/next-run.js'
export { computeNextRunAt, upcomingRuns } from './schedule/public-schedule.js'
export type { Frequency, NextRunInput } from './schedule/next-run.js'
export type { UpcomingRunsInput } from './schedule/upcoming.js'
export { BUILT_IN_FREQUENCIES } from './schedule/frequency-rules.js'
export type { FrequencyRule, FrequencyUnit, Weekday } from './schedule/frequency-rules.js'
export { createHttpWorkerClient } from './worker-client/http-client.js'
export type { HttpWorkerClientOptions } from './worker-client/http-client.js'
export type { ProcessContext, ProcessRequest, ProcessResult, WorkerClient } from './worker-client/types.js'
export type { PgBossTuning, RetryOptions, SchedulerOptions } from './config/options.js'
export type { CircuitBreakerOptions } from './config/circuit-breaker.js'
export type { BreakerHealth } from './process/breaker.js'
export type { EnrolledSubscription, EnrollOptions, ScheduleSettings } from './records/enroll.js'
export type { EnrollEntry, EnrollManyOptions } from './records/enroll-entries.js'
export type { EnrollManyResult, RefusedEnrolment } from './records/enroll-many.js'
export type { CallsPause } from './records/calls-pause.js'
export type { FinishedRunSummary, RunSummary } from './records/runs.js'
export type { SchedulerStatus } from './records/status.js'
export type { CallLimitsStatus } from './records/call-limits.js'
export type { CallLoad } from './process/call-gate.js'
export type { Logger } from './observe/logger.js'
export type { Clock } from './observe/clock.js'
export type { DrizzleLike, Executor, HostDb, QueryResultLike } from './db/executor.js'
// From names.ts, not schema.ts: the root's types must not reach drizzle-orm, an optional peer.
export type { HistoryKind, PausedReason, RunTrigger, SubscriptionStatus } from './db/names.js'
export {
  CallsPausedError,
  ConfigurationError,
  MigrationError,
  NotFoundError,
  NotMigratedError,
  NotStartedError,
  PermanentError,
  RetryableError,
  SchedulerError,
  SubscriptionBusyError,
  SubscriptionDataError,
  SubscriptionStateError,
} from './errors.js'
export type { SchedulerErrorCode } from './errors.js'
export { isConfigurationError, isPermanentError, isRetryableError, isSchedulerError } from './error-guards.js'

// The admin API moved to its own entry point, 'pg-subscription-scheduler/admin', so hosts that
// never mount it don't load the handler and its dashboard. Re-exported here for one minor version;
// redeclared rather than re-exported so that editors show the deprecation at the import.
import * as admin from './admin/index.js'

/** @deprecated Import from 'pg-subscription-scheduler/admin'; this re-export will be removed in the next minor version. */
export const createAdminHandler: typeof admin.createAdminHandler = admin.createAdminHandler
/** @deprecated Import from 'pg-subscription-scheduler/admin'; this re-export will be removed in the next minor version. */
export const bearerToken: typeof admin.bearerToken = admin.bearerToken
/** @deprecated Import from 'pg-subscription-scheduler/admin'; this re-export will be removed in the next minor version. */
export type AdminErrorBody = admin.AdminErrorBody
/** @deprecated Import from 'pg-subscription-scheduler/admin'; this re-export will be removed in the next minor version. */
export type AdminErrorCode = admin.AdminErrorCode
/** @deprecated Import from 'pg-subscription-scheduler/admin'; this re-export will be removed in the next minor version. */
export type AdminHandler = admin.AdminHandler
/** @deprecated Import from 'pg-subscription-scheduler/admin'; this re-export will be removed in the next minor version. */
export type AdminHandlerOptions = admin.AdminHandlerOptions
/** @deprecated Import from 'pg-subscription-scheduler/admin'; this re-export will be removed in the next minor version. */
export type Authorize = admin.Authorize
