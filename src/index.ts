export { createSubscriptionScheduler } from './scheduler.js'
export type {
  FailureRecord,
  RetryFailedOptions,
  RunNowOptions,
  RunStarted,
  StopOptions,
  SubscriptionDetails,
  SubscriptionScheduler,
} from './scheduler-types.js'
export type { SchedulerEventName, SchedulerEvents, SchedulerListener, SubscriptionEventBase } from './events.js'
export { migrate } from './migrate.js'
export type { MigrateOptions } from './migrate.js'
export { computeNextRunAt, isKnownFrequency } from './next-run.js'
export type { Frequency, NextRunInput } from './next-run.js'
export { upcomingRuns } from './schedule/upcoming.js'
export type { UpcomingRunsInput } from './schedule/upcoming.js'
export { BUILT_IN_FREQUENCIES } from './schedule/frequency-rules.js'
export type { FrequencyRule, FrequencyUnit, Weekday } from './schedule/frequency-rules.js'
export { createHttpWorkerClient } from './http-worker-client.js'
export type { HttpWorkerClientOptions } from './http-worker-client.js'
export type { ProcessContext, ProcessRequest, ProcessResult, WorkerClient } from './worker-client.js'
export type { PgBossTuning, RetryOptions, SchedulerOptions } from './options.js'
export type { EnrolledSubscription, EnrollOptions } from './enroll.js'
export type { RunSummary } from './runs.js'
export type { SchedulerStatus } from './status.js'
export type { Logger } from './logger.js'
export type { Clock } from './clock.js'
export type { Executor, HostDb } from './db.js'
export type { PausedReason, RunTrigger, SubscriptionStatus } from './schema.js'
export {
  ConfigurationError,
  isConfigurationError,
  isPermanentError,
  isRetryableError,
  isSchedulerError,
  MigrationError,
  NotFoundError,
  NotStartedError,
  PermanentError,
  RetryableError,
  SchedulerError,
  SubscriptionDataError,
} from './errors.js'
export type { SchedulerErrorCode } from './errors.js'
export { bearerToken, createAdminHandler } from './admin/index.js'
export type { AdminErrorBody, AdminErrorCode, AdminHandler, AdminHandlerOptions, Authorize } from './admin/index.js'
