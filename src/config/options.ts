/**
 * Every option and its default. `resolveOptions()` (resolve-options.ts) validates them and
 * returns a fully-required {@link ResolvedOptions}.
 */
import type { CircuitBreakerOptions, ResolvedCircuitBreaker } from './circuit-breaker.js'
import type { Clock } from '../observe/clock.js'
import type { FrequencyRule } from '../schedule/frequency-rules.js'
import type { Logger } from '../observe/logger.js'
import type { ResolvedFlow } from './flow.js'
import type { WorkerClient } from '../worker-client/types.js'

export interface RetryOptions {
  /** Retries after the first attempt at a slot. @default 3 */
  limit?: number | undefined
  /** Delay before the first retry; doubles each time, with jitter. @default 30 */
  delaySeconds?: number | undefined
  /** Upper bound of the delay. @default 3600 */
  maxDelaySeconds?: number | undefined
  /**
   * How long after a slot failed for good (its retries spent, or a permanent error) a sweep may
   * try it again: doubled for each run in a row it failed, up to `failedSlotMaxDelaySeconds`, so
   * that a slot the worker keeps refusing is not called at every sweep of a frequent cron. 0: the
   * next sweep, whenever it comes. `retryFailed()` and `runSubscription()` do not wait. @default 300
   */
  failedSlotDelaySeconds?: number | undefined
  /** Upper bound of that delay. @default 21600 (6 hours) */
  failedSlotMaxDelaySeconds?: number | undefined
}

/** The few pg-boss loop intervals worth tuning; see pg-boss's constructor options. */
export interface PgBossTuning {
  cronMonitorIntervalSeconds?: number | undefined
  cronWorkerIntervalSeconds?: number | undefined
  maintenanceIntervalSeconds?: number | undefined
  superviseIntervalSeconds?: number | undefined
  monitorIntervalSeconds?: number | undefined
}

export interface SchedulerOptions {
  /** Processes each subscription. @default an HTTP client for `workerUrl` */
  workerClient?: WorkerClient | undefined
  /** Base URL of the subscription worker, used when no `workerClient` is given. @default process.env.SUBSCRIPTION_WORKER_URL */
  workerUrl?: string | undefined
  /** Time limit of one worker call, in milliseconds. @default 30000 */
  workerTimeoutMs?: number | undefined
  /** When sweeps run, as a cron expression in `timezone`. @default '0 9 * * *' */
  cron?: string | undefined
  /** IANA zone of `cron`, and of subscriptions with no zone of their own. @default 'UTC' */
  timezone?: string | undefined
  /**
   * Local time of day each subscription's slot falls on, 'HH:MM'; a subscription's own `runAt`
   * (enroll, reschedule) wins. Slots are processed by the first sweep at or after them, so
   * sweep at least as often as the times you use (`cron`). @default '09:00'
   */
  runAt?: string | undefined
  /**
   * The host's cadence names, added to (or overriding) the built-ins `daily`, `weekly`,
   * `biweekly`, `monthly`, `quarterly` and `yearly`: the `subscriptions.frequency` column names
   * one. An unknown name runs daily, with a warning.
   * @example { fortnightly: { every: 2, unit: 'week' }, workdays: { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] } }
   */
  frequencies?: Record<string, FrequencyRule> | undefined
  /**
   * What a subscription whose `next_run_at` lies several slots in the past gets: `'latest'`, one
   * call (for its oldest missed slot), then its next slot after now; `'all'`, one call per missed
   * slot, oldest first, each with its own key, until it is caught up (billing). Also decides
   * whether a pause that ends by itself replays the slots it missed. @default 'latest'
   */
  catchUp?: 'latest' | 'all' | undefined
  /**
   * With `catchUp: 'all'`, how far back missed slots are replayed, in days (1 or more, fractions allowed):
   * after an outage, a pause or an inactive spell, slots older than this are skipped (each
   * subscription's history says which), and its calls start from the oldest slot inside the
   * window, as Temporal's `catchupWindow` does. @default undefined (no limit: every missed slot; null too)
   */
  catchUpWindowDays?: number | null | undefined
  /**
   * What a subscription whose `frequency` is null or no cadence name gets: `'daily'` runs it daily,
   * with a warning; `'fail'` calls nobody and records its slot failed, as a data error naming the
   * frequency and the fix, until the host's row or the `frequencies` option names a cadence (for
   * billing, where a misspelt `'montly'` run daily would charge thirty times). @default 'daily'
   */
  unknownFrequency?: 'daily' | 'fail' | undefined
  /** Most worker calls in flight at once in this instance. @default 16 */
  concurrency?: number | undefined
  /**
   * Most worker calls in flight at once across every instance sharing this database and
   * `queuePrefix`. Held in Postgres as permits; set the same value on every instance (the last
   * to start writes it). @default undefined (no global cap; each instance has `concurrency`; null too)
   */
  maxConcurrentCalls?: number | null | undefined
  /**
   * Most worker calls started per second across every instance, spaced evenly (fractions
   * allowed: 0.5 is one call every 2 s). Set the same value on every instance. @default undefined (no limit; null too)
   */
  maxCallsPerSecond?: number | null | undefined
  /**
   * Fans each sweep's calls out over this many minutes: a subscription is called at its slot
   * plus a fixed offset drawn from a hash of its id, the same offset every time, instead of
   * all at once when the cron fires. Sweeps only; `runSubscription`, `retryFailed` and rescues
   * call at once. @default 0 (no spread)
   */
  spreadMinutes?: number | null | undefined
  /**
   * Rows a sweep claims per transaction: each page becomes one pg-boss job, whose calls are made
   * by the instance that fetches it. @default 500
   */
  claimBatchSize?: number | undefined
  /** Retry policy for failed worker calls. */
  retry?: RetryOptions | undefined
  /**
   * Stop calling a worker service that is down: after `failureThreshold` calls in a row fail
   * (timeouts, refused connections, 5xx, 429), this instance holds its calls back for
   * `cooldownSeconds`, then sends one probe call. Rows held back keep their attempts. `true`
   * uses the defaults ({ failureThreshold: 10, cooldownSeconds: 30, maxCooldownSeconds: 300 }).
   * @default undefined (no breaker: each row backs off on its own)
   */
  circuitBreaker?: CircuitBreakerOptions | boolean | null | undefined
  /** Apply the library's migrations on `start()`. @default true */
  migrate?: boolean | undefined
  /**
   * Before each sweep, give every host subscription without a `subscription_processing` row
   * its row, so that it is due in that same sweep (inactive ones are enrolled too, and picked
   * once active). Set false to enrol only through `enroll()`. @default true
   */
  autoEnroll?: boolean | undefined
  /**
   * Register the cron and rescue schedules on `start()`. Set false for a process that should
   * only work (a one-off `run-now`, a worker fleet) without overwriting the schedule. @default true
   */
  schedule?: boolean | undefined
  /**
   * Call the worker: take the jobs of every instance's runs. Set false for a process that should
   * only enqueue and steer (an admin process, `run-now --no-wait`): its runs are called by the
   * instances that work, and it needs no worker client. @default true
   */
  work?: boolean | undefined
  /** Prefix of the pg-boss queue names. @default 'subscription-scheduler' */
  queuePrefix?: string | undefined
  /** Postgres schema pg-boss installs into. @default 'pgboss' */
  bossSchema?: string | undefined
  /** How often an idle worker polls for jobs, in seconds (>= 0.5). @default 1 */
  pollingIntervalSeconds?: number | undefined
  /**
   * After this many runs in a row ended failed for it (retries spent each time), a subscription is paused (reason `failures`) and no
   * longer picked until `resume()` or `retryFailed()`. @default undefined (never)
   */
  pauseAfterConsecutiveFailures?: number | undefined
  /** Days of run and failure history kept. @default 30 */
  historyRetentionDays?: number | undefined
  /** How often expired claims are rescued (and history pruned), as a cron expression. @default '* * * * *' */
  rescueCron?: string | undefined
  /**
   * A sweep that has shown no sign of life for this long died with its instance (a sweeping
   * instance says it is alive every 10 s, or four times in this span if shorter): the rescue
   * closes its run and sweeps what it left. A sweep that was only cut off (a database outage
   * this long) finds its run closed at its next page and stops there. @default 60
   */
  interruptedSweepAfterSeconds?: number | undefined
  /** Most bytes of a worker's answer stored on the row. @default 4096 */
  maxStoredResponseBytes?: number | undefined
  /** Passed to pg-boss: how often its cron and maintenance loops run. */
  pgBoss?: PgBossTuning | undefined
  /** Replaces the default consola logger. */
  logger?: Logger | undefined
  /**
   * Replaces the scheduler's clock (tests): taken as it is. The default is the host's clock,
   * corrected to the database server's when they differ by a second or more.
   */
  clock?: Clock | undefined
}

