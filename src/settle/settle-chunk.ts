/**
 * Settles a chunk of one job's outcomes: the rows, the retry jobs, the failure history, the dead
 * letters and the run's counters, in one transaction; then says what to announce. A chunk whose
 * calls all succeeded is one statement, with no transaction to open: the common case.
 */
import type { Pool } from 'pg'
import type { PgBoss } from 'pg-boss'
import { retryLeaseSeconds } from '../config/flow.js'
import type { ResolvedOptions } from '../config/options.js'
import { withTransaction } from '../db/executor.js'
import type { Executor } from '../db/executor.js'
import type { SchedulerEvents } from '../observe/events.js'
import { pageJob } from '../process/page-job.js'
import { recordFailureHistory } from '../records/failures.js'
import { latenessHistogram } from '../records/lateness.js'
import { addOutcomes, addOutcomesSql, justFinished } from '../records/runs.js'
import type { OutcomeCounts, RunRow, RunSummary } from '../records/runs.js'
import { idempotencyKey } from '../worker-client/types.js'
import type { Cancelled, Failure, Outcome, Success } from './outcome.js'
import { COMPLETE_ROWS, recordFinalFailures, recordGone, recordRetries, releaseRows, rowParams } from './row-writes.js'

export type Announcement = { [E in keyof SchedulerEvents]: [E, SchedulerEvents[E]] }[keyof SchedulerEvents]

export interface SettleDeps {
  pool: Pool
  boss: PgBoss
  processQueue: string
  deadQueue: string
  options: ResolvedOptions
}

/** A chunk: outcomes of calls made by job `jobId` of run `runId`, and rows it may not call (`unowned`). */
export interface Chunk {
  jobId: string
  runId: string
  outcomes: Outcome[]
  /** Rows the job was given but found paused, inactive or gone: each is skipped once. */
  leftovers?: string[]
}

export interface ChunkSettlement {
  counts: OutcomeCounts
  announcements: Announcement[]
  finishedRun: RunSummary | null
}

function eventBase(runId: string, o: Outcome) {
  return { runId, subscriptionId: o.row.subscription_id, processingId: o.row.id, scheduledFor: o.row.scheduled_for, attempt: o.attempt }
}

const successValues = (o: Success) => [o.nextRunAt.toISOString(), o.response ?? null]

/** Every call's lateness, whatever became of its outcome: lateness is about when calls started. */
function latenessOf(outcomes: Outcome[]): number[] {
  const values = outcomes.flatMap((o) => (o.startedAt === null ? [] : [o.startedAt - o.row.scheduled_for.getTime()]))
  return values.length === 0 ? [] : latenessHistogram(values)
}

/** Successes and the run's counters in one statement: rows completed, and the run's row after. */
async function completeInOneGo(db: Executor, chunk: Chunk, successes: Success[], now: Date): Promise<{ done: Set<string>; run: RunSummary | null }> {
  const { lock, update } = addOutcomesSql({
    run: '$5', successful: '(SELECT count(*) FROM done)', failed: '0', retried: '0', skipped: '0', lateness: '$6::int[]', now: '$4::timestamptz',
  })
  const { rows } = await db.query<RunRow & { just_finished: boolean; done_ids: string[] | null }>(
    `WITH done AS (${COMPLETE_ROWS} RETURNING sp.id), ${lock}, counted AS (${update})
     SELECT counted.*, (SELECT array_agg(id::text) FROM done) AS done_ids FROM counted`,
    [...rowParams(successes, (o) => o.row.id, successValues), chunk.jobId, now, chunk.runId, latenessOf(chunk.outcomes)],
  )
  return { done: new Set(rows[0]?.done_ids ?? []), run: justFinished(rows[0]) }
}

/** Hands cancelled rows to a new job of the same run: stop() cut their calls short. */
async function handOver(db: Executor, deps: SettleDeps, chunk: Chunk, cancelled: Cancelled[]): Promise<void> {
  if (cancelled.length === 0) return
  const { options } = deps
  const job = pageJob(chunk.runId, [], { expireInSeconds: options.jobExpirySeconds, heartbeatSeconds: options.heartbeatSeconds })
  const { rows } = await db.query<{ id: string }>(
    `UPDATE subscription_processing SET job_id = $3 WHERE id = ANY($1::uuid[]) AND (job_id = $2 AND status = 'queued') IS TRUE RETURNING id`,
    [cancelled.map((o) => o.row.id), chunk.jobId, job.id],
  )
  if (rows.length === 0) return
  await deps.boss.insert(deps.processQueue, [{ ...job, data: { runId: chunk.runId, ids: rows.map((r) => r.id) } }], { db: asBossDb(db) })
}

function asBossDb(db: Executor) {
  return { executeSql: async (text: string, values?: unknown[]) => await db.query(text, values) } as never
}

