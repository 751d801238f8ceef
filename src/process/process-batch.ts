/**
 * The pg-boss handler for a batch of process jobs: begin the rows, call the worker for each
 * (through the call gate, which holds them to the limits), then settle every outcome in one
 * transaction, and announce what happened once it has committed.
 */
import type { Pool } from 'pg'
import type { JobResult, PgBoss } from 'pg-boss'
import type { CallGate } from './call-gate.js'
import { withTransaction } from '../db/executor.js'
import type { EventBus } from '../observe/events.js'
import type { ResolvedOptions } from '../config/options.js'
import { describeError } from './call-worker.js'
import { processOne, slotOf } from './process-one.js'
import type { Job, Outcome } from './process-one.js'
import { settleBatch } from '../settle/settle-batch.js'
import { settleSuccesses } from '../settle/settle-successes.js'
import type { Settlement } from '../settle/settle-batch.js'
import { beginProcessing, releaseSkipped } from '../settle/row-writes.js'
import type { JobRef } from '../settle/row-writes.js'
import type { Telemetry } from '../observe/telemetry.js'
import { isTransientDbError, retryTransient } from '../db/transient.js'
import type { WorkerClient } from '../worker-client/types.js'

export interface ProcessorContext {
  pool: Pool
  boss: PgBoss
  processQueue: string
  options: ResolvedOptions
  workerClient: WorkerClient
  events: EventBus
  telemetry: Telemetry
  /** Aborted by `stop()`: in-flight calls are cancelled and their jobs retried. */
  stopSignal: AbortSignal
  /** Where every worker call of this instance waits its turn. */
  gate: CallGate
}

/**
 * Records the batch's outcomes. The calls are made: losing their outcomes to a database blip
 * would mean calling again, so this rides out an outage. If the batch is refused for another
 * reason (a value Postgres will not store), each outcome is recorded on its own, so one bad
 * row cannot hold back the rest of its batch.
 */
async function settle(ctx: ProcessorContext, jobs: Job[], outcomes: Outcome[], skipped: Job[]): Promise<Settlement> {
  const { pool, options } = ctx
  // A part whose calls all succeeded settles in one statement (settle-successes.ts); any
  // failure needs the transaction that also keeps failure history and retry jobs.
  const inOneGo = (part: { jobs: Job[]; outcomes: Outcome[]; skipped: Job[] }) => {
    const successes = part.outcomes.filter((o) => o.kind === 'success')
    const write = successes.length === part.outcomes.length
      ? () => settleSuccesses(ctx, pool, part.jobs, successes, part.skipped)
      : () => withTransaction(pool, (tx) => settleBatch(ctx, tx, part.jobs, part.outcomes, part.skipped))
    return retryTransient(write, { logger: options.logger, what: `recording the outcomes of ${part.outcomes.length} calls` })
  }
  try {
    return await inOneGo({ jobs, outcomes, skipped })
  } catch (error) {
    if (isTransientDbError(error)) throw error
    options.logger.error(`Recording a batch's outcomes failed (${describeError(error)}); recording them one by one.`)
  }
  const merged: Settlement = { results: new Map(), announcements: [], finishedRuns: [] }
  const withOutcome = new Set(outcomes.map((o) => o.job.id))
  const parts = [{ jobs: jobs.filter((job) => !withOutcome.has(job.id)), outcomes: [] as Outcome[], skipped }, ...outcomes.map((o) => ({ jobs: [o.job], outcomes: [o], skipped: [] }))]
  for (const part of parts) {
    let result: Settlement
    try {
      result = await inOneGo(part)
    } catch (error) {
      const [outcome] = part.outcomes
      if (!outcome) throw error
      // Keep the outcome, drop what could not be stored: the answer, or the error's detail.
      const plain: Outcome = outcome.kind === 'success'
        ? { ...outcome, completion: { ...outcome.completion, response: null } }
        : { ...outcome, failure: { ...outcome.failure, error: `The worker's error could not be stored (${describeError(error)}).` } }
      result = await inOneGo({ ...part, outcomes: [plain] })
    }
    for (const [id, value] of result.results) merged.results.set(id, value)
    merged.announcements.push(...result.announcements)
    merged.finishedRuns.push(...result.finishedRuns)
  }
  return merged
}

function refOf(job: Job): JobRef {
  return { processingId: job.data.processingId, scheduledFor: slotOf(job) }
}

/** Runs one batch. Resolves with a result per job, as pg-boss's `perJobResults` expects. */
export async function processJobs(ctx: ProcessorContext, jobs: Job[]): Promise<JobResult[]> {
  const { pool, options } = ctx
  const retry = { logger: options.logger, signal: ctx.stopSignal }
  // Two jobs for one row in a batch (a late job of an older slot): only the newest slot can
  // match the row, so only that job is offered; the other is skipped like any stale job.
  const newest = new Map<string, Job>()
  for (const job of jobs) {
    const seen = newest.get(job.data.processingId)
    if (!seen || slotOf(job) > slotOf(seen)) newest.set(job.data.processingId, job)
  }
  const begun = await retryTransient(
    () => beginProcessing(pool, [...newest.values()].map(refOf), options.clock.now(), options.leaseSeconds),
    { ...retry, what: `starting a batch of ${jobs.length}` },
  )
  const rowsById = new Map(begun.map((row) => [row.id, row]))
  const rowOf = (job: Job) => (newest.get(job.data.processingId) === job ? rowsById.get(job.data.processingId) : undefined)
  const notBegun = jobs.filter((job) => !rowOf(job))
  const skippedIds = notBegun.length > 0
    ? await retryTransient(() => releaseSkipped(pool, notBegun.map(refOf), options.clock.now()), { ...retry, what: `skipping ${notBegun.length} jobs` })
    : new Set<string>()
  const skipped = notBegun.filter((job) => skippedIds.has(job.data.processingId))

  const begunJobs = jobs.flatMap((job) => {
    const row = rowOf(job)
    return row ? [{ job, row }] : []
  })
  const outcomes = await ctx.gate.runAll(begunJobs, ({ job, row }) => processOne(ctx, job, row), ctx.stopSignal)

  const settlement = await settle(ctx, jobs, outcomes, skipped)
  for (const [event, payload] of settlement.announcements) ctx.events.emit(event, payload as never)
  for (const run of settlement.finishedRuns) ctx.events.emit('run:finished', run)
  const succeeded = outcomes.filter((o) => o.kind === 'success').length
  ctx.telemetry.succeeded(succeeded)
  ctx.telemetry.failed(outcomes.filter((o) => o.kind === 'failure' && o.final).length, true)
  ctx.telemetry.failed(outcomes.filter((o) => o.kind === 'failure' && !o.final).length, false)
  ctx.telemetry.retried(outcomes.filter((o) => o.kind === 'failure' && !o.final).length)
  return jobs.map((job) => settlement.results.get(job.id)!)
}
