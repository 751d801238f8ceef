/**
 * Asking for rescue passes, and a watch on each sweep so that one whose instance died is closed
 * soon after it goes silent rather than at the first rescue tick after that.
 *
 * A rescue tick closes a sweep silent for `interruptedSweepAfterSeconds`. A tick a minute, which
 * pg-boss's cron may send up to half a minute late, closed an instance's sweep killed just after
 * a tick found it alive up to about 2.5 minutes after the kill. The watch is a job on the rescue
 * queue, due when the sweep would have gone silent had it stopped beating as it began; whichever
 * instance takes it looks at the run: finished, nothing to do; still beating, it watches again
 * from the last beat; silent, it asks for a rescue pass at once.
 */
import type { PgBoss } from 'pg-boss'
import type { Pool } from 'pg'
import { sweepSilence } from '../records/runs.js'
import type { Logger } from '../observe/logger.js'

/** A watch job's data, on the rescue queue beside the schedule's ticks (whose data has no `watchRun`). */
interface SweepWatch {
  watchRun: string
}

export function isSweepWatch(data: unknown): data is SweepWatch {
  return typeof (data as Partial<SweepWatch> | null | undefined)?.watchRun === 'string'
}

/**
 * A watch goes off this long after the sweep would have gone silent: its last beat is then
 * surely older than the silence on the database's clock, whichever instance looks.
 */
const WATCH_MARGIN_SECONDS = 2

/**
 * Asked for a pass that the queue refused (one already waits or runs): looked at again this soon.
 * A watch that failed (the database out of reach) is tried again as often, ten times: a failed
 * watch leaves no successor, and its sweep would wait for the schedule's tick.
 */
const RETRY_SECONDS = 5
const WATCH_RETRIES = 10

/**
 * Asks for a rescue pass on the rescue queue, `inSeconds` from now. False when the queue already
 * holds one (that one runs first; it may have begun before this was asked), or when the ask
 * failed: the next pass on the rescue's schedule does the work.
 */
export async function askForRescue(boss: PgBoss, rescueQueue: string, logger: Logger, inSeconds: number): Promise<boolean> {
  try {
    return (await boss.send(rescueQueue, {}, { startAfter: inSeconds })) !== null
  } catch (error) {
    logger.warn(`Asking for a rescue pass failed (${(error as Error).message}); the next on its schedule takes over.`)
    return false
  }
}

/**
 * Watches run `runId`'s sweep from `inSeconds` on. Each watch has a key of its own: the rescue
 * queue holds one job per key at a time, and a watch running must be able to leave the next.
 */
export async function watchSweep(boss: PgBoss, rescueQueue: string, runId: string, inSeconds: number): Promise<void> {
  const data: SweepWatch = { watchRun: runId }
  await boss.send(rescueQueue, data, {
    startAfter: Math.max(1, Math.ceil(inSeconds)),
    singletonKey: `watch:${runId}:${Date.now()}`,
    retryLimit: WATCH_RETRIES,
    retryDelay: RETRY_SECONDS,
  })
}

export interface SweepWatchDeps {
  pool: Pool
  boss: PgBoss
  rescueQueue: string
  logger: Logger
  silenceSeconds: number
}

/** A watch gone off: the run's sweep is over, still beating (watch again), or silent (a pass now). */
export async function lookAtWatchedSweep(deps: SweepWatchDeps, { watchRun: runId }: SweepWatch): Promise<void> {
  const { pool, boss, rescueQueue, logger, silenceSeconds } = deps
  const run = await sweepSilence(pool, runId, silenceSeconds)
  if (!run?.open) return
  if (run.left > 0) return await watchSweep(boss, rescueQueue, runId, run.left + WATCH_MARGIN_SECONDS)
  logger.info(`Run ${runId}'s sweep has been silent for ${silenceSeconds} s or more: asking for a rescue pass now.`)
  if (!(await askForRescue(boss, rescueQueue, logger, 0))) await watchSweep(boss, rescueQueue, runId, RETRY_SECONDS)
}

/** The first watch of a sweep just begun. */
export function firstWatchIn(silenceSeconds: number): number {
  return silenceSeconds + WATCH_MARGIN_SECONDS
}
