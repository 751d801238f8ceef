/**
 * A sweep drains every due row, page by page, each page in its own short transaction, so it
 * never holds a connection for long and never loads all due rows into memory.
 */
import type { Pool } from 'pg'
import type { PgBoss } from 'pg-boss'
import { claimBatch, START_CURSOR } from './claim.js'
import type { ClaimKind, Cursor } from './claim.js'
import { withTransaction } from '../db/executor.js'
import type { Clock } from '../observe/clock.js'
import type { Logger } from '../observe/logger.js'
import { finishSweep } from '../records/runs.js'
import type { RunSummary } from '../records/runs.js'
import { retryTransient } from '../db/transient.js'

export interface SweepContext {
  pool: Pool
  boss: PgBoss
  logger: Logger
  processQueue: string
  claimBatchSize: number
  leaseSeconds: number
  /** Lease of a claimed row whose job was dropped as a duplicate. */
  droppedLeaseSeconds: number
  /** Spread of a due sweep's calls, in ms (`spreadMinutes`); 0 for none. */
  spreadMs: number
  /** Stops the sweep between pages (the scheduler is stopping). */
  signal?: AbortSignal
  /** When the sweep ends: a run settled by its own sweep has taken this long. */
  clock: Clock
  /** Called when the sweep itself settled the run (nothing was outstanding). */
  onRunFinished?: (run: RunSummary) => void
}

/** Which rows a sweep takes, in order. A plain sweep takes expired claims, then due rows. */
export interface SweepScope {
  kinds: ClaimKind[]
  subscriptionIds?: string[] | null
  /**
   * Due rows only if no run has claimed them since this instant. The rescue of a sweep that died
   * takes what that sweep left, not the rows other runs have taken (and maybe failed) since.
   */
  claimedBefore?: Date
}

export const SCHEDULED_SWEEP: SweepScope = { kinds: ['expired', 'due'] }

export interface SweepResult {
  claimed: number
  enqueued: number
}

/**
 * Claims every row due at `now` into run `runId`. Rows a concurrent sweep holds are skipped;
 * that sweep enqueues them. Expired leases go first: they are the oldest work.
 */
export async function sweep(ctx: SweepContext, runId: string, now: Date, scope: SweepScope = SCHEDULED_SWEEP): Promise<SweepResult> {
  const total: SweepResult = { claimed: 0, enqueued: 0 }
  let failure: unknown
  try {
    for (const kind of scope.kinds) {
      let cursor: Cursor | null = START_CURSOR
      while (cursor && !ctx.signal?.aborted) {
        const after: Cursor = cursor
        // A page is one transaction; if the database drops mid-page it rolls back whole, so
        // the page is simply claimed again once the database is back.
        const page = await retryTransient(
          () =>
            withTransaction(ctx.pool, (client) =>
              claimBatch(client, ctx.boss, {
                kind,
                now,
                after,
                limit: ctx.claimBatchSize,
                leaseSeconds: ctx.leaseSeconds,
                droppedLeaseSeconds: ctx.droppedLeaseSeconds,
                spreadMs: ctx.spreadMs,
                runId,
                processQueue: ctx.processQueue,
                subscriptionIds: scope.subscriptionIds ?? null,
                claimedBefore: scope.claimedBefore ?? null,
              }),
            ),
          { logger: ctx.logger, what: `claiming subscriptions for run ${runId}`, signal: ctx.signal },
        )
        total.claimed += page.claimed
        total.enqueued += page.enqueued
        cursor = page.next
      }
    }
  } catch (error) {
    failure = error
    ctx.logger.error(`Sweep of run ${runId} stopped after ${total.enqueued} subscriptions: ${(error as Error).message}`)
  }
  // Whatever was enqueued before a failure still settles; the run records the error.
  const finished = await retryTransient(
    () => finishSweep(ctx.pool, runId, ctx.clock.now(), failure ? String((failure as Error).message ?? failure) : undefined),
    { logger: ctx.logger, what: `closing the sweep of run ${runId}` },
  )
  if (finished) ctx.onRunFinished?.(finished)
  if (failure) throw failure
  ctx.logger.info(`Run ${runId}: enqueued ${total.enqueued} subscriptions.`)
  return total
}
