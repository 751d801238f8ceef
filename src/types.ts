/**
 * The shape of the object `createSubscriptionScheduler()` returns: what hosts, the admin
 * handler and the CLI program against.
 */
import type { BreakerHealth } from './process/breaker.js'
import type { InstanceInfo } from './records/instances.js'
import type { EnrolledSubscription, EnrollOptions, ScheduleSettings } from './records/enroll.js'
import type { EnrollEntry, EnrollManyOptions } from './records/enroll-entries.js'
import type { EnrollManyResult } from './records/enroll-many.js'
import type { CallsPause } from './records/calls-pause.js'
import type { SkipResult } from './records/schedule-control.js'
import type { HistoryEntry } from './records/history.js'
import type { ListedStatus, SubscriptionListEntry } from './records/subscription-list.js'
import type { FailingSubscription, FailureRecord, SubscriptionDetails } from './records/subscription-shapes.js'
import type { SchedulerEventName, SchedulerListener } from './observe/events.js'
import type { FinishedRunSummary, RunSummary } from './records/runs.js'
import type { RunTrigger } from './db/names.js'
import type { SchedulerStatus } from './records/status.js'
import type { ErasedSubscriptions } from './records/erase.js'

export type { HistoryEntry, SkipResult }
export type { FailingSubscription, FailureRecord, SubscriptionDetails } from './records/subscription-shapes.js'

export interface RunNowOptions {
  /** Resolve once every subscription the run enqueued has settled. @default true */
  wait?: boolean | undefined
}

export interface StopOptions {
  /** How long in-flight worker calls may take to finish; then they are cancelled and retried later. @default 30000 */
  timeoutMs?: number | undefined
}

export interface RetryFailedOptions extends RunNowOptions {
  /** Only these subscriptions. @default every failed row, and every row paused for failing */
  subscriptionIds?: string[] | undefined
}

/** A note of the caller's own on a control (who, why), kept in the subscription's history entry. */
export interface NoteOption {
  /**
   * Up to 500 characters, kept with the history entry the control writes (`history[].note`): who
   * asked, a ticket, why. A control that changes nothing (a pause of a row already paused, say)
   * writes no entry, and its note is not kept. @default none
   */
  note?: string | undefined
}

export interface PauseOptions extends NoteOption {
  /** Resume by itself at this instant. The slots missed meanwhile are not replayed, unless `catchUp: 'all'`. */
  until?: Date | undefined
}

export interface ResumeOptions extends NoteOption {
  /**
   * Under `catchUp: 'all'`, where a pause defers its slots, do not call them: go on from the
   * first slot from now, as under `'latest'` (for billing, a pause that forgives its periods).
   * A slot already due when the pause began is still owed. @default false
   */
  forgive?: boolean | undefined
}

export interface SkipOptions extends NoteOption {
  /**
   * The slot to skip, as `upcoming()` listed it: skipped only while it is still the next one, so a
   * request retried, clicked twice or sent to two replicas skips it once (asked again, the answer
   * is the same). A slot no longer next (it ran, or a skip moved past it) is a SubscriptionStateError.
   * Without it, the next slot is skipped, whichever it is by then.
   */
  slot?: Date | undefined
}

export interface UpcomingOptions {
  /** How many slots, from 1 to 1000. @default 5 */
  count?: number | undefined
}

export interface GetSubscriptionOptions {
  /** How many of its last failed attempts, 0 or more (at most 1000 are read). @default 10 */
  errors?: number | undefined
  /** How many of its last history entries, 0 or more (at most 1000 are read). @default 20 */
  history?: number | undefined
}

export interface ListRunsOptions {
  /** Runs per page, 1 or more (at most 1000 are listed). @default 20 */
  limit?: number | undefined
  /** A run id, the last of the page before: the runs that started before it. */
  before?: string | undefined
  /** Only runs with this trigger, or one of these. */
  trigger?: RunTrigger | readonly RunTrigger[] | undefined
  /** Only runs not finished yet. */
  unfinished?: boolean | undefined
  /** Only the runs of this subscription: its runs on demand (`runSubscription()`) and its backfills. */
  subscriptionId?: string | undefined
}

export interface ListFailuresOptions {
  /** Entries per page, 1 or more (at most 1000 are listed). @default 20 */
  limit?: number | undefined
  /** Only the failed attempts of this run (`NotFoundError` for an unknown run). */
  runId?: string | undefined
  /** The `id` of the last entry of a page: the entries recorded before it. */
  before?: string | undefined
  /** `true`: the attempts that gave their slot up; `false`: those a retry followed. */
  final?: boolean | undefined
}

