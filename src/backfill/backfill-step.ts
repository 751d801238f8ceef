/**
 * One step of a backfill: call the worker for one slot (through the call gate and the global
 * limits, like every call), then record the outcome and enqueue what follows, in one
 * transaction guarded by the run's progress. A retryable failure is tried again by a job of its
 * own, at its backoff or Retry-After; a final one is recorded and the backfill moves on.
 */
import { bossDb, withTransaction } from '../db/executor.js'
import { SubscriptionDataError } from '../errors.js'
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import { recordFailureHistory } from '../records/failures.js'
import { callsPausedSql, describePause, readCallsPause } from '../records/calls-pause.js'
import { noteRunError } from '../records/runs.js'
import { addOutcomesSql, justFinished } from '../records/run-outcomes.js'
import type { RunRow, RunSummary } from '../records/runs.js'
import type { OutcomeCounts } from '../records/run-outcomes.js'
import { callWorker, measured } from '../process/call-worker.js'
import type { ProcessorContext } from '../process/context.js'
import { failure } from '../process/outcome.js'
import { startAfterOf } from '../process/page-job.js'
import type { Failure, PageRow } from '../settle/outcome.js'
import { failureDetail } from '../settle/outcome.js'
import { backfillJob } from './backfill-job.js'
import type { BackfillJob, BackfillJobData } from './backfill-job.js'

type Ended = { kind: 'success'; durationMs: number } | Failure | { kind: 'skipped' }

/** The run's counters before this slot's outcome are `index` outcomes: anything else, another delivery got here first. */
const ADD_STEP = (() => {
  const { update } = addOutcomesSql({ run: '$1', successful: '$2', failed: '$3', retried: '$4', skipped: '$5', lateness: `'{}'::int[]`, latenessMax: 'NULL::int', now: '$6::timestamptz' })
  const lock = `before AS (SELECT id, finished_at FROM ${TABLES.runs} WHERE id = $1 AND successful + failed + skipped = $7 AND retried = $8 FOR NO KEY UPDATE)`
  return `WITH ${lock} ${update}`
})()

async function progress(db: Executor, runId: string): Promise<{ done: number; retried: number } | null> {
  const { rows } = await db.query<{ done: number; retried: number }>(
    `SELECT successful + failed + skipped AS done, retried FROM ${TABLES.runs} WHERE id = $1`,
    [runId],
  )
  return rows[0] ?? null
}

type StepRow = PageRow & { active: boolean | null; calls_paused: boolean }

async function readRow(db: Executor, data: BackfillJobData, scope: string): Promise<StepRow | null> {
  const { rows } = await db.query<StepRow>(
    `SELECT sp.id, sp.subscription_id, s.user_id::text AS user_id, s.frequency::text AS frequency, sp.timezone, sp.run_at,
            sp.anchor_at, sp.starts_at, sp.ends_at, s.active, ${callsPausedSql('$2')} AS calls_paused
       FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id
      WHERE sp.subscription_id = $1`,
    [data.subscriptionId, scope],
  )
  const row = rows[0]
  return row ? { ...row, scheduled_for: new Date(data.slots[data.index]!), attempts: data.attempt - 1, run_id: data.runId } : null
}

async function call(ctx: ProcessorContext, job: BackfillJob, row: PageRow): Promise<Ended> {
  const attempt = row.attempts + 1
  const base = { jobId: job.id, row, attempt, startedAt: Date.now() }
  const cut = () => ({ cancelled: ctx.cancelSignal.aborted, expired: job.signal.aborted })
  let ended: Ended = { kind: 'skipped' }
  await ctx.gate.runEach([row], async () => {
    const started = Date.now()
    try {
      const { durationMs } = await measured(ctx, { row, attempt, started, latenessMs: null }, () => callWorker(ctx, job.signal, row, row.user_id!, attempt))
      ended = { kind: 'success', durationMs }
    } catch (error) {
      const failed = failure(ctx.options, { ...base, startedAt: started }, error, cut())
      ended = failed.kind === 'failure' ? failed : { kind: 'skipped' }
    }
  }, { signal: ctx.haltSignal })
  return ended
}

/** Runs one step. Throws (and pg-boss delivers the job again) when stopped before it could record. */
export async function processBackfillStep(ctx: ProcessorContext, job: BackfillJob): Promise<void> {
  const { data } = job
  const before = await progress(ctx.pool, data.runId)
  // Counted already: a second delivery of a step that recorded its outcome.
  if (!before || before.done !== data.index) return
  const row = await readRow(ctx.pool, data, ctx.options.queuePrefix)
  let ended: Ended = { kind: 'skipped' }
  if (row?.calls_paused) {
    // Paused fleet-wide since the backfill started: the slots left are skipped, and its run says why.
    const pause = await readCallsPause(ctx.pool, ctx.options.queuePrefix)
    const why = `Calls were paused fleet-wide${pause ? ` ${describePause(pause)}` : ''} before slot ${data.index + 1} of ${data.slots.length}: the slots left are skipped; backfill them again after resumeCalls().`
    await noteRunError(ctx.pool, data.runId, why)
  } else if (row?.active === true && !row.user_id) {
    // As in a sweep: the row must be fixed; each slot fails for good, and the backfill moves on.
    const missing = new SubscriptionDataError(`Subscription ${data.subscriptionId} has no user_id; set subscriptions.user_id, then backfill again.`, { subscriptionId: data.subscriptionId, column: 'subscriptions.user_id' })
    const failed = failure(ctx.options, { jobId: job.id, row, attempt: data.attempt, startedAt: null }, missing, { cancelled: false, expired: false })
    if (failed.kind === 'failure') ended = failed
  } else if (row?.active === true) {
    if (ctx.haltSignal.aborted) throw new Error('The scheduler is stopping; another instance takes this backfill step.')
    ended = await call(ctx, job, row)
    if (ended.kind === 'skipped' || (ended.kind === 'failure' && ended.cancelled)) {
      throw new Error('The backfill call was cut short by stop() or its job expiry; it is made again.')
    }
  }
  // Tracked until announced: a wait that reads the run finished waits for its events.
  await ctx.settles.track(recordAndAnnounce(ctx, data, before.retried, ended, row))
}

