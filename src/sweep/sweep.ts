/**
 * A sweep drains every due row, page by page, each page in its own short transaction, so it
 * never holds a connection for long and never loads all due rows into memory.
 */
import type { Pool, PoolClient } from 'pg'
import type { PgBoss } from 'pg-boss'
import { claimPage, firstCandidate } from './claim.js'
import type { ClaimPageInput, ClaimPageResult } from './claim.js'
import { START_CURSOR } from './claim-sql.js'
import type { ClaimKind, Cursor } from './claim-sql.js'
import { withTransaction } from '../db/executor.js'
import type { Logger } from '../observe/logger.js'
import type { PageJobTimings } from '../process/page-job.js'
import { isStatementTimeout, MIN_PAGE_SIZE, retryTransient, SHRINK } from '../db/transient.js'
import { createRefusedClaims, isRowRefusal, RefusedClaim, uuidBefore } from './refused-claims.js'
import { closeSweep, leaveToRescue } from './sweep-end.js'
import type { SweepEndContext } from './sweep-end.js'

export interface SweepContext extends SweepEndContext {
  pool: Pool
  boss: PgBoss
  logger: Logger
  processQueue: string
  bossSchema: string
  pageSize: number
  jobSize: number
  /** How long a claim holds a row (config/flow.ts). */
  claimLeaseSeconds: number
  timings: PageJobTimings
  /** Spread of a due sweep's calls, in ms (`spreadMinutes`); 0 for none. */
  spreadMs: number
  /** Stops the sweep between pages (the scheduler is stopping). */
  signal?: AbortSignal | undefined
  /** Called after each page commits, with its jobs: the sweeping instance wakes its own worker. */
  onPageEnqueued?: ((jobIds: string[]) => void) | undefined
}

/** Which rows a sweep takes, in order. A plain sweep takes expired claims, then due rows. */
export interface SweepScope {
  kinds: ClaimKind[]
  subscriptionIds?: string[] | null | undefined
  /**
   * Due rows only if no run has claimed them since this instant. The rescue of a sweep that died
   * takes what that sweep left, not the rows other runs have taken (and maybe failed) since.
   */
  claimedBefore?: Date | undefined
}

export const SCHEDULED_SWEEP: SweepScope = { kinds: ['expired', 'due'] }

export interface SweepResult {
  claimed: number
}

/**
 * Claim loops per kind: two walk the index side by side, each with its own cursor; SKIP LOCKED
 * keeps them off each other's pages, and a claimed row leaves the index they walk.
 */
const LOOPS = 2
/**
 * A loop's first page is one job's rows (at least FIRST_PAGE), and each page after it four times
 * the last, up to `pageSize`: a small first transaction commits at once, so the first calls of a
 * morning herd start while the big pages are still being claimed.
 */
const FIRST_PAGE = 64
const RAMP = 4

/** What a page of `runId`'s sweep of `scope` claims: its kind, from `after`, at most `limit` rows. */
export function claimInput(ctx: SweepContext, runId: string, now: Date, scope: SweepScope, page: Pick<ClaimPageInput, 'kind' | 'after' | 'limit'>): ClaimPageInput {
  return {
    ...page,
    now,
    jobSize: ctx.jobSize,
    leaseSeconds: ctx.claimLeaseSeconds,
    timings: ctx.timings,
    spreadMs: ctx.spreadMs,
    runId,
    processQueue: ctx.processQueue,
    bossSchema: ctx.bossSchema,
    subscriptionIds: scope.subscriptionIds ?? null,
    claimedBefore: scope.claimedBefore ?? null,
  }
}

/**
 * A one-row claim that knows its row: the first candidate is locked (SKIP LOCKED: not one another
 * page holds), then claimed from a cursor just before it, so that a refusal is that row's even
 * when a row before it comes free meanwhile (another walker's refused page rolling back).
 */
async function claimOneNamed(client: PoolClient, boss: PgBoss, input: ClaimPageInput): Promise<ClaimPageResult> {
  const row = await firstCandidate(client, input)
  if (!row) return { claimed: 0, jobIds: [], finishedRuns: [], next: null }
  try {
    return await claimPage(client, boss, { ...input, after: { key: row.key, id: uuidBefore(row.id) } })
  } catch (error) {
    throw isRowRefusal(error) ? new RefusedClaim(row, error) : error
  }
}

