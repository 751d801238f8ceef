/**
 * Starting a run: record it, announce it, and sweep in the background. Sweeps in flight are
 * tracked so that `stop()` can wait for them.
 */
import type { Pool } from 'pg'
import { createEnrolmentGate } from './auto-enroll.js'
import type { PgBoss } from 'pg-boss'
import type { EventBus } from '../observe/events.js'
import type { ResolvedOptions } from '../config/options.js'
import { createRun, noteRunError, sweepHeartbeat } from '../records/runs.js'
import type { RunSummary } from '../records/runs.js'
import type { RunTrigger } from '../db/names.js'
import { countDueAsOfNow } from '../records/status.js'
import { resumeEndedPauses } from '../records/pause-control.js'
import { claimSingleRun } from './single-run.js'
import { sweep } from './sweep.js'
import { skipBeyondCatchUpWindow } from './catch-up-window.js'
import { placeNamedDayFirstSlots } from './named-day-first-slots.js'
import type { SweepContext, SweepScope } from './sweep.js'
import type { Telemetry } from '../observe/telemetry.js'
import { retryTransient } from '../db/transient.js'
import { cancelStatementsAfter } from '../db/cancel-after.js'
import { CallsPausedError } from '../errors.js'
import { assertCallsNotPaused, describePause } from '../records/calls-pause.js'
import { askForRescue, firstWatchIn, watchSweep } from './sweep-watch.js'

export interface RunStarter {
  startRun(trigger: RunTrigger, scope: SweepScope): Promise<{ runId: string; swept: Promise<unknown> }>
  /** A run of one subscription, recorded only if it claims its row (single-run.ts): its id, or null. */
  startSingleRun(subscriptionId: string): Promise<string | null>
  /**
   * Runs a scheduled sweep (a cron fire, a catch-up, the rescue's), unless calls are paused: then
   * it passes, and says so once per pause on this scheduler, not at every fire.
   */
  scheduledSweep(start: () => Promise<{ swept: Promise<unknown> }>): Promise<void>
  /** Sweeps still claiming. */
  readonly inFlight: ReadonlySet<Promise<unknown>>
}

export interface RunStarterDeps {
  pool: Pool
  boss: PgBoss
  options: ResolvedOptions
  events: EventBus
  telemetry: Telemetry
  processQueue: string
  /** The rescue pass's queue: a sweep stop() cut short asks another instance's rescue for its rest at once. */
  rescueQueue: string
  /** Stops sweeps between pages. */
  halt: AbortSignal
  /** stop()'s deadline: a sweep's closing writes retry through an outage until it. */
  stopDeadline: AbortSignal
  /** Wakes this instance's process worker: a page it just enqueued need not wait for a poll. */
  wakeWorker: () => void
  /** Run `runId` has enqueued `count` subscriptions, its sweep done. */
  onEnqueued?: (runId: string, count: number) => unknown
}

/**
 * How long the rescue a stopping instance asks for waits: by then that instance's own workers
 * fetch nothing more (its pg-boss stops them once its sweep has returned), so another takes it.
 */
const RESCUE_ASKED_AFTER_SECONDS = 2

/** What a run of each trigger is, as an error refusing it says (`Cannot …`). */
const RUN_ASKED: Record<RunTrigger, string> = {
  cron: 'sweep on the cron schedule',
  'catch-up': 'sweep to catch up',
  manual: 'run now',
  retry: 'retry the failed subscriptions',
  single: 'run the subscription',
  rescue: 'sweep for the rescue',
  backfill: 'backfill',
}

/** A sweep's heartbeat: four to a silence, at most every 10 s. */
const heartbeatMs = (silenceSeconds: number) => Math.min(10_000, (silenceSeconds * 1000) / 4)

