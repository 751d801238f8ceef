/**
 * Where worker calls wait their turn. A batch hands over all its calls at once; they start as
 * the limits allow: `concurrency` calls in flight in this instance (a semaphore shared by every
 * batch), and, when configured, the limits shared by all instances (global-limits.ts).
 */
import type { GlobalLimits, Grant } from './global-limits.js'
import type { Logger } from '../observe/logger.js'
import { sleep } from '../observe/clock.js'

/** At most `limit` functions running at once; the rest wait in order. */
export class Semaphore {
  private running = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running += 1
    try {
      return await fn()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.running -= 1
    }
  }
}

export interface CallGate {
  /**
   * Calls `call` once for every item, within the limits, and resolves with the results in
   * order. Once `signal` aborts, items still waiting are called at once (a call made with an
   * aborted signal ends without reaching the worker), so every item gets a result.
   */
  runAll<T, R>(items: T[], call: (item: T) => Promise<R>, signal: AbortSignal): Promise<R[]>
}

export function createCallGate(concurrency: number, global: GlobalLimits | null, logger: Logger): CallGate {
  const local = new Semaphore(concurrency)
  return {
    async runAll<T, R>(items: T[], call: (item: T) => Promise<R>, signal: AbortSignal): Promise<R[]> {
      if (!global) return await Promise.all(items.map((item) => local.run(() => call(item))))
      const results: Array<Promise<R>> = []
      const releases: Promise<void>[] = []
      let next = 0
      while (next < items.length) {
        const grant: Grant = await global.acquire(items.length - next, signal)
        const wave = items.slice(next, next + grant.count).map(async (item, i) => {
          const delayMs = grant.delaysMs[i] ?? 0
          if (delayMs > 0) await sleep(delayMs, signal)
          return await local.run(() => call(item))
        })
        next += grant.count
        results.push(...wave)
        releases.push(
          Promise.allSettled(wave)
            .then(() => grant.release())
            .catch((error: unknown) => logger.warn(`Returning call permits failed (${(error as Error).message}); they expire on their own.`)),
        )
      }
      try {
        return await Promise.all(results)
      } finally {
        await Promise.all(releases)
      }
    },
  }
}
