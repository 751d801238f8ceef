/**
 * What runs inside pg-boss: the cron and rescue schedules, and the three workers (sweep on cron,
 * rescue of expired claims, processing of subscriptions).
 */
import { CronExpressionParser } from 'cron-parser'
import type { JobWithMetadata, PgBoss, ScheduleOptions } from 'pg-boss'
import type { QueueNames } from './boss.js'
import type { ProcessJobData } from '../sweep/claim.js'
import { pruneHistory } from '../records/failures.js'
import type { ResolvedOptions } from '../config/options.js'
import { processJobs } from '../process/process-batch.js'
import type { ProcessorContext } from '../process/process-batch.js'
import type { RunStarter } from '../sweep/start-run.js'
import type { RunTrigger } from '../db/names.js'
import { closeSilentSweeps } from '../records/runs.js'
import { countDue } from '../records/status.js'
import { SCHEDULED_SWEEP } from '../sweep/sweep.js'

/**
 * pg-boss sends an on-time occurrence within its 60 s due window; a job created later than that
 * after its occurrence was sent by the catch-up of a missed one.
 */
const CATCH_UP_AFTER_MS = 60_000

export interface WorkerDeps {
  boss: PgBoss
  queues: QueueNames
  options: ResolvedOptions
  runs: RunStarter
  processor: ProcessorContext
}

/**
 * Whether a cron job is on time or a catch-up, judged from when pg-boss created it (not when it
 * ran: a sweep queued behind a long one is still on time). A cron firing more often than every
 * minute cannot be told apart, and is always 'cron'.
 */
function cronTrigger(options: ResolvedOptions, createdOn: Date): RunTrigger {
  // The occurrence the job is for is the last one at or before its creation.
  const at = new Date(createdOn.getTime() + 1)
  const previous = CronExpressionParser.parse(options.cron, { tz: options.timezone, currentDate: at }).prev().toDate()
  return createdOn.getTime() - previous.getTime() > CATCH_UP_AFTER_MS ? 'catch-up' : 'cron'
}

async function rescue({ options, runs, processor }: WorkerDeps): Promise<void> {
  const { pool } = processor
  const now = options.clock.now()
  const interrupted = await closeSilentSweeps(pool, now, options.interruptedSweepAfterSeconds)
  for (const run of interrupted) {
    options.logger.warn(`Run ${run.runId}'s sweep went silent (its instance died); closing it, and sweeping what it left.`)
    if (run.finishedAt) processor.events.emit('run:finished', run)
  }
  const expired = await countDue(pool, now, 'expired')
  if (interrupted.length > 0) {
    // What those sweeps left: rows no run has claimed since the first of them began.
    const claimedBefore = new Date(Math.min(...interrupted.map((run) => run.startedAt.getTime())))
    await (await runs.startRun('rescue', { ...SCHEDULED_SWEEP, claimedBefore })).swept
  } else if (expired > 0) {
    options.logger.warn(`Rescuing ${expired} subscriptions whose claim expired (a crashed instance, or a lost job).`)
    await (await runs.startRun('rescue', { kinds: ['expired'] })).swept
  }
  processor.telemetry.setDueBacklog(await countDue(pool, now, 'due'))
  await pruneHistory(pool, options.historyRetentionDays, now)
}

/**
 * Registers a schedule (an upsert per name and key). Replacing another instance's cron or zone
 * changes it for every instance, so it is said out loud.
 */
async function registerSchedule(deps: WorkerDeps, queue: string, option: 'cron' | 'rescueCron', options: ScheduleOptions): Promise<void> {
  const { boss, options: resolved } = deps
  const cron = resolved[option]
  const [existing] = await boss.getSchedules(queue, 'default')
  // The rescue's zone rarely matters (it runs every minute by default): only its cron is news.
  const zoneChanged = option === 'cron' && existing?.timezone !== resolved.timezone
  if (existing && (existing.cron !== cron || zoneChanged)) {
    resolved.logger.warn(
      `Replacing the registered ${option === 'cron' ? 'sweep' : 'rescue'} schedule '${existing.cron}' (${existing.timezone}) with ` +
        `'${cron}' (${resolved.timezone}), from this instance's \`${option}\` and \`timezone\` options: every instance now follows it. ` +
        'Start instances that should leave the schedule alone with `schedule: false`.',
    )
  }
  await boss.schedule(queue, cron, {}, { tz: resolved.timezone, key: 'default', ...options })
}

/** Registers the schedules (idempotently: an upsert per name and key) and starts the workers. */
export async function registerWorkers(deps: WorkerDeps): Promise<void> {
  const { boss, queues, options, runs, processor } = deps
  const { logger } = options
  if (options.schedule) {
    await registerSchedule(deps, queues.sweep, 'cron', { missed: 'once' })
    await registerSchedule(deps, queues.rescue, 'rescueCron', {})
  }
  await boss.work(queues.sweep, { pollingIntervalSeconds: options.pollingIntervalSeconds, includeMetadata: true }, async ([job]) => {
    await (await runs.startRun(cronTrigger(options, job?.createdOn ?? options.clock.now()), SCHEDULED_SWEEP)).swept
  })
  await boss.work(queues.rescue, { pollingIntervalSeconds: Math.max(options.pollingIntervalSeconds, 5) }, () => rescue(deps))
  await boss.work(
    queues.process,
    {
      // Each loop fetches more jobs than its share of call slots; the calls wait in the
      // instance's call gate (call-gate.ts), so slots stay busy while a batch begins and settles.
      localConcurrency: options.fetchLoops,
      batchSize: options.fetchBatchSize,
      // With a global cap, pg-boss fetches only while fewer jobs than the cap are active across
      // all instances (its group limit); the permits in call-gate.ts make the cap exact.
      ...(options.maxConcurrentCalls === null ? {} : { groupConcurrency: options.maxConcurrentCalls }),
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
}