async function recordAndAnnounce(ctx: ProcessorContext, data: BackfillJobData, retried: number, ended: Ended, row: PageRow | null): Promise<void> {
  const finished = await withTransaction(ctx.pool, (tx) => record(ctx, tx, data, retried, ended, row))
  if (row && ended.kind === 'success') {
    ctx.events.emit('subscription:succeeded', { ...eventOf(data, row), durationMs: ended.durationMs, nextRunAt: null })
    ctx.telemetry.succeeded(1)
  } else if (row && ended.kind === 'failure') {
    ctx.events.emit('subscription:failed', { ...eventOf(data, row), ...failureDetail(ended), final: ended.final, permanent: ended.permanent })
    if (!ended.final) ctx.events.emit('retry:scheduled', { ...eventOf(data, row), ...failureDetail(ended), retryAt: ended.retryAt })
    ctx.telemetry.failed(1, ended.final, ended.cancelled, ended.final && ended.permanent)
    if (!ended.final) ctx.telemetry.retried(1, ended.cancelled)
  }
  if (finished) ctx.events.emit('run:finished', finished)
}

/**
 * Counts the slots a backfill never got to as skipped, so its run finishes: for a step pg-boss
 * will not deliver again (its retries spent). Guarded like any step; returns the finished run.
 */
export async function abandonBackfill(ctx: ProcessorContext, data: BackfillJobData): Promise<RunSummary | null> {
  const before = await progress(ctx.pool, data.runId)
  if (!before || before.done !== data.index) return null
  const { rows } = await ctx.pool.query<RunRow & { just_finished: boolean }>(ADD_STEP, [
    data.runId, 0, 0, 0, data.slots.length - data.index, ctx.options.clock.now(), data.index, before.retried,
  ])
  return justFinished(rows[0])
}

function eventOf(data: BackfillJobData, row: PageRow) {
  return { runId: data.runId, subscriptionId: data.subscriptionId, processingId: row.id, scheduledFor: row.scheduled_for, attempt: data.attempt }
}

/**
 * The outcome, counted once (guarded by the run's progress), its failure history, and the next
 * job: this slot's retry, or the next slot. Without a row or an active subscription, every slot
 * left is skipped at once.
 */
async function record(ctx: ProcessorContext, tx: Executor, data: BackfillJobData, retried: number, ended: Ended, row: PageRow | null): Promise<RunSummary | null> {
  const retrying = ended.kind === 'failure' && !ended.final
  const counts: OutcomeCounts = {
    successful: ended.kind === 'success' ? 1 : 0,
    failed: ended.kind === 'failure' && ended.final ? 1 : 0,
    retried: retrying ? 1 : 0,
    skipped: ended.kind === 'skipped' ? data.slots.length - data.index : 0,
  }
  const now = ctx.options.clock.now()
  const { rows } = await tx.query<RunRow & { just_finished: boolean }>(ADD_STEP, [
    data.runId, counts.successful, counts.failed, counts.retried, counts.skipped, now, data.index, retried,
  ])
  if (!rows[0]) return null
  if (ended.kind === 'failure' && row) {
    await recordFailureHistory(tx, [{
      processingId: row.id, subscriptionId: data.subscriptionId, runId: data.runId, scheduledFor: row.scheduled_for,
      attempt: data.attempt, final: ended.final, error: ended.error, status: ended.status,
    }], now)
    if (ended.final) {
      const dead = { runId: data.runId, subscriptionId: data.subscriptionId, processingId: row.id, scheduledFor: row.scheduled_for.toISOString(), attempt: data.attempt, error: ended.error, status: ended.status }
      await ctx.boss.insert(ctx.deadQueue, [{ data: dead }], { db: bossDb(tx) })
    }
  }
  const timings = { expireInSeconds: ctx.options.jobExpirySeconds, heartbeatSeconds: ctx.options.heartbeatSeconds }
  const { runId, subscriptionId, slots, index, attempt } = data
  const next = retrying
    ? backfillJob({ runId, subscriptionId, slots, index, attempt: attempt + 1 }, timings, startAfterOf(ended.retryAt, now))
    : ended.kind !== 'skipped' && index + 1 < slots.length
      ? backfillJob({ runId, subscriptionId, slots, index: index + 1, attempt: 1 }, timings)
      : null
  if (next) await ctx.boss.insert(ctx.processQueue, [next], { db: bossDb(tx) })
  return justFinished(rows[0])
}
