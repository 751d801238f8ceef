/**
 * The end of a sweep: its run left to a rescue when stop() cut it short, or closed, with the rows
 * a host's rule refused recorded. These writes retry through an outage, but during a stop only
 * until stop()'s deadline: a stop must not wait out an outage, as the host ends its pool once
 * stop() resolves (a CI run's stop waited the two minutes of a closing write's retries). The run
 * then stays open, and a rescue pass closes it once its sweep has been silent, as it closes a
 * dead instance's.
 */
import type { Pool } from 'pg'
import { isTransientDbError, retryTransient } from '../db/transient.js'
import type { Clock } from '../observe/clock.js'
import type { Logger } from '../observe/logger.js'
import { abandonSweep, finishSweep, noteRunError } from '../records/runs.js'
import type { RunSummary } from '../records/runs.js'
import type { RefusedClaims } from './refused-claims.js'

/** What the end of a sweep needs of its context (sweep.ts's SweepContext). */
export interface SweepEndContext {
  pool: Pool
  logger: Logger
  /** When the sweep ends: a run settled by its own sweep has taken this long. */
  clock: Clock
  /** stop()'s deadline: the sweep's closing writes retry through an outage until it, then leave the run to a rescue. */
  closeBy?: AbortSignal | undefined
  /** Called with each run the sweep finished: its own (nothing was outstanding), or one whose rows it took over. */
  onRunFinished?: ((run: RunSummary) => void) | undefined
  /** Called once stop() has left the sweep's rest to a rescue: true when another instance is asked to rescue now. */
  onAbandoned?: (() => Promise<boolean>) | undefined
}

/** What a sweep that ran to its end (or failed) leaves to be recorded. */
export interface SweepEnd {
  runId: string
  /** The sweep's instant. */
  now: Date
  claimed: number
  /** What stopped the sweep, if anything did. */
  failure: unknown
  refused: RefusedClaims
}

const LEFT_OPEN = 'a rescue pass closes the run once its sweep has been silent for interruptedSweepAfterSeconds'

/** A closing write given up at stop()'s deadline, the database out of reach. */
function givenUpAtDeadline(ctx: SweepEndContext, error: unknown): boolean {
  return ctx.closeBy?.aborted === true && isTransientDbError(error)
}

function retrying(ctx: SweepEndContext, what: string) {
  return { logger: ctx.logger, what, signal: ctx.closeBy }
}

/** stop() cut the sweep short: the run is left to a rescue, which sweeps what this one had not reached. */
export async function leaveToRescue(ctx: SweepEndContext, runId: string, claimed: number): Promise<void> {
  try {
    await retryTransient(() => abandonSweep(ctx.pool, runId), retrying(ctx, `leaving the sweep of run ${runId} to a rescue`))
  } catch (error) {
    if (!givenUpAtDeadline(ctx, error)) throw error
    ctx.logger.warn(
      `Run ${runId}: stop() interrupted its sweep after ${claimed} subscriptions, and the database was out of reach until stop()'s deadline (${(error as Error).message}): ${LEFT_OPEN}, and sweeps the rest.`,
    )
    return
  }
  const asked = (await ctx.onAbandoned?.()) ?? false
  // With no other instance running, the rescue waits for the first to start: say so, as a fleet
  // stopped whole (a deploy) leaves its rows queued or pending until then.
  const by = asked
    ? 'a rescue pass of another running instance (asked now; else the next, within a minute; with none running, the first instance to start)'
    : 'the next rescue pass (any instance\'s, within a minute; with none running, the first instance to start)'
  ctx.logger.info(`Run ${runId}: stop() interrupted its sweep after ${claimed} subscriptions; ${by} sweeps the rest.`)
}

/**
 * The sweep is over: the rows a host's rule refused are recorded, and its run's sweep is closed
 * (the run finished, when nothing it enqueued is outstanding). Throws the sweep's failure, if any,
 * once recorded on the run: whatever was enqueued before it still settles.
 */
export async function closeSweep(ctx: SweepEndContext, end: SweepEnd): Promise<void> {
  const { runId, now, claimed, refused } = end
  // Stopped by the host's rule on every row: the run's error, as one refused row is, not a
  // rejection of runNow() with the driver's error; what was claimed is still called.
  const stoppedByRefusals = end.failure === undefined ? null : refused.stoppedAt(end.failure, claimed)
  const failure = stoppedByRefusals ? undefined : end.failure
  const refusals = stoppedByRefusals ?? refused.summary()
  let closed = true
  try {
    if (refusals) {
      await retryTransient(() => noteRunError(ctx.pool, runId, refusals), retrying(ctx, `recording run ${runId}'s refused claims`))
      await retryTransient(() => refused.record(ctx.pool, now), retrying(ctx, `recording run ${runId}'s refused claims in the failure history`))
    }
    const error = failure ? String((failure as Error).message ?? failure) : undefined
    const finished = await retryTransient(() => finishSweep(ctx.pool, runId, ctx.clock.now(), error), retrying(ctx, `closing the sweep of run ${runId}`))
    if (finished) ctx.onRunFinished?.(finished)
  } catch (error) {
    if (!givenUpAtDeadline(ctx, error)) throw error
    closed = false
    ctx.logger.warn(
      `Run ${runId}: its sweep enqueued ${claimed} subscriptions, but the database was out of reach until stop()'s deadline (${(error as Error).message}), so it could not be closed: ${LEFT_OPEN}.`,
    )
  }
  if (failure) throw failure
  if (closed) ctx.logger.info(`Run ${runId}: enqueued ${claimed} subscription${claimed === 1 ? '' : 's'}.`)
}
