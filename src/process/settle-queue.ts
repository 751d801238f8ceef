/**
 * Outcomes are settled in chunks as calls finish, from every job this instance holds at once:
 * a chunk goes as soon as fewer than `parallel` are being written and `batch` outcomes wait (up
 * to `size` of them), or `delayMs` after its first outcome when calls are few. A crash then
 * re-calls at most the chunks in flight, and a run's counters are written once a chunk, not
 * once a row.
 */
import type { Outcome } from '../settle/outcome.js'

export interface SettleQueue {
  /** Resolves once the outcome's chunk has committed; rejects if it could not be. */
  add(outcome: Outcome): Promise<void>
  /**
   * Sends what waits now rather than after the delay, if a chunk may go: a job whose calls have
   * all ended waits for nothing else, and its instance fetches no more jobs until it completes.
   */
  flush(): void
}

interface Waiting {
  outcome: Outcome
  resolve: () => void
  reject: (error: unknown) => void
}

export function createSettleQueue(settle: (outcomes: Outcome[]) => Promise<void>, { size = 256, batch = 32, delayMs = 100, parallel = 2 } = {}): SettleQueue {
  const waiting: Waiting[] = []
  let timer: NodeJS.Timeout | undefined
  let inFlight = 0

  async function flush(): Promise<void> {
    clearTimeout(timer)
    timer = undefined
    if (inFlight >= parallel || waiting.length === 0) return
    inFlight += 1
    const chunk = waiting.splice(0, size)
    try {
      await settle(chunk.map((w) => w.outcome))
      for (const w of chunk) w.resolve()
    } catch (error) {
      for (const w of chunk) w.reject(error)
    } finally {
      inFlight -= 1
      // What came while this chunk was being written has waited long enough.
      if (waiting.length > 0) void flush()
    }
  }

  return {
    add(outcome) {
      const settled = new Promise<void>((resolve, reject) => waiting.push({ outcome, resolve, reject }))
      if (inFlight < parallel) {
        if (waiting.length >= batch) void flush()
        else timer ??= setTimeout(() => void flush(), delayMs)
      }
      return settled
    },
    flush() {
      if (inFlight < parallel) void flush()
    },
  }
}