export interface ListFailingOptions {
  /** Subscriptions per page, 1 or more (at most 1000 are listed). @default 20 */
  limit?: number | undefined
}

export interface ListSubscriptionsOptions {
  /** Only subscriptions of this status (or `'inactive'`), as `getStatus().counts` has them. */
  status?: ListedStatus | undefined
  /** Only the subscriptions of this user (`subscriptions.user_id`). */
  userId?: string | undefined
  /** Subscriptions per page, 1 or more (at most 1000 are listed). @default 50 */
  limit?: number | undefined
  /** The last `subscriptionId` of a page: the next page. */
  after?: string | undefined
}

export interface BackfillOptions extends RunNowOptions {
  /** The first instant of the range (a slot exactly at it is processed). */
  from: Date
  /** The last instant of the range (a slot exactly at it is processed). */
  to: Date
}

export type RunStarted = { runId: string }

/** This instance, as a readiness probe or an operator sees it. */
export interface SchedulerHealth {
  /** `stopped` before `start()` and once `stop()` has resolved (it may start again). */
  state: 'stopped' | 'starting' | 'running' | 'stopping'
  /** Its circuit breaker (`circuitBreaker`); null without one. */
  breaker: BreakerHealth | null
  /** Its id in `listInstances()`, from the end of `start()` until `stop()` resolves; null otherwise. */
  instanceId: string | null
}

