/**
 * What runs inside pg-boss: the cron and rescue schedules, and the three workers (sweep on cron,
 * maintenance on the rescue schedule, page jobs on the process queue).
 */
import { CronExpressionParser } from 'cron-parser'
import type { JobWithMetadata, PgBoss, ScheduleOptions, WorkHandler } from 'pg-boss'
import type { QueueNames } from './boss.js'
import type { ResolvedOptions } from '../config/options.js'
import type { ProcessorContext } from '../process/context.js'
import { processJobs } from '../process/process-jobs.js'
import { lateAfterCronChange } from '../records/sweep-wait.js'
import type { RunStarter } from '../sweep/start-run.js'
import type { RunTrigger } from '../db/names.js'
import { SCHEDULED_SWEEP } from '../sweep/sweep.js'
import { maintain } from './maintenance.js'
import { watchForHeldLoops } from './spare-loops.js'
import { isSweepWatch, lookAtWatchedSweep } from '../sweep/sweep-watch.js'

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
 * ran: a sweep queued behind a long one is still on time). pg-boss files an occurrence by the
 * slot it falls in, so its job can be created a little before it as well as after: a job within
 * the window on either side of an occurrence is that occurrence's. A cron firing more often than
 * every minute cannot be told apart, and is always 'cron'.
 */
export function cronTrigger(options: Pick<ResolvedOptions, 'cron' | 'timezone'>, createdOn: Date): RunTrigger {
  const at = new Date(createdOn.getTime() + 1)
  const previous = CronExpressionParser.parse(options.cron, { tz: options.timezone, currentDate: at }).prev().toDate()
  const next = CronExpressionParser.parse(options.cron, { tz: options.timezone, currentDate: createdOn }).next().toDate()
  const onTime = createdOn.getTime() - previous.getTime() <= CATCH_UP_AFTER_MS || next.getTime() - createdOn.getTime() <= CATCH_UP_AFTER_MS
  return onTime ? 'cron' : 'catch-up'
}

/**
 * The trigger of a sweep job: judged against the cron and zone it was sent for, which the
 * schedule's data carries, else this instance's. A job the old cron sent just before another
 * instance replaced it is on time for that cron, not a catch-up of the new one.
 */
export function sweepTrigger(options: Pick<ResolvedOptions, 'cron' | 'timezone' | 'clock'>, job: { createdOn: Date; data?: unknown } | undefined): RunTrigger {
  if (!job) return cronTrigger(options, options.clock.now())
  const sent = job.data as { cron?: unknown; timezone?: unknown } | null | undefined
  const judged = typeof sent?.cron === 'string' && typeof sent.timezone === 'string' ? { cron: sent.cron, timezone: sent.timezone } : options
  try {
    return cronTrigger(judged, job.createdOn)
  } catch {
    // Data another version wrote, that this one cannot parse: judged by this instance's cron.
    return cronTrigger(options, job.createdOn)
  }
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
  // Each job it sends says what it was sent for (sweepTrigger).
  await boss.schedule(queue, cron, { cron, timezone: resolved.timezone }, { tz: resolved.timezone, key: 'default', ...options })
  // A sweep schedule replaced may leave subscriptions' own times of day waiting hours: said once, here.
  if (option === 'cron' && existing && (existing.cron !== cron || zoneChanged)) {
    const schedule = { cron, timezone: resolved.timezone }
    await lateAfterCronChange(deps.processor.pool, resolved, schedule, resolved.clock.now())
      .then((warning) => warning && resolved.logger.warn(warning))
      .catch((error: Error) => resolved.logger.warn(`Could not check which subscriptions the sweep schedule leaves late: ${error.message}`))
  }
}

/**
 * Registers the schedules (idempotently: an upsert per name and key) and starts the workers.
 * Returns the process worker's id, which a sweep on this instance wakes for each page; none when
 * the instance does not work (`work: false`), and other instances take its pages.
 */
export async function registerWorkers(deps: WorkerDeps): Promise<string | undefined> {
  const { boss, queues, options, runs, processor } = deps
  if (options.schedule) {
    await registerSchedule(deps, queues.sweep, 'cron', { missed: 'once' })
    await registerSchedule(deps, queues.rescue, 'rescueCron', {})
  }
  await boss.work(queues.sweep, { pollingIntervalSeconds: options.pollingIntervalSeconds, includeMetadata: true }, async ([job]) => {
    await runs.scheduledSweep(() => runs.startRun(sweepTrigger(options, job), SCHEDULED_SWEEP))
  })
  const maintenance = { pool: processor.pool, options, runs, events: processor.events }
  const watch = { pool: processor.pool, boss, rescueQueue: queues.rescue, logger: options.logger, silenceSeconds: options.interruptedSweepAfterSeconds }
  // A stopping instance leaves the pass to the others: it may be the one asking for it. A watch
  // it took fails, to be tried again (5 s later, by another): the next tick would not be so soon.
  await boss.work(queues.rescue, { pollingIntervalSeconds: Math.max(options.pollingIntervalSeconds, 5) }, async ([job]) => {
    const watched = isSweepWatch(job?.data) ? job.data : null
    if (processor.haltSignal.aborted) {
      if (watched) throw new Error('This instance is stopping: the watch is left to another.')
      return
    }
    if (watched) await lookAtWatchedSweep(watch, watched)
    else await maintain(maintenance)
  })
  if (!options.work) return undefined
  const work = {
    // A few jobs per fetch, each about a round of calls: pg-boss fetches again at once while
    // fetches come back full, and every job's calls share the instance's call gate.
    localConcurrency: options.fetchLoops,
    batchSize: options.jobsPerFetch,
    includeMetadata: true as const,
    perJobResults: true,
    burstWhenBatchFull: true,
    pollingIntervalSeconds: options.pollingIntervalSeconds,
    // Notifications only make a worker fetch sooner: retries that come due, and pages whose
    // notification was lost, are found by the same poll as without them.
    notifyPollingIntervalSeconds: options.pollingIntervalSeconds,
  }
  const handler = (jobs: JobWithMetadata<unknown>[]) => {
    const running = processJobs(processor, jobs)
    processor.inHand.add(running)
    return running.finally(() => processor.inHand.delete(running))
  }
  const id = await boss.work(queues.process, work, handler)
  watchForHeldLoops({ boss, queue: queues.process, work, handler: handler as WorkHandler<unknown>, processor })
  return id
}
