/**
 * Worker calls, bounded: each ends when the worker answers, when the call times out, when its
 * job expires, or when the scheduler stops, whichever comes first, even if a custom client
 * ignores its signal.
 */
import { RetryableError } from '../errors.js'
import { startDeadline } from '../deadline.js'
import { describeError } from '../observe/describe-error.js'
import { ANSWERS_AFTER_THE_END, limitedLogOf } from '../observe/limited-log.js'
import type { Deadline } from '../deadline.js'
import type { PageRow } from '../settle/outcome.js'
import type { ProcessorContext } from './context.js'
import { idempotencyKey } from '../worker-client/types.js'
import type { ProcessRequest, ProcessResult } from '../worker-client/types.js'

/** The worker calls of one job. */
export interface CallScope {
  /** Calls the worker for `row`, attempt `attempt`. */
  call(row: PageRow, userId: string, attempt: number): Promise<ProcessResult>
  /** Stops listening to the job's signals; calls still in flight keep their own timeouts. */
  close(): void
}

const STOPPING = 'cancelled because the scheduler is stopping'
const EXPIRED = 'cancelled because its job expired'
/** An answer this long after its call ended shows a client that went on working. */
const HONOURED_WITHIN_MS = 1_000

/**
 * Opens the calls of a job: `stop()` and the job's expiry (`expired`) end every call in flight
 * through one listener each on the job, not one per call. Shared signals would otherwise hold a
 * listener per call in flight, each added and removed by a walk of the list.
 */
export function openCallScope(ctx: ProcessorContext, expired: AbortSignal): CallScope {
  const { options } = ctx
  const inFlight = new Set<(why: string) => void>()
  const endAll = (why: string) => () => {
    for (const end of inFlight) end(why)
  }
  const onStop = endAll(STOPPING)
  const onExpiry = endAll(EXPIRED)
  ctx.cancelSignal.addEventListener('abort', onStop, { once: true })
  expired.addEventListener('abort', onExpiry, { once: true })
  return {
    call(row, userId, attempt) {
      const request: ProcessRequest = {
        subscriptionId: row.subscription_id,
        userId,
        processingId: row.id,
        scheduledFor: row.scheduled_for.toISOString(),
        attempt,
        idempotencyKey: idempotencyKey(row.subscription_id, row.scheduled_for),
      }
      return new Promise<ProcessResult>((resolve, reject) => {
        // One controller and one timer per call, both released when the call ends: AbortSignal.any()
        // and .timeout() keep both alive for the whole timeout after each call (bench/RESULTS.md).
        const controller = new AbortController()
        let deadline: Deadline | undefined
        // Why and when the call was ended while the client still worked on it.
        let ended: { why: string; at: number } | undefined
        const settled = () => {
          deadline?.clear()
          inFlight.delete(end)
        }
        // Ends the call at once, even if a custom client ignores its signal.
        const end = (why: string) => {
          if (controller.signal.aborted) return
          const error = new RetryableError(`Worker call for subscription ${row.subscription_id} ${why}.`)
          controller.abort(error)
          if (inFlight.has(end)) {
            // Said again later without its advice ("timed out after 500 ms").
            ended = { why: why.split(' (')[0]!, at: Date.now() }
            ctx.unanswered.calls += 1
          }
          settled()
          reject(error)
        }
        // Cancelled while waiting its turn: the worker is not called at all.
        if (ctx.cancelSignal.aborted) return end(STOPPING)
        if (expired.aborted) return end(EXPIRED)
        // A stall of this process at the deadline is not the worker's: its answer is read first.
        deadline = startDeadline(options.workerTimeoutMs, () => end(`timed out after ${options.workerTimeoutMs} ms (the workerTimeoutMs option: raise it if the worker is just slow)`))
        inFlight.add(end)
        let answer: Promise<ProcessResult>
        try {
          answer = ctx.workerClient.process(request, { signal: controller.signal })
        } catch (error) {
          settled()
          return reject(error)
        }
        Promise.resolve(answer).then(
          // An Error returned is one the client meant to throw (`return new PermanentError(…)`):
          // recorded as a success, its message was lost and the subscription never retried.
          (result) => {
            if (ended) return answerAfterTheEnd(ctx, request, ended, result instanceof Error ? result : null)
            settled()
            if (result instanceof Error) reject(returnedError(ctx, result))
            else resolve(result)
          },
          (error: unknown) => {
            if (ended) return answerAfterTheEnd(ctx, request, ended, error ?? new Error(String(error)))
            settled()
            reject(error)
          },
        )
      })
    },
    close() {
      ctx.cancelSignal.removeEventListener('abort', onStop)
      expired.removeEventListener('abort', onExpiry)
    },
  }
}

