/**
 * A backfill travels as a chain of jobs, each enqueuing the next in the transaction that records
 * its slot (the first in the one that creates the run): while its run is open, one of its jobs is
 * always queued, waiting for its retry, or running. A run with none left (its job deleted by
 * hand, its queue purged, or a last failure whose closing step did not commit) would stay open
 * for ever, and refuse every later backfill of its subscription. These runs are closed, the slots
 * left counted skipped, with an error that says so.
 */
import type { Executor } from '../db/executor.js'
import { quoteIdent } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import { toSummary } from '../records/runs.js'
import type { RunRow, RunSummary } from '../records/runs.js'
import { LIVE_JOB_STATES } from '../sweep/live-claims.js'
import type { JobQueue } from '../sweep/live-claims.js'
import type { EventBus } from '../observe/events.js'
import type { Logger } from '../observe/logger.js'

export interface LostBackfill {
  run: RunSummary
  subscriptionId: string
  /** Slots it had processed (called, or skipped) before its job was lost. */
  done: number
}

/**
 * Closes the open backfill runs (of one subscription, or all) whose chain of jobs is gone, and
 * returns them. Each run's row is locked while it is judged, so a step recording at that moment
 * either commits first (and its next job is seen) or finds the run closed and counts nothing.
 */
export async function closeLostBackfills(db: Executor, now: Date, queue: JobQueue, subscriptionId: string | null = null): Promise<LostBackfill[]> {
  const { rows } = await db.query<RunRow & { done: number; lost_subscription: string }>(
    `WITH lost AS (
       SELECT r.id, r.successful + r.failed + r.skipped AS done
         FROM ${TABLES.runs} r
        WHERE r.trigger = 'backfill' AND r.finished_at IS NULL
          AND ($2::uuid IS NULL OR r.subscription_id = $2)
          AND NOT EXISTS (SELECT 1 FROM ${quoteIdent(queue.bossSchema)}.job j
                           WHERE j.name = $3 AND j.state IN ${LIVE_JOB_STATES} AND j.data->>'runId' = r.id::text)
        FOR NO KEY UPDATE OF r SKIP LOCKED
     )
     UPDATE ${TABLES.runs} r
        SET skipped = r.claimed - r.successful - r.failed, finished_at = $1,
            error = COALESCE(r.error, format('its job was lost (deleted by hand, or its queue purged) after %s of its %s slots; the rest were not called: backfill them again', lost.done, r.claimed))
       FROM lost
      WHERE r.id = lost.id
      RETURNING r.*, lost.done, r.subscription_id::text AS lost_subscription`,
    [now, subscriptionId, queue.processQueue],
  )
  return rows.map((row) => ({ run: toSummary(row), subscriptionId: row.lost_subscription, done: row.done }))
}

/** Says each closed backfill: a warning naming what it did and what to do, and its `run:finished`. */
export function announceLostBackfills(lost: readonly LostBackfill[], logger: Logger, events: EventBus): void {
  for (const { run, subscriptionId, done } of lost) {
    logger.warn(
      `Run ${run.runId}, a backfill of subscription ${subscriptionId}, lost its job after ${done} of its ${run.processed} slots ` +
        '(deleted by hand, or its queue purged); closed it, the slots left counted skipped. Backfill them again to call them.',
    )
    events.emit('run:finished', run)
  }
}