export interface SubscriptionScheduler {
  /** Migrates (unless `migrate: false`), registers the cron schedule and starts the workers. */
  start(): Promise<void>
  /** Stops fetching work, lets in-flight calls finish within `timeoutMs`, never closes the pool. */
  stop(options?: StopOptions): Promise<void>
  /** Sweeps now. Resolves with the run's summary once it settles, or at once with `{ wait: false }`. */
  runNow(options?: { wait?: true | undefined }): Promise<FinishedRunSummary>
  runNow(options: { wait: false }): Promise<RunStarted>
  runNow(options?: RunNowOptions): Promise<RunSummary | RunStarted>
  /** Re-drives failed rows (and rows paused for failing) now, for the slot they failed. */
  retryFailed(options?: RetryFailedOptions & { wait?: true | undefined }): Promise<FinishedRunSummary>
  retryFailed(options: RetryFailedOptions & { wait: false }): Promise<RunStarted>
  retryFailed(options?: RetryFailedOptions): Promise<RunSummary | RunStarted>
  /** Processes one subscription now, whatever its `next_run_at`, as a run of its own. */
  runSubscription(subscriptionId: string, options?: { wait?: true | undefined }): Promise<FinishedRunSummary>
  runSubscription(subscriptionId: string, options: { wait: false }): Promise<RunStarted>
  runSubscription(subscriptionId: string, options?: RunNowOptions): Promise<RunSummary | RunStarted>
  /**
   * Stops a subscription from being picked; with `until`, it resumes by itself then. A call
   * already in flight finishes, and its success is recorded: the row moves on to its next slot.
   */
  pause(subscriptionId: string, options?: PauseOptions): Promise<SubscriptionDetails>
  /** Makes a paused subscription pickable again (due at once if its `next_run_at` has passed). */
  resume(subscriptionId: string, options?: ResumeOptions): Promise<SubscriptionDetails>
  /**
   * Adds or updates a subscription's row, with its own zone, time of day, anchor, start and end;
   * pass `db` to join the host's transaction.
   */
  enroll(subscriptionId: string, options?: EnrollOptions): Promise<EnrolledSubscription>
  /**
   * Enrols many subscriptions, each with its own settings, as `enroll()` does one: new rows are
   * inserted a page at a time with their schedule, rows with the settings given are left alone,
   * and a row `enroll()` would refuse (a call for it in flight) is listed in `refused` while the
   * others go on. Every entry and id is checked before anything is written. Pass `db` to join the
   * host's transaction.
   */
  enrollMany(entries: readonly EnrollEntry[], options?: EnrollManyOptions): Promise<EnrollManyResult>
  /**
   * Changes a subscription's zone, time of day, anchor, start or end (`null` clears one) and
   * recomputes its next slot at once. Refused with `SubscriptionBusyError` while a call for it
   * is in flight.
   */
  reschedule(subscriptionId: string, settings: ScheduleSettings, options?: NoteOption): Promise<{ nextRunAt: Date | null }>
  /** The next slot is not processed; the skip is kept in the subscription's history. */
  skipNext(subscriptionId: string, options?: SkipOptions): Promise<SkipResult>
  /** The subscription's next slots, after pause-until, skips, `startsAt` and `endsAt`. */
  upcoming(subscriptionId: string, options?: UpcomingOptions): Promise<Date[]>
  /**
   * Processes every slot of the subscription's cadence in `[from, to]`, oldest first, each with
   * its own `scheduledFor` and idempotency key, as a run of its own; `next_run_at` stays.
   */
  backfill(subscriptionId: string, options: BackfillOptions & { wait?: true | undefined }): Promise<FinishedRunSummary>
  backfill(subscriptionId: string, options: BackfillOptions & { wait: false }): Promise<RunStarted>
  backfill(subscriptionId: string, options: BackfillOptions): Promise<RunSummary | RunStarted>
  /**
   * Gives every host subscription that has none its `subscription_processing` row, as each
   * sweep does unless `autoEnroll: false`. Resolves with how many rows it created.
   */
  enrollMissing(): Promise<number>
  /**
   * Pauses calls fleet-wide, for every instance on the database at once: no sweep claims, no run
   * on demand or backfill starts (`CallsPausedError`), and rows already claimed are let go of
   * with their slot before their call; calls in flight finish. Kept in the database until
   * `resumeCalls()`. A pause already on stays as it was, and is returned.
   */
  pauseCalls(options?: NoteOption): Promise<CallsPause>
  /** Lifts the pause; the next sweep calls what fell due meanwhile. Resolves with the pause lifted, or null when there was none. */
  resumeCalls(): Promise<CallsPause | null>
  /** The row, the host's subscription fields, its last `errors` (default 10) failures and its last `history` (default 20) history entries; each up to 1000. */
  getSubscription(subscriptionId: string, options?: GetSubscriptionOptions): Promise<SubscriptionDetails>
  /** Counts by status, the last run, the next cron fire and the queue depth. */
  getStatus(): Promise<SchedulerStatus>
  /**
   * Most recent runs first (by start). `before` (a run id, the last of the page before) lists the
   * runs that started before it: the next page back. `trigger` keeps only runs with that trigger
   * (or one of those); `unfinished: true` only runs not finished yet. @default limit 20
   */
  listRuns(options?: ListRunsOptions): Promise<RunSummary[]>
  getRun(runId: string): Promise<RunSummary>
  /**
   * Most recent failed attempts first; of one run with `runId` (`NotFoundError` for an unknown
   * run). `before`, the `id` of the last entry of a page, lists the entries recorded before it: the
   * next page back. `final: true` keeps the attempts that gave their slot up (permanent errors,
   * retries used up), `false` those a retry followed. @default limit 20
   */
  listFailures(options?: ListFailuresOptions): Promise<FailureRecord[]>
  /**
   * Subscriptions whose last attempt failed (failed for good, paused for failing, or waiting
   * for a retry), most recently failed first: one entry per subscription, not per attempt.
   * @default limit 20
   */
  listFailing(options?: ListFailingOptions): Promise<FailingSubscription[]>
  /**
   * Subscriptions by status (`'paused'`, `'failed'`, … or `'inactive'`, as `getStatus().counts`
   * has them) or of one user (`userId`, matched as text), in id order; `after`, the last
   * `subscriptionId` of a page, gives the next. @default limit 50
   */
  listSubscriptions(options?: ListSubscriptionsOptions): Promise<SubscriptionListEntry[]>
  /**
   * The scheduler's instances (those with its `queuePrefix`) as they report themselves: running
   * ones first, then stopped ones and those gone silent without a stop (killed), for a day.
   */
  listInstances(): Promise<InstanceInfo[]>
  /**
   * Erases what the scheduler keeps of subscriptions you deleted from your table (a user's right
   * to erasure): their failure history (the worker's answers), schedule history (notes) and dead
   * letters, in one transaction. Up to 10,000 ids a call. Needs no start().
   * @throws {SubscriptionStateError} when one is still in your subscriptions table: nothing is erased.
   */
  erase(subscriptionIds: readonly string[]): Promise<ErasedSubscriptions>
  /** This instance now: started or not, and its circuit breaker. No query: cheap enough for every probe. */
  health(): SchedulerHealth
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends SchedulerEventName>(event: E, listener: SchedulerListener<E>): () => void
}