/** The clients already told that they return errors instead of throwing them: once each. */
const toldOfReturnedErrors = new WeakSet<object>()

/** A client's returned Error, to fail its call with as if thrown; said once per client. */
function returnedError(ctx: ProcessorContext, error: Error): Error {
  if (!toldOfReturnedErrors.has(ctx.workerClient)) {
    toldOfReturnedErrors.add(ctx.workerClient)
    ctx.options.logger.warn(
      `The worker client's process() resolved with an error (${describeError(error)}) instead of throwing it: ` +
        'the call fails with it, as if thrown. Throw it (or return a rejected promise) to fail a call.',
    )
  }
  return error
}

/**
 * Says that a client answered a call already ended (timed out, its job expired, or the scheduler
 * stopping): its answer, the worker's work perhaps done, is not what its row records. A trial's
 * in-process client charged a card three times under one key, each attempt timed out while it
 * went on, and nothing said so.
 */
function answerAfterTheEnd(ctx: ProcessorContext, request: ProcessRequest, ended: { why: string; at: number }, error: unknown): void {
  ctx.unanswered.calls -= 1
  const afterMs = Date.now() - ended.at
  // A client that honours its signal answers at once, most often with the abort's error.
  if (afterMs < HONOURED_WITHIN_MS) return
  const after = (afterMs / 1000).toFixed(1)
  const outcome = error === null ? 'succeeded' : `failed (${describeError(error)})`
  limitedLogOf(ctx.options, ANSWERS_AFTER_THE_END).warn(
    `The worker client answered subscription ${request.subscriptionId}'s call (attempt ${request.attempt}, key ${request.idempotencyKey}) ` +
      `${after} s after it had ended (${ended.why}): it ${outcome}, but its row records the call's end. The client ignores its ` +
      '`signal` and goes on working after a call ends: honour it, and dedupe on the idempotency key.',
  )
}

/** One call outside a page job (a backfill step): a scope of its own. */
export async function callWorker(ctx: ProcessorContext, expired: AbortSignal, row: PageRow, userId: string, attempt: number): Promise<ProcessResult> {
  const scope = openCallScope(ctx, expired)
  try {
    return await scope.call(row, userId, attempt)
  } finally {
    scope.close()
  }
}

/** One worker call, as telemetry sees it: whose, which attempt, when it started, and how late (null: a backfill's slot, past on purpose). */
export interface MeasuredCall {
  row: PageRow
  attempt: number
  started: number
  latenessMs: number | null
}

/**
 * Runs `call` as one measured worker call: in its `pss.worker.call` span, with its duration (and
 * lateness) recorded whichever way it ends. Resolves with the answer and the duration; rethrows
 * the call's error.
 */
export async function measured<T>(ctx: ProcessorContext, m: MeasuredCall, call: () => Promise<T>): Promise<{ response: T; durationMs: number }> {
  try {
    const response = await ctx.telemetry.span('pss.worker.call', { 'pss.subscription_id': m.row.subscription_id, 'pss.run_id': m.row.run_id, 'pss.attempt': m.attempt }, call)
    const durationMs = Date.now() - m.started
    ctx.telemetry.workerCall(durationMs, m.latenessMs, 'success', m.attempt > 1)
    return { response, durationMs }
  } catch (error) {
    // Cut short by stop(): no failure of the worker's, as alerts on failures want it.
    ctx.telemetry.workerCall(Date.now() - m.started, m.latenessMs, ctx.cancelSignal.aborted ? 'cancelled' : 'failure', m.attempt > 1)
    throw error
  }
}
