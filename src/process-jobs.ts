/**
 * The pg-boss handler for a batch of process jobs: begin the rows, call the worker for each
 * (all at once; the batch size is the concurrency), then settle every outcome in one
 * transaction, and announce what happened once it has committed.
 */
import type { Pool } from 'pg'
import type { JobResult, PgBoss } from 'pg-boss'
import { withTransaction } from './db.js'
import type { EventBus } from './events.js'
import type { ResolvedOptions } from './options.js'
import { processOne, slotOf } from './process-one.js'
import type { Job } from './process-one.js'
import { settleBatch } from './settle-batch.js'
import { beginProcessing, releaseSkipped } from './settle.js'
import type { JobRef } from './settle.js'
import type { Telemetry } from './telemetry.js'
import { retryTransient } from './transient.js'
import type { WorkerClient } from './worker-client.js'

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
}

function refOf(job: Job): JobRef {
  return { processingId: job.data.processingId, scheduledFor: slotOf(job) }
}

/** Runs one batch. Resolves with a result per job, as pg-boss's `perJobResults` expects. */
export async function processJobs(ctx: ProcessorContext, jobs: Job[]): Promise<JobResult[]> {
  const { pool, options } = ctx
  const retry = { logger: options.logger, signal: ctx.stopSignal }
  const begun = await retryTransient(
    () => beginProcessing(pool, jobs.map(refOf), options.clock.now(), options.leaseSeconds),
    { ...retry, what: `starting a batch of ${jobs.length}` },
  )
  const rowsById = new Map(begun.map((row) => [row.id, row]))
  const notBegun = jobs.filter((job) => !rowsById.has(job.data.processingId))
  const skippedIds = notBegun.length > 0 ? await releaseSkipped(pool, notBegun.map(refOf), options.clock.now()) : new Set<string>()
  const skipped = notBegun.filter((job) => skippedIds.has(job.data.processingId))

  const outcomes = await Promise.all(
    jobs.flatMap((job) => {
      const row = rowsById.get(job.data.processingId)
      return row ? [processOne(ctx, job, row)] : []
    }),
  )

  // The calls are made; losing their outcomes to a database blip would mean calling again, so
  // the settlement rides out an outage rather than failing the batch.
  const settlement = await retryTransient(() => withTransaction(pool, (tx) => settleBatch(ctx, tx, jobs, outcomes, skipped)), {
    ...retry,
    what: `recording the outcomes of ${outcomes.length} calls`,
    signal: undefined,
  })
  for (const [event, payload] of settlement.announcements) ctx.events.emit(event, payload as never)
  for (const run of settlement.finishedRuns) ctx.events.emit('run:finished', run)
  const succeeded = outcomes.filter((o) => o.kind === 'success').length
  ctx.telemetry.succeeded(succeeded)
  ctx.telemetry.failed(outcomes.filter((o) => o.kind === 'failure' && o.final).length, true)
  ctx.telemetry.failed(outcomes.filter((o) => o.kind === 'failure' && !o.final).length, false)
  ctx.telemetry.retried(outcomes.filter((o) => o.kind === 'failure' && !o.final).length)
  return jobs.map((job) => settlement.results.get(job.id)!)
}
