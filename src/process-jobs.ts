/**
 * The pg-boss handler for a batch of process jobs: begin the rows, call the worker for each
 * (all at once; the batch size is the concurrency), then settle every outcome in one
 * transaction together with the run counters.
 */
import type { Pool } from 'pg'
import type { JobResult, JobWithMetadata } from 'pg-boss'
import type { ProcessJobData } from './claim.js'
import { withTransaction } from './db.js'
import { isPermanentError, SubscriptionDataError } from './errors.js'
import { computeNextRunAt, isValidTimeZone } from './next-run.js'
import type { ResolvedOptions } from './options.js'
import { recordOutcomes } from './runs.js'
import type { OutcomeCounts } from './runs.js'
import { beginProcessing, recordCompletions, recordFailures, releaseSkipped } from './settle.js'
import type { ActiveRow, Completion, Failure, JobRef } from './settle.js'
import { callWorker, describeError } from './call-worker.js'
import type { WorkerClient } from './worker-client.js'

export interface ProcessorContext {
  pool: Pool
  options: ResolvedOptions
  workerClient: WorkerClient
  /** Aborted by `stop()`: in-flight calls are cancelled and their jobs retried. */
  stopSignal: AbortSignal
}

type Job = JobWithMetadata<ProcessJobData>

type Outcome =
  | { kind: 'success'; job: Job; completion: Completion }
  | { kind: 'failure'; job: Job; failure: Failure; final: boolean; permanent: boolean }

function refOf(job: Job): JobRef {
  return { processingId: job.data.processingId, scheduledFor: new Date(job.data.scheduledFor) }
}

/** Runs one batch. Resolves with a result per job, as pg-boss's `perJobResults` expects. */
export async function processJobs(ctx: ProcessorContext, jobs: Job[]): Promise<JobResult[]> {
  const { pool, options } = ctx
  const begun = await beginProcessing(pool, jobs.map(refOf), options.clock.now(), options.leaseSeconds)
  const rowsById = new Map(begun.map((row) => [row.id, row]))
  const notBegun = jobs.filter((job) => !rowsById.has(job.data.processingId))
  const skipped = notBegun.length > 0 ? await releaseSkipped(pool, notBegun.map(refOf), options.clock.now()) : new Set<string>()

  const outcomes = await Promise.all(
    jobs.flatMap((job) => {
      const row = rowsById.get(job.data.processingId)
      return row ? [processOne(ctx, job, row)] : []
    }),
  )

  const results = new Map<string, JobResult>(jobs.map((job) => [job.id, { id: job.id, status: 'completed' }]))
  const counts = new Map<string, OutcomeCounts>()
  const count = (job: Job, key: keyof OutcomeCounts) => {
    const c = counts.get(job.data.runId) ?? { successful: 0, failed: 0, retried: 0, skipped: 0 }
    c[key] += 1
    counts.set(job.data.runId, c)
  }
  for (const job of notBegun) if (skipped.has(job.data.processingId)) count(job, 'skipped')

  await withTransaction(pool, async (tx) => {
    const now = options.clock.now()
    const successes = outcomes.filter((o) => o.kind === 'success')
    const failures = outcomes.filter((o) => o.kind === 'failure')
    const finals = failures.filter((o) => o.final || o.permanent)
    const retries = failures.filter((o) => !o.final && !o.permanent)
    const completed = await recordCompletions(tx, successes.map((o) => o.completion), now)
    const failed = await recordFailures(tx, finals.map((o) => o.failure), true, now, 0)
    const retried = await recordFailures(tx, retries.map((o) => o.failure), false, now, retryLeaseSeconds(options))
    for (const o of successes) count(o.job, completed.has(o.job.data.processingId) ? 'successful' : 'skipped')
    for (const o of finals) count(o.job, failed.has(o.job.data.processingId) ? 'failed' : 'skipped')
    for (const o of retries) {
      if (retried.has(o.job.data.processingId)) count(o.job, 'retried')
      else count(o.job, 'skipped')
    }
    for (const o of failures) {
      // Permanent before the last attempt: straight to the dead-letter queue, no retries.
      const status = o.permanent && !o.final ? 'deadletter' : 'failed'
      // A retry whose row was paused or deleted meanwhile is done; so is any settled failure.
      const settled = retried.has(o.job.data.processingId) || failed.has(o.job.data.processingId)
      results.set(o.job.id, settled ? { id: o.job.id, status, output: { error: o.failure.error } } : { id: o.job.id, status: 'completed' })
    }
    for (const [runId, c] of counts) await recordOutcomes(tx, runId, c, now)
  })
  return jobs.map((job) => results.get(job.id)!)
}

/** A retried row stays claimed until its next attempt is certain to have started. */
function retryLeaseSeconds(options: ResolvedOptions): number {
  return options.retry.maxDelaySeconds + options.leaseSeconds
}

async function processOne(ctx: ProcessorContext, job: Job, row: ActiveRow): Promise<Outcome> {
  const { options } = ctx
  const ref = refOf(job)
  const final = job.retryCount >= job.retryLimit
  const fail = (error: unknown): Outcome => {
    const permanent = isPermanentError(error)
    const message = describeError(error)
    const attempt = `attempt ${row.attempts}${permanent || final ? ', giving up on this slot' : ', will retry'}`
    options.logger.warn(`Subscription ${row.subscription_id} failed (${attempt}): ${message}`)
    return { kind: 'failure', job, failure: { ...ref, error: message }, final, permanent }
  }
  const timezone = row.timezone ?? options.timezone
  if (!isValidTimeZone(timezone)) {
    return fail(new SubscriptionDataError(`Row ${row.id} has time zone ${JSON.stringify(timezone)}, which is not an IANA zone; set subscription_processing.timezone to a name such as 'Europe/Berlin', or to NULL for the scheduler's default.`))
  }
  if (!row.user_id) {
    return fail(new SubscriptionDataError(`Subscription ${row.subscription_id} has no user_id; set subscriptions.user_id, then retry it.`))
  }
  try {
    await callWorker(ctx, job, row, row.user_id)
  } catch (error) {
    return fail(error)
  }
  const nextRunAt = computeNextRunAt({
    frequency: row.frequency,
    timezone,
    runAt: options.runAt,
    after: ref.scheduledFor,
    anchor: row.anchor_at ?? ref.scheduledFor,
    now: options.clock.now(),
    onUnknownFrequency: (frequency) =>
      options.logger.warn(`Subscription ${row.subscription_id} has unknown frequency ${JSON.stringify(frequency)}; scheduling it daily. Use 'daily', 'weekly' or 'monthly'.`),
  })
  return { kind: 'success', job, completion: { ...ref, nextRunAt } }
}
