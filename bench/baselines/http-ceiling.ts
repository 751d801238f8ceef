/**
 * Baseline (c), for the latency scenario: the ceiling of the machine itself. The library's own
 * HTTP client (`createHttpWorkerClient`, imported from its module so that no database code is
 * loaded) calls the same local worker from `concurrency` loops, with no database, no queue and
 * no bookkeeping at all. What the scheduler achieves can be read against this as well as
 * against the ideal `concurrency / latency`: on a small, busy machine the client and the worker
 * alone may not reach the ideal.
 */
import { createHttpWorkerClient } from '../../src/worker-client/http-client.js'
import type { BaselineRun } from './pg-boss-fanout.js'

export interface HttpCeilingOptions {
  workerUrl: string
  calls: number
  concurrency: number
  /** Per-call time limit, as the scheduler's default. @default 30000 */
  timeoutMs?: number
}

/** Makes `calls` calls, `concurrency` at a time. Failed calls are counted, not retried. */
export async function runHttpCeiling(options: HttpCeilingOptions): Promise<BaselineRun & { failed: number }> {
  const client = createHttpWorkerClient({ baseUrl: options.workerUrl, timeoutMs: options.timeoutMs ?? 30_000 })
  const signal = new AbortController().signal
  let next = 0
  let processed = 0
  let failed = 0
  const loop = async () => {
    while (next < options.calls) {
      const i = next++
      const subscriptionId = crypto.randomUUID()
      const scheduledFor = new Date(Date.UTC(2027, 0, 1, 9)).toISOString()
      try {
        await client.process(
          {
            subscriptionId,
            userId: crypto.randomUUID(),
            processingId: `ceiling-${i}`,
            scheduledFor,
            attempt: 1,
            idempotencyKey: `${subscriptionId}:${scheduledFor}`,
          },
          { signal },
        )
        processed += 1
      } catch {
        failed += 1
      }
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: options.concurrency }, loop))
  return { processed, failed, wallMs: performance.now() - started }
}