/**
 * Claims every row due at `now` into run `runId`, a page job per page. Rows a concurrent sweep
 * holds are skipped; that sweep enqueues them. Expired leases go first: they are the oldest work.
 */
export async function sweep(ctx: SweepContext, runId: string, now: Date, scope: SweepScope = SCHEDULED_SWEEP): Promise<SweepResult> {
  const total: SweepResult = { claimed: 0 }
  let failure: unknown
  let unfinished = false
  const refused = createRefusedClaims(runId, ctx.logger)
  let saidTimeout = false
  const walk = async (kind: ClaimKind) => {
    let cursor: Cursor | null = START_CURSOR
    let limit = Math.min(ctx.pageSize, Math.max(ctx.jobSize, FIRST_PAGE))
    // A page a host's rule refused (refused-claims.ts): pages shrink until the refused row is
    // claimed alone, then the walk steps past it and goes on at the size it had before.
    let narrowedFrom: number | null = null
    // The largest page the walk grows back to: smaller once a statement_timeout cancelled one.
    let ceiling = ctx.pageSize
    while (cursor && !ctx.signal?.aborted && failure === undefined) {
      const after: Cursor = cursor
      const input = claimInput(ctx, runId, now, scope, { kind, after, limit })
      let page
      try {
        // A page is one transaction; if the database drops mid-page it rolls back whole, so
        // the page is simply claimed again once the database is back.
        page = await retryTransient(
          () => withTransaction(ctx.pool, (client) => (limit === 1 ? claimOneNamed(client, ctx.boss, input) : claimPage(client, ctx.boss, input))),
          { logger: ctx.logger, what: `claiming subscriptions for run ${runId}`, signal: ctx.signal },
        )
      } catch (error) {
        if (error instanceof RefusedClaim && refused.canSkip()) {
          refused.add(error.row.subscription_id, error.row.id, error.refusal)
          cursor = { key: error.row.key, id: error.row.id }
          limit = narrowedFrom ?? limit
          narrowedFrom = null
          continue
        }
        const cause = error instanceof RefusedClaim ? error.refusal : error
        // Cancelled by stop() at its deadline (cancel-after.ts), not by a statement_timeout: the
        // page rolled back, and the rescue sweeps it with the rest.
        if (isStatementTimeout(cause) && ctx.closeBy?.aborted) break
        // A page the role's statement_timeout cancelled (a busy or slow database): claimed again a
        // quarter the size, as enrolment does. A trial's 30 ms timeout stopped sweeps after 64 rows.
        if (isStatementTimeout(cause) && Math.floor(limit / SHRINK) >= MIN_PAGE_SIZE) {
          limit = Math.floor(limit / SHRINK)
          ceiling = limit
          if (!saidTimeout) ctx.logger.warn(`Claiming a page for run ${runId} was cancelled by a statement_timeout (${(cause as Error).message}); claiming smaller pages (${limit} rows), which each fit in it.`)
          saidTimeout = true
          continue
        }
        if (!isRowRefusal(cause) || !refused.canSkip() || limit === 1) throw cause
        narrowedFrom ??= limit
        limit = Math.max(1, Math.floor(limit / RAMP))
        continue
      }
      total.claimed += page.claimed
      if (page.jobIds.length > 0) ctx.onPageEnqueued?.(page.jobIds)
      for (const run of page.finishedRuns) ctx.onRunFinished?.(run)
      cursor = page.next
      if (narrowedFrom === null) limit = Math.min(ceiling, limit * RAMP)
    }
    if (cursor) unfinished = true
  }
  try {
    for (const kind of scope.kinds) {
      const loops = await Promise.allSettled(Array.from({ length: LOOPS }, () => walk(kind)))
      const rejected = loops.find((loop): loop is PromiseRejectedResult => loop.status === 'rejected')
      if (rejected) throw rejected.reason
    }
  } catch (error) {
    failure = error
    if (!ctx.signal?.aborted) ctx.logger.error(`Sweep of run ${runId} stopped after ${total.claimed} subscriptions: ${(error as Error).message}`)
  }
  // Cut short by stop(): the run goes on; a rescue pass sweeps what this one had not reached.
  if (ctx.signal?.aborted && (unfinished || failure !== undefined)) await leaveToRescue(ctx, runId, total.claimed)
  else await closeSweep(ctx, { runId, now, claimed: total.claimed, failure, refused })
  return total
}
