/**
 * One worker call, bounded: it ends when the worker answers, when the call times out, when the
 * job expires, or when the scheduler stops, whichever comes first, even if a custom client
 * ignores its signal.
 */
import type { JobWithMetadata } from 'pg-boss'
import type { ProcessJobData } from './claim.js'
import { RetryableError } from './errors.js'
import type { ProcessorContext } from './process-jobs.js'
import type { ActiveRow } from './settle.js'
import { storableText } from './storable.js'
import { idempotencyKey } from './worker-client.js'
import type { ProcessRequest, ProcessResult } from './worker-client.js'

/** Most characters of an error kept in the row's `error` column. */
const MAX_ERROR_LENGTH = 2000

export async function callWorker(
  ctx: ProcessorContext,
  job: JobWithMetadata<ProcessJobData>,
  row: ActiveRow,
  userId: string,
): Promise<ProcessResult> {
  const { options } = ctx
  const request: ProcessRequest = {
    subscriptionId: row.subscription_id,
    userId,
    processingId: row.id,
    scheduledFor: row.scheduled_for.toISOString(),
    attempt: row.attempts,
    idempotencyKey: idempotencyKey(row.subscription_id, row.scheduled_for),
  }
  const timeout = AbortSignal.timeout(options.workerTimeoutMs)
  const signal = AbortSignal.any([job.signal, ctx.stopSignal, timeout])
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      const reason = timeout.aborted
        ? `timed out after ${options.workerTimeoutMs} ms`
        : ctx.stopSignal.aborted
          ? 'cancelled because the scheduler is stopping'
          : 'cancelled because its job expired'
      reject(new RetryableError(`Worker call for subscription ${row.subscription_id} ${reason}.`))
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    // Cancelled while waiting its turn: the worker is not called at all.
    if (signal.aborted) return await aborted
    return await Promise.race([ctx.workerClient.process(request, { signal }), aborted])
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort)
    aborted.catch(() => {})
  }
}

/** A one-line description of any thrown value, bounded in length for the `error` column. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error)
  return storableText(text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}… (truncated)` : text)
}