/** Failures, retried or final: rows, retry jobs, dead letters, history. Returns what was recorded. */
async function recordFailures(db: Executor, deps: SettleDeps, chunk: Chunk, failures: Failure[], now: Date) {
  const { options } = deps
  const timings = { expireInSeconds: options.jobExpirySeconds, heartbeatSeconds: options.heartbeatSeconds }
  const retrying = failures.filter((o) => !o.final)
  // A call cut short by stop() with no retry left: no job carries it; the rescue takes the row at once.
  const orphaned = (o: Failure) => o.cancelled && o.attempt >= options.retry.limit + 1
  const jobs = new Map(retrying.filter((o) => !orphaned(o)).map((o) => [o.row.id, pageJob(chunk.runId, [o.row.id], timings, {
    key: `${idempotencyKey(o.row.subscription_id, o.row.scheduled_for)}#${o.attempt + 1}`,
    startAfter: o.retryAt ?? now,
  })]))
  const retried = await recordRetries(db, chunk.jobId, retrying.map((o) => {
    const job = jobs.get(o.row.id)
    const startsIn = ((o.retryAt ?? now).getTime() - now.getTime()) / 1000
    return { id: o.row.id, error: o.error, jobId: job?.id ?? null, leaseUntil: job ? new Date(now.getTime() + retryLeaseSeconds(options, startsIn) * 1000) : now }
  }), now)
  const retryJobs = [...jobs].filter(([id]) => retried.has(id)).map(([, job]) => job)
  if (retryJobs.length > 0) await deps.boss.insert(deps.processQueue, retryJobs, { db: asBossDb(db) })

  const finals = failures.filter((o) => o.final)
  const { recorded: failed, paused } = await recordFinalFailures(db, chunk.jobId, finals.map((o) => ({ id: o.row.id, error: o.error })), now, options.pauseAfterConsecutiveFailures)
  const dead = finals.filter((o) => failed.has(o.row.id)).map((o) => ({
    data: { ...eventBase(chunk.runId, o), scheduledFor: o.row.scheduled_for.toISOString(), error: o.error, status: o.status },
  }))
  if (dead.length > 0) await deps.boss.insert(deps.deadQueue, dead, { db: asBossDb(db) })

  const recorded = failures.filter((o) => (o.final ? failed : retried).has(o.row.id))
  await recordFailureHistory(db, recorded.map((o) => ({ ...eventBase(chunk.runId, o), final: o.final, error: o.error, status: o.status })), now)
  const orphans = new Set(retrying.filter(orphaned).map((o) => o.row.id))
  return { retried, failed, paused, recorded, orphans }
}

/** Settles `chunk`. Rides out nothing itself: the caller retries a transient failure whole. */
export async function settleChunk(deps: SettleDeps, chunk: Chunk): Promise<ChunkSettlement> {
  const { options, pool } = deps
  const now = options.clock.now()
  const successes = chunk.outcomes.filter((o): o is Success => o.kind === 'success')
  const failures = chunk.outcomes.filter((o): o is Failure => o.kind === 'failure')
  const cancelled = chunk.outcomes.filter((o): o is Cancelled => o.kind === 'cancelled' && o.handOver)
  const abandoned = new Set(chunk.outcomes.filter((o) => o.kind === 'cancelled' && !o.handOver).map((o) => o.row.id))
  const announcements: Announcement[] = []
  const announceSuccesses = (done: Set<string>) => {
    for (const o of successes) if (done.has(o.row.id)) announcements.push(['subscription:succeeded', { ...eventBase(chunk.runId, o), durationMs: o.durationMs, nextRunAt: o.nextRunAt }])
  }

  if (chunk.outcomes.length === 0 && !chunk.leftovers?.length) {
    return { counts: { successful: 0, failed: 0, retried: 0, skipped: 0 }, announcements, finishedRun: null }
  }
  if (successes.length === chunk.outcomes.length && !chunk.leftovers?.length) {
    const { done, run } = await completeInOneGo(pool, chunk, successes, now)
    announceSuccesses(done)
    const unmatched = successes.filter((o) => !done.has(o.row.id)).map((o) => o.row.id)
    if (unmatched.length === 0) return { counts: { successful: done.size, failed: 0, retried: 0, skipped: 0 }, announcements, finishedRun: run }
    // Rare: rows paused, deactivated or deleted while their calls were in flight.
    const rest = await settleChunk(deps, { ...chunk, outcomes: [], leftovers: unmatched })
    return { counts: { ...rest.counts, successful: done.size }, announcements, finishedRun: run ?? rest.finishedRun }
  }

  return await withTransaction(pool, async (tx) => {
    const { rows } = successes.length > 0
      ? await tx.query<{ id: string }>(`${COMPLETE_ROWS} RETURNING sp.id`, [...rowParams(successes, (o) => o.row.id, successValues), chunk.jobId, now])
      : { rows: [] }
    const done = new Set(rows.map((r) => r.id))
    announceSuccesses(done)
    await handOver(tx, deps, chunk, cancelled)
    const { retried, failed, paused, recorded, orphans } = await recordFailures(tx, deps, chunk, failures, now)
    for (const o of recorded) {
      announcements.push(['subscription:failed', { ...eventBase(chunk.runId, o), error: o.error, final: o.final, permanent: o.permanent }])
      if (!o.final) announcements.push(['retry:scheduled', { ...eventBase(chunk.runId, o), error: o.error, retryAt: orphans.has(o.row.id) ? null : o.retryAt }])
      if (paused.has(o.row.id)) options.logger.warn(`Subscription ${o.row.subscription_id} paused after ${options.pauseAfterConsecutiveFailures} failed runs in a row; resume() or retryFailed() picks it again.`)
    }
    // Whatever was not recorded, and was not handed over, is let go of (or was deleted): skipped.
    const settled = new Set([...done, ...retried, ...failed, ...cancelled.map((o) => o.row.id), ...abandoned])
    const unsettled = [...chunk.outcomes.filter((o) => !settled.has(o.row.id)).map((o) => o.row.id), ...(chunk.leftovers ?? [])]
    const released = await releaseRows(tx, chunk.jobId, unsettled, now)
    const gone = await recordGone(tx, chunk.runId, unsettled.filter((id) => !released.has(id)))
    const counts = { successful: done.size, failed: failed.size, retried: retried.size, skipped: released.size + gone }
    const finishedRun = await addOutcomes(tx, chunk.runId, counts, now, latenessOf(chunk.outcomes))
    return { counts, announcements, finishedRun }
  })
}
