/**
 * The running part of a scheduler: pg-boss on the host's pool, the cron and rescue schedules,
 * the sweep and process workers, and a graceful stop.
 */
import { CronExpressionParser } from 'cron-parser'
import type { Pool } from 'pg'
import type { JobWithMetadata, PgBoss } from 'pg-boss'
import { createBoss, ensureQueues } from './boss.js'
import type { QueueNames } from './boss.js'
import type { ProcessJobData } from './claim.js'
import type { EventBus } from './events.js'
import { pruneHistory } from './history.js'
import { migrate } from './migrate.js'
import { requireWorkerClient } from './options.js'
import type { ResolvedOptions } from './options.js'
import { processJobs } from './process-jobs.js'
import type { ProcessorContext } from './process-jobs.js'
import { createRun } from './runs.js'
import type { RunTrigger } from './schema.js'
import { countDue } from './status.js'
import { SCHEDULED_SWEEP, sweep } from './sweep.js'
import type { SweepScope } from './sweep.js'
import { createTelemetry } from './telemetry.js'

export interface Engine {
  readonly stopping: boolean
  readonly stopSignal: AbortSignal
  startRun(trigger: RunTrigger, scope: SweepScope): Promise<{ runId: string; swept: Promise<unknown> }>
  stop(timeoutMs: number): Promise<void>
}

/** Most worker loops per instance; each fetches a batch and runs it concurrently. */
const MAX_LOOPS = 2
/** A cron job this late after its occurrence was sent by pg-boss's catch-up, not on time. */
const CATCH_UP_AFTER_MS = 90_000

export async function createEngine(pool: Pool, options: ResolvedOptions, events: EventBus): Promise<Engine> {
  const workerClient = requireWorkerClient(options)
  const { logger, clock } = options
  if (options.migrate) await migrate(pool)
  // An idle client's error would crash a host that listens for none; we log it instead.
  const onPoolError = (error: Error) => logger.error(`Database connection error: ${error.message}`)
  pool.on('error', onPoolError)
  const boss: PgBoss = createBoss(pool, options)
  await boss.start()
  const queues: QueueNames = await ensureQueues(boss, options)
  const telemetry = createTelemetry()
  // Two stages of stopping: `halt` stops sweeps and waits at once; `cancel` aborts the worker
  // calls still in flight when the stop's deadline passes.
  const halt = new AbortController()
  const cancel = new AbortController()
  const sweeps = new Set<Promise<unknown>>()
  let stopping = false
  const sweepContext = {
    pool, boss, logger, processQueue: queues.process, claimBatchSize: options.claimBatchSize,
    // A claim must outlast the queue wait at the morning peak, not just one call; an early
    // expiry would only make a later sweep re-enqueue (the queue drops the duplicate).
    leaseSeconds: Math.max(3600, options.leaseSeconds),
    signal: halt.signal,
    onRunFinished: (run: Parameters<EventBus['emit']>[1]) => events.emit('run:finished', run as never),
  }

  async function startRun(trigger: RunTrigger, scope: SweepScope) {
    const now = clock.now()
    const runId = await createRun(pool, trigger, now)
    events.emit('run:started', { runId, trigger, startedAt: now })
    telemetry.runStarted(trigger)
    // The backlog gauge reads what was due as the run began (and again each rescue tick).
    if (scope.kinds.includes('due')) telemetry.setDueBacklog(await countDue(pool, now, 'due'))
    const swept = telemetry.span('pss.sweep', { 'pss.run_id': runId, 'pss.trigger': trigger }, () => sweep(sweepContext, runId, now, scope))
    sweeps.add(swept)
    void swept.catch(() => {}).finally(() => sweeps.delete(swept))
    return { runId, swept }
  }

  function cronTrigger(): RunTrigger {
    const now = clock.now()
    const previous = CronExpressionParser.parse(options.cron, { tz: options.timezone, currentDate: now }).prev().toDate()
    return now.getTime() - previous.getTime() > CATCH_UP_AFTER_MS ? 'catch-up' : 'cron'
  }

  async function rescue() {
    const now = clock.now()
    const due = await countDue(pool, now, 'expired')
    if (due > 0) {
      logger.warn(`Rescuing ${due} subscriptions whose claim expired (a crashed instance, or a lost job).`)
      await (await startRun('rescue', { kinds: ['expired'] })).swept
    }
    telemetry.setDueBacklog(await countDue(pool, now, 'due'))
    await pruneHistory(pool, options.historyRetentionDays, now)
  }

  await boss.schedule(queues.sweep, options.cron, {}, { tz: options.timezone, key: 'default', missed: 'once' })
  await boss.schedule(queues.rescue, options.rescueCron, {}, { tz: options.timezone, key: 'default' })
  await boss.work(queues.sweep, { pollingIntervalSeconds: options.pollingIntervalSeconds }, async () => {
    await (await startRun(cronTrigger(), SCHEDULED_SWEEP)).swept
  })
  await boss.work(queues.rescue, { pollingIntervalSeconds: Math.max(options.pollingIntervalSeconds, 5) }, rescue)
  const processor: ProcessorContext = { pool, boss, processQueue: queues.process, options, workerClient, events, telemetry, stopSignal: cancel.signal }
  const loops = Math.min(MAX_LOOPS, options.concurrency)
  await boss.work(
    queues.process,
    {
      localConcurrency: loops,
      batchSize: Math.floor(options.concurrency / loops),
      includeMetadata: true,
      perJobResults: true,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: options.pollingIntervalSeconds,
    },
    async (jobs: JobWithMetadata<ProcessJobData>[]) => {
      try {
        return await processJobs(processor, jobs)
      } catch (error) {
        // The batch goes back to pg-boss for a retry; the rows keep their slot and lease.
        logger.error(`Processing a batch of ${jobs.length} failed, will retry: ${(error as Error).message}`)
        throw error
      }
    },
  )
  logger.info(`Started: cron '${options.cron}' (${options.timezone}), concurrency ${options.concurrency}.`)

  return {
    get stopping() {
      return stopping
    },
    stopSignal: halt.signal,
    startRun,
    async stop(timeoutMs) {
      if (stopping) return
      stopping = true
      halt.abort()
      // Past the deadline, in-flight calls are cancelled: they settle as retries, so their
      // subscriptions go back to the queue instead of being lost.
      const deadline = setTimeout(() => cancel.abort(), timeoutMs)
      try {
        await Promise.allSettled([...sweeps])
        await boss.stop({ graceful: true, timeout: timeoutMs + 5_000, close: false })
      } finally {
        clearTimeout(deadline)
        cancel.abort()
        pool.off('error', onPoolError)
      }
      logger.info('Stopped.')
    },
  }
}
