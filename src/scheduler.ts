/**
 * `createSubscriptionScheduler(pool, options)`: the object a host holds. It wires the sweep
 * (cron-fired through pg-boss, or `runNow()`), the process workers, and the status queries.
 */
import type { Pool } from 'pg'
import type { PgBoss } from 'pg-boss'
import type { JobWithMetadata } from 'pg-boss'
import { createBoss, ensureQueues } from './boss.js'
import type { QueueNames } from './boss.js'
import type { ProcessJobData } from './claim.js'
import { enroll } from './enroll.js'
import type { EnrolledSubscription, EnrollOptions } from './enroll.js'
import { NotStartedError } from './errors.js'
import { migrate } from './migrate.js'
import { requireWorkerClient, resolveOptions } from './options.js'
import type { ResolvedOptions, SchedulerOptions } from './options.js'
import { processJobs } from './process-jobs.js'
import { createRun, waitForRun } from './runs.js'
import type { RunSummary } from './runs.js'
import type { RunTrigger } from './schema.js'
import { getStatus } from './status.js'
import type { SchedulerStatus } from './status.js'
import { sweep } from './sweep.js'

export interface RunNowOptions {
  /** Resolve once every subscription the run enqueued has settled. @default true */
  wait?: boolean
}

export interface StopOptions {
  /** How long in-flight worker calls may take to finish; then they are cancelled and retried later. @default 30000 */
  timeoutMs?: number
}

export interface SubscriptionScheduler {
  /** Migrates (unless `migrate: false`), registers the cron schedule and starts the workers. */
  start(): Promise<void>
  /** Stops fetching work, lets in-flight calls finish within `timeoutMs`, never closes the pool. */
  stop(options?: StopOptions): Promise<void>
  /** Sweeps now. Resolves with the run's summary once it settles, or at once with `{ wait: false }`. */
  runNow(options?: { wait?: true }): Promise<RunSummary>
  runNow(options: { wait: false }): Promise<{ runId: string }>
  runNow(options?: RunNowOptions): Promise<RunSummary | { runId: string }>
  /** Adds or updates a subscription's row; pass `db` to join the host's transaction. */
  enroll(subscriptionId: string, options?: EnrollOptions): Promise<EnrolledSubscription>
  /** Counts by status, the last run, the next cron fire and the queue depth. */
  getStatus(): Promise<SchedulerStatus>
}

/** Most worker loops per instance; each fetches a batch and runs it concurrently. */
const MAX_LOOPS = 2

interface Running {
  boss: PgBoss
  queues: QueueNames
  stop: AbortController
  /** Sweeps started by this instance, awaited by stop(). */
  sweeps: Set<Promise<unknown>>
}

/**
 * @example
 * const scheduler = createSubscriptionScheduler(pool, { workerUrl: 'http://worker:8080' })
 * await scheduler.start()
 */
export function createSubscriptionScheduler(pool: Pool, options: SchedulerOptions = {}): SubscriptionScheduler {
  const resolved: ResolvedOptions = resolveOptions(options)
  const { logger, clock } = resolved
  let running: Running | undefined
  let starting: Promise<void> | undefined

  function requireRunning(method: string): Running {
    if (!running || running.stop.signal.aborted) throw new NotStartedError(method)
    return running
  }

  async function startRun(state: Running, trigger: RunTrigger): Promise<{ runId: string; swept: Promise<unknown> }> {
    const now = clock.now()
    const runId = await createRun(pool, trigger, now)
    const swept = sweep(
      { pool, boss: state.boss, logger, processQueue: state.queues.process, claimBatchSize: resolved.claimBatchSize, leaseSeconds: claimLeaseSeconds(resolved), signal: state.stop.signal },
      runId,
      now,
    )
    state.sweeps.add(swept)
    void swept.catch(() => {}).finally(() => state.sweeps.delete(swept))
    return { runId, swept }
  }

  async function doStart(): Promise<void> {
    const workerClient = requireWorkerClient(resolved)
    if (resolved.migrate) await migrate(pool)
    const boss = createBoss(pool, resolved)
    await boss.start()
    const queues = await ensureQueues(boss, resolved)
    const state: Running = { boss, queues, stop: new AbortController(), sweeps: new Set() }
    await boss.schedule(queues.sweep, resolved.cron, { trigger: 'cron' }, { tz: resolved.timezone, key: 'default', missed: 'once' })
    await boss.work(queues.sweep, { pollingIntervalSeconds: resolved.pollingIntervalSeconds }, async () => {
      const { swept } = await startRun(state, 'cron')
      await swept
    })
    const loops = Math.min(MAX_LOOPS, resolved.concurrency)
    await boss.work(
      queues.process,
      {
        localConcurrency: loops,
        batchSize: Math.floor(resolved.concurrency / loops),
        includeMetadata: true,
        perJobResults: true,
        burstWhenBatchFull: true,
        pollingIntervalSeconds: resolved.pollingIntervalSeconds,
      },
      async (jobs: JobWithMetadata<ProcessJobData>[]) => {
        try {
          return await processJobs({ pool, options: resolved, workerClient, stopSignal: state.stop.signal }, jobs)
        } catch (error) {
          // The batch goes back to pg-boss for a retry; the rows keep their slot and lease.
          logger.error(`Processing a batch of ${jobs.length} failed, will retry: ${(error as Error).message}`)
          throw error
        }
      },
    )
    running = state
    logger.info(`Started: cron '${resolved.cron}' (${resolved.timezone}), concurrency ${resolved.concurrency}.`)
  }

  const scheduler: SubscriptionScheduler = {
    async start() {
      if (running) return
      starting ??= doStart().finally(() => {
        starting = undefined
      })
      await starting
    },

    async stop({ timeoutMs = 30_000 }: StopOptions = {}) {
      if (starting) await starting.catch(() => {})
      const state = running
      if (!state) return
      running = undefined
      // Past the deadline, in-flight calls are cancelled: they settle as retries, so their
      // subscriptions go back to the queue instead of being lost.
      const deadline = setTimeout(() => state.stop.abort(), timeoutMs)
      try {
        await Promise.allSettled([...state.sweeps])
        await state.boss.stop({ graceful: true, timeout: timeoutMs + 5_000, close: false })
      } finally {
        clearTimeout(deadline)
        state.stop.abort()
      }
      logger.info('Stopped.')
    },

    runNow: (async (runOptions: RunNowOptions = {}) => {
      const state = requireRunning('runNow')
      const { runId, swept } = await startRun(state, 'manual')
      if (runOptions.wait === false) return { runId }
      await swept
      return await waitForRun(pool, runId, { signal: state.stop.signal })
    }) as SubscriptionScheduler['runNow'],

    enroll: (subscriptionId, enrollOptions) => enroll(pool, subscriptionId, enrollOptions),

    getStatus: () => getStatus(pool, resolved),
  }
  return scheduler
}

/**
 * A claim must outlast the queue wait at the morning peak, not just one call: a lease that
 * expired while the job still waited would only make the next sweep re-enqueue it (a no-op,
 * the queue drops the duplicate), but it is wasted work.
 */
function claimLeaseSeconds(options: ResolvedOptions): number {
  return Math.max(3600, options.leaseSeconds)
}