export function createRunStarter({ pool: hostPool, boss, options, events, telemetry, processQueue, rescueQueue, halt, stopDeadline, wakeWorker, onEnqueued }: RunStarterDeps): RunStarter {
  const inFlight = new Set<Promise<unknown>>()
  // A sweep's statement still waiting (on a host's lock) past stop()'s deadline is cancelled: the
  // stop waits for the sweep, and the lock may be let go only once the stop has resolved.
  const pool = cancelStatementsAfter(hostPool, stopDeadline)
  // The pause this scheduler's scheduled sweeps last said they passed for: its own, as another
  // scheduler of the process (another prefix, another logger) says its own pauses.
  let saidPausedAt: number | null = null
  // A step of a sweep whose statement stop()'s deadline cancelled is not the run's error: the
  // rescue that sweeps the rest takes the step again.
  const failed = (what: string) => (error: Error) => {
    if (!stopDeadline.aborted) options.logger.error(`${what}: ${error.message}`)
  }
  const enrolment = createEnrolmentGate(options.logger)
  // Enrols what the host added since the last sweep. On demand it always looks; a scheduled
  // sweep may trust an unchanged insert counter (auto-enroll.ts).
  // A failure is the run's error too, so getRun() and the dashboard show why new subscriptions
  // were not called; the rows already enrolled are still owed their sweep.
  const enrolMissing = async (trigger: RunTrigger, runId: string) => {
    try {
      await retryTransient(() => enrolment.run(pool, { exact: trigger === 'manual' }), { logger: options.logger, what: 'enrolling new subscriptions', signal: halt })
    } catch (error) {
      if (stopDeadline.aborted) return
      const timedOut = /statement timeout/.test((error as Error).message)
      const why =
        `Enrolling new subscriptions failed, sweeping the enrolled ones: ${(error as Error).message}` +
        (timedOut ? ' (a statement_timeout cancelled even a small page of them: raise it for the scheduler\'s role or connections).' : '')
      options.logger.error(why)
      await noteRunError(pool, runId, why).catch((noted: Error) => options.logger.error(`Recording run ${runId}'s enrolment error failed: ${noted.message}`))
    }
  }
  const sweepContext: SweepContext = {
    pool,
    boss,
    logger: options.logger,
    processQueue,
    bossSchema: options.bossSchema,
    pageSize: options.pageSize,
    jobSize: options.jobSize,
    claimLeaseSeconds: options.claimLeaseSeconds,
    timings: { expireInSeconds: options.jobExpirySeconds, heartbeatSeconds: options.heartbeatSeconds },
    spreadMs: Math.round(options.spreadMinutes * 60_000),
    signal: halt,
    closeBy: stopDeadline,
    clock: options.clock,
    onRunFinished: (run: RunSummary) => events.emit('run:finished', run),
    onPageEnqueued: () => wakeWorker(),
    onAbandoned: () => askForRescue(boss, rescueQueue, options.logger, RESCUE_ASKED_AFTER_SECONDS),
  }
  const skipBehindWindow = (now: Date, subscriptionIds: string[] | null = null) =>
    skipBeyondCatchUpWindow(pool, options, now, subscriptionIds).catch(failed('Skipping the missed slots older than the catch-up window failed, replaying them'))
  const announce = (runId: string, trigger: RunTrigger, now: Date) => {
    events.emit('run:started', { runId, trigger, startedAt: now })
    telemetry.runStarted(trigger)
  }
  return {
    inFlight,
    async scheduledSweep(start) {
      try {
        await (await start()).swept
      } catch (error) {
        if (!(error instanceof CallsPausedError)) throw error
        if (saidPausedAt === error.pausedAt.getTime()) return
        saidPausedAt = error.pausedAt.getTime()
        options.logger.info(`Scheduled sweeps pass while calls are paused ${describePause(error)}: resumeCalls() lifts the pause, and the next sweep then calls what fell due meanwhile.`)
      }
    },
    async startSingleRun(subscriptionId) {
      await assertCallsNotPaused(pool, options.queuePrefix, `run subscription ${subscriptionId}`)
      const now = options.clock.now()
      // Tracked as a sweep is: stop() waits for its claim.
      // Its run is made with its claim: the span learns the id then (none when nothing was claimed).
      const claiming = telemetry.span('pss.sweep', { 'pss.trigger': 'single' }, async (span) => {
        await skipBehindWindow(now, [subscriptionId])
        const claimed = await claimSingleRun(sweepContext, subscriptionId, now)
        if (claimed) span.setAttribute('pss.run_id', claimed.runId)
        return claimed
      })
      inFlight.add(claiming)
      void claiming.catch(() => {}).finally(() => inFlight.delete(claiming))
      const claimed = await claiming
      if (!claimed) return null
      const { runId, page } = claimed
      announce(runId, 'single', now)
      // What a sweep's page does once committed: its jobs wake this instance's worker, and the
      // earlier runs its takeovers settled are announced.
      sweepContext.onPageEnqueued?.(page.jobIds)
      for (const run of page.finishedRuns) sweepContext.onRunFinished?.(run)
      options.logger.info(`Run ${runId}: enqueued 1 subscription.`)
      void onEnqueued?.(runId, 1)
      return runId
    },
    async startRun(trigger, scope) {
      await assertCallsNotPaused(pool, options.queuePrefix, RUN_ASKED[trigger])
      const now = options.clock.now()
      const runId = await createRun(pool, trigger, now)
      announce(runId, trigger, now)
      // Should this instance die mid-sweep, the watch has its run closed once it is silent (sweep-watch.ts).
      const watching = watchSweep(boss, rescueQueue, runId, firstWatchIn(options.interruptedSweepAfterSeconds)).catch((error: Error) =>
        options.logger.warn(`Run ${runId}: watching its sweep failed (${error.message}); should this instance die mid-sweep, the rescue's next tick closes it.`),
      )
      // Once stop() has begun, the sweep goes straight to its end, which leaves the rest to a rescue.
      const takesDue = () => scope.kinds.includes('due') && !halt.aborted
      const swept = telemetry.span('pss.sweep', { 'pss.run_id': runId, 'pss.trigger': trigger }, async () => {
        if (takesDue() && options.autoEnroll) await enrolMissing(trigger, runId)
        // Pauses that ended make their rows due in this same sweep.
        if (takesDue()) await resumeEndedPauses(pool, now, options.claimLeaseSeconds).catch(failed('Resuming subscriptions whose pause ended failed'))
        // Then, with a catch-up window, rows behind it (an outage, a pause just ended) move up to it.
        if (takesDue()) await skipBehindWindow(now)
        // New rows of a cadence that names its days wait for one of them.
        if (takesDue()) {
          await placeNamedDayFirstSlots(pool, options, now).catch(failed('Giving new subscriptions of cadences that name their days their first slot failed, calling them now'))
        }
        // The backlog gauge reads what was due as the run began (and each minute: fleet-metrics.ts): its
        // count runs beside the sweep, on a snapshot taken before the first claim, so what the sweep
        // claims meanwhile is still counted. A gauge's failure must not keep the sweep from running.
        if (takesDue()) {
          const takenAt = performance.now()
          const backlog = countDueAsOfNow(pool, now)
          void backlog.count.then((n) => telemetry.setDueBacklog(n, takenAt), () => {})
          await backlog.snapshotTaken
        }
        try {
          return await sweep(sweepContext, runId, now, scope)
        } finally {
          await watching
        }
      })
      // Alive between pages too (a long enrolment, a claim waiting on locks): the rescue closes
      // only sweeps silent for interruptedSweepAfterSeconds, which a dead instance's go quiet.
      const beat = setInterval(() => void sweepHeartbeat(pool, runId).catch(() => {}), heartbeatMs(options.interruptedSweepAfterSeconds))
      beat.unref()
      inFlight.add(swept)
      void swept.then((total) => onEnqueued?.(runId, total.claimed), () => {})
      void swept.catch(() => {}).finally(() => (clearInterval(beat), inFlight.delete(swept)))
      return { runId, swept }
    },
  }
}
