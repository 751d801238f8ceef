/**
 * The minutely maintenance tick (the rescue queue): close the runs of sweeps that died with
 * their instance and sweep what they left, renew the expired claims of jobs pg-boss still holds
 * and take back the others, finish runs nobody finished, resume subscriptions whose pause ended,
 * refresh the backlog gauge, and prune history and the rows of instances long gone.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import type { EventBus } from '../observe/events.js'
import { pruneHistory } from '../records/failures.js'
import { pruneInstances } from '../records/instances.js'
import { closeSilentSweeps, finishForgottenRuns } from '../records/runs.js'
import { countDue } from '../records/status.js'
import { resumeEndedPauses } from '../records/pause-control.js'
import type { RunStarter } from '../sweep/start-run.js'
import { SCHEDULED_SWEEP } from '../sweep/sweep.js'
import { renewLiveClaims } from '../sweep/live-claims.js'
import { queueNames } from './boss.js'
import { announceLostBackfills, closeLostBackfills } from '../backfill/lost-backfills.js'

export interface MaintenanceDeps {
  pool: Pool
  options: ResolvedOptions
  runs: RunStarter
  events: EventBus
}

export async function maintain({ pool, options, runs, events }: MaintenanceDeps): Promise<void> {
  const now = options.clock.now()
  // A backlog longer than a lease: its rows' jobs still wait in pg-boss, and will run.
  const renewed = await renewLiveClaims(pool, now, options.claimLeaseSeconds, { bossSchema: options.bossSchema, processQueue: queueNames(options.queuePrefix).process })
  if (renewed > 0) {
    options.logger.info(
      `Renewed, for another ${options.claimLeaseSeconds} s, ` +
        (renewed === 1
          ? 'the claim of 1 subscription whose job is still queued or running past its lease: '
          : `the claims of ${renewed} subscriptions whose jobs are still queued or running past their lease: `) +
        `the jobs wait longer than expected for a worker (a backlog, or workers busy). ${renewed === 1 ? 'It stays with its job.' : 'They stay with their jobs.'}`,
    )
  }
  const interrupted = await closeSilentSweeps(pool, now, options.interruptedSweepAfterSeconds)
  for (const run of interrupted) {
    options.logger.warn(`Run ${run.runId}'s sweep was left unfinished (its instance stopped mid-sweep, or died); closing it, and sweeping what it left.`)
    if (run.finishedAt) events.emit('run:finished', run)
  }
  const expired = await countDue(pool, now, 'expired')
  if (interrupted.length > 0) {
    // What those sweeps left: rows no run has claimed since the first of them began.
    const claimedBefore = new Date(Math.min(...interrupted.map((run) => run.startedAt.getTime())))
    await runs.scheduledSweep(() => runs.startRun('rescue', { ...SCHEDULED_SWEEP, claimedBefore }))
  } else if (expired > 0) {
    // Said once the rescue has started: while calls are paused it does not, at every tick.
    await runs.scheduledSweep(async () => {
      const started = await runs.startRun('rescue', { kinds: ['expired'] })
      options.logger.warn(
        `Rescuing ${expired} subscription${expired === 1 ? '' : 's'} whose claim expired with no job left to settle it ` +
          '(a crashed instance, a lost job, a call stop() cancelled on its last attempt, or a row an older version left processing).',
      )
      return started
    })
  }
  for (const run of await finishForgottenRuns(pool, now)) events.emit('run:finished', run)
  announceLostBackfills(await closeLostBackfills(pool, now, { bossSchema: options.bossSchema, processQueue: queueNames(options.queuePrefix).process }), options.logger, events)
  await resumeEndedPauses(pool, now, options.claimLeaseSeconds)
  // Only the instances that register the schedule prune, by their retention: a CLI command's
  // process or an admin server (schedule: false) runs on the defaults, and a 30-day default of
  // theirs would have deleted a fleet's years of history at the tick it took.
  if (options.schedule) await pruneHistory(pool, options.historyRetentionDays, now)
  await pruneInstances(pool)
}