/** Every option resolved, plus what is derived from them (resolve-flow.ts: fetch sizes, job expiry). */
export interface ResolvedOptions extends ResolvedFlow {
  /** Undefined when neither a client nor a URL is configured: `start()` then refuses to run. */
  workerClient: WorkerClient | undefined
  workerTimeoutMs: number
  cron: string
  timezone: string
  runAt: string
  frequencies: Readonly<Record<string, FrequencyRule>>
  catchUp: 'latest' | 'all'
  catchUpWindowDays: number | null
  unknownFrequency: 'daily' | 'fail'
  concurrency: number
  claimBatchSize: number
  retry: Required<RetryOptions>
  circuitBreaker: ResolvedCircuitBreaker | null
  migrate: boolean
  autoEnroll: boolean
  schedule: boolean
  work: boolean
  queuePrefix: string
  bossSchema: string
  pollingIntervalSeconds: number
  pauseAfterConsecutiveFailures: number | null
  historyRetentionDays: number
  rescueCron: string
  interruptedSweepAfterSeconds: number
  maxStoredResponseBytes: number
  pgBoss: PgBossTuning
  logger: Logger
  clock: Clock
}

export const DEFAULTS = {
  workerTimeoutMs: 30_000,
  cron: '0 9 * * *',
  timezone: 'UTC',
  runAt: '09:00',
  catchUp: 'latest',
  unknownFrequency: 'daily',
  concurrency: 16,
  claimBatchSize: 500,
  retry: { limit: 3, delaySeconds: 30, maxDelaySeconds: 3600, failedSlotDelaySeconds: 300, failedSlotMaxDelaySeconds: 21_600 },
  migrate: true,
  autoEnroll: true,
  schedule: true,
  work: true,
  queuePrefix: 'subscription-scheduler',
  bossSchema: 'pgboss',
  pollingIntervalSeconds: 1,
  historyRetentionDays: 30,
  rescueCron: '* * * * *',
  interruptedSweepAfterSeconds: 60,
  maxStoredResponseBytes: 4096,
} as const

