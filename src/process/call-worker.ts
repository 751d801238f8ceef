/**
 * One worker call, bounded: it ends when the worker answers, when the call times out, when the
 * job expires, or when the scheduler stops, whichever comes first, even if a custom client
 * ignores its signal.
 */
import { RetryableError } from '../errors.js'
import type { PageRow } from '../settle/outcome.js'
import { storableText } from '../db/storable.js'
import type { ProcessorContext } from './context.js'
import { idempotencyKey } from '../worker-client/types.js'
import type { ProcessRequest, ProcessResult } from '../worker-client/types.js'

/** Most characters of an error kept in the row's `error` column. */
const MAX_ERROR_LENGTH = 2000

/** Calls the worker for `row`, attempt `attempt`; `expired` aborts when the owning job expires. */
export async function callWorker(
  ctx: ProcessorContext,
  expired: AbortSignal,
  row: PageRow,
  userId: string,
  attempt: number,
): Promise<ProcessResult> {
  const { options } = ctx
  const request: ProcessRequest = {
    subscriptionId: row.subscription_id,
    userId,
    processingId: row.id,
    scheduledFor: row.scheduled_for.toISOString(),
    attempt,
    idempotencyKey: idempotencyKey(row.subscription_id, row.scheduled_for),
  }
  // One controller per call, its timer and listeners removed when the call ends: AbortSignal.any()
  // and .timeout() keep both alive for the whole timeout after each call (bench/RESULTS.md).
  const controller = new AbortController()
  const abort = (why: string) => () => {
    if (controller.signal.aborted) return
    controller.abort(new RetryableError(`Worker call for subscription ${row.subscription_id} ${why}.`))
  }
  const onTimeout = abort(`timed out after ${options.workerTimeoutMs} ms`)
  const onStop = abort('cancelled because the scheduler is stopping')
  const onExpiry = abort('cancelled because its job expired')
  if (ctx.cancelSignal.aborted) onStop()
  else if (expired.aborted) onExpiry()
  const timer = setTimeout(onTimeout, options.workerTimeoutMs)
  ctx.cancelSignal.addEventListener('abort', onStop, { once: true })
  expired.addEventListener('abort', onExpiry, { once: true })
  const { signal } = controller
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
  aborted.catch(() => {})
  try {
    // Cancelled while waiting its turn: the worker is not called at all.
    if (signal.aborted) return await aborted
    // The race ends the call even if a custom client ignores its signal.
    return await Promise.race([ctx.workerClient.process(request, { signal }), aborted])
  } finally {
    clearTimeout(timer)
    ctx.cancelSignal.removeEventListener('abort', onStop)
    expired.removeEventListener('abort', onExpiry)
  }
}

/** A one-line description of any thrown value, bounded in length for the `error` column. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error)
  return storableText(text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}… (truncated)` : text)
}
