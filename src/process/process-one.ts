/**
 * One subscription of a batch: check its row can be processed, call the worker, and turn the
 * result into an outcome. Nothing here writes to the database; the batch settles all outcomes
 * together.
 */
import { DateTime } from 'luxon'
import type { JobWithMetadata } from 'pg-boss'
import { callWorker, describeError } from './call-worker.js'
import type { ProcessJobData } from '../sweep/claim.js'
import { isPermanentError, isRetryableError, SubscriptionDataError } from '../errors.js'
import { computeNextRunAt, isValidTimeZone } from '../schedule/next-run.js'
import { boundResponse } from '../db/storable.js'
import type { ProcessorContext } from './process-batch.js'
import type { ActiveRow, Completion, Failure } from '../settle/row-writes.js'

export type Job = JobWithMetadata<ProcessJobData>

export type Outcome =
  | { kind: 'success'; job: Job; row: ActiveRow; completion: Completion; durationMs: number }
  | {
      kind: 'failure'
      job: Job
      row: ActiveRow
      failure: Failure
      /** No retry follows: retries are spent, or retrying cannot help. */
      final: boolean
      permanent: boolean
      /** Set when the worker asked to be called back later than pg-boss's backoff would. */
      retryAt: Date | null
      /** Cut short by `stop()`: not the subscription's fault, so never final. */
      cancelled: boolean
    }

export function slotOf(job: Job): Date {
  return new Date(job.data.scheduledFor)
}

/** When a Retry-After asks for more than pg-boss's next backoff, the time to call back. */
function retryAtFor(ctx: ProcessorContext, job: Job, error: unknown): Date | null {
  if (!isRetryableError(error) || !error.retryAfterMs || error.retryAfterMs <= 0) return null
  const { retry } = ctx.options
  const backoffMs = retry.delaySeconds * 1000 * 2 ** Math.min(16, job.retryCount)
  if (error.retryAfterMs <= backoffMs) return null
  return new Date(ctx.options.clock.now().getTime() + Math.min(error.retryAfterMs, retry.maxDelaySeconds * 1000))
}

/**
 * The next slot after the one just processed. A first run, or a run made on demand, happens
 * off-slot (say at 03:00 with runAt 09:00); the slot later that same local day is then spent
 * too, so there is still exactly one run per local day.
 */
function nextSlot(ctx: ProcessorContext, row: ActiveRow, slot: Date, timezone: string): Date {
  const { options } = ctx
  const input = {
    frequency: row.frequency,
    timezone,
    runAt: options.runAt,
    anchor: row.anchor_at ?? slot,
    now: options.clock.now(),
    onUnknownFrequency: (frequency: string | null | undefined) =>
      options.logger.warn(`Subscription ${row.subscription_id} has unknown frequency ${JSON.stringify(frequency)}; scheduling it daily. Use 'daily', 'weekly' or 'monthly'.`),
  }
  const next = computeNextRunAt({ ...input, after: slot })
  const day = (instant: Date) => DateTime.fromJSDate(instant, { zone: timezone }).toISODate()
  return day(next) === day(slot) ? computeNextRunAt({ ...input, after: next, onUnknownFrequency: undefined }) : next
}

export async function processOne(ctx: ProcessorContext, job: Job, row: ActiveRow): Promise<Outcome> {
  const { options } = ctx
  const ref = { processingId: row.id, scheduledFor: slotOf(job) }
  const exhausted = job.retryCount >= job.retryLimit
  const fail = (error: unknown): Outcome => {
    const permanent = isPermanentError(error)
    const cancelled = ctx.stopSignal.aborted && !permanent
    const final = !cancelled && (permanent || exhausted)
    const message = describeError(error)
    options.logger.warn(`Subscription ${row.subscription_id} failed (attempt ${row.attempts}${final ? ', giving up on this slot' : ', will retry'}): ${message}`)
    return { kind: 'failure', job, row, failure: { ...ref, error: message }, final, permanent, cancelled, retryAt: final ? null : retryAtFor(ctx, job, error) }
  }
  const timezone = row.timezone ?? options.timezone
  if (!isValidTimeZone(timezone)) {
    return fail(new SubscriptionDataError(`Row ${row.id} has time zone ${JSON.stringify(timezone)}, which is not an IANA zone; set subscription_processing.timezone to a name such as 'Europe/Berlin', or to NULL for the scheduler's default.`))
  }
  if (!row.user_id) {
    return fail(new SubscriptionDataError(`Subscription ${row.subscription_id} has no user_id; set subscriptions.user_id, then retry it.`))
  }
  const started = Date.now()
  let response: unknown
  try {
    response = await ctx.telemetry.span('pss.worker.call', { 'pss.subscription_id': row.subscription_id, 'pss.attempt': row.attempts }, () =>
      callWorker(ctx, job, row, row.user_id!),
    )
  } catch (error) {
    ctx.telemetry.workerCall(Date.now() - started, started - ref.scheduledFor.getTime(), 'failure')
    return fail(error)
  }
  const durationMs = Date.now() - started
  ctx.telemetry.workerCall(durationMs, started - ref.scheduledFor.getTime(), 'success')
  const nextRunAt = nextSlot(ctx, row, ref.scheduledFor, timezone)
  return { kind: 'success', job, row, durationMs, completion: { ...ref, nextRunAt, response: boundResponse(response, options.maxStoredResponseBytes) } }
}
