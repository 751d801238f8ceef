/**
 * The seam between the scheduler and whatever processes a subscription. The default is the
 * HTTP client (`createHttpWorkerClient`); tests use `createFakeWorkerClient` from `./testing`.
 */

/** What the scheduler asks the worker to do: process one subscription for one slot. */
export interface ProcessRequest {
  subscriptionId: string
  userId: string
  /** Id of the `subscription_processing` row. */
  processingId: string
  /** The slot being processed: the run time this subscription was due at. ISO 8601, UTC. */
  scheduledFor: string
  /**
   * 1 for a run's first attempt at this slot, 2 for its first retry, and so on: the attempts
   * whose outcome was recorded, plus one. A call repeated because its instance died before
   * recording the first one's answer carries the same number again, and a failed slot re-driven
   * by a later run (the next sweep, `retryFailed()`) starts again at 1, with the same
   * `idempotencyKey`: the key, not the attempt, says whether the worker has seen the slot.
   */
  attempt: number
  /** Stable for one subscription and slot, across retries and instances. Dedupe on it. */
  idempotencyKey: string
}

export interface ProcessContext {
  /** Aborted when the call times out, the job expires or the scheduler stops. Honour it. */
  signal: AbortSignal
}

/** What a worker may answer. Anything JSON-serialisable; stored truncated for operators. */
export type ProcessResult = unknown

/**
 * Processes one subscription. Resolve on success. Reject with a `PermanentError` when a retry
 * cannot help, or with any other error (a `RetryableError`, to pass `Retry-After`) to retry.
 */
export interface WorkerClient {
  process(request: ProcessRequest, context: ProcessContext): Promise<ProcessResult>
}

/** The idempotency key for a subscription and slot: what the worker dedupes on. */
export function idempotencyKey(subscriptionId: string, scheduledFor: Date): string {
  return `${subscriptionId}:${scheduledFor.toISOString()}`
}
