/**
 * Outcomes are settled in chunks as calls finish, from every job this instance holds at once:
 * a chunk goes as soon as fewer than `parallel` are being written and `batch` outcomes wait (up
 * to `size` of them), or once the oldest outcome has waited `delayMs` when calls are few. A crash
 * then re-calls at most the chunks in flight, and a run's counters are written once a chunk, not
 * once a row.
 *
 * Each settle costs the database about a millisecond of CPU besides its rows, so a chunk is not
 * sent small just because the one before it has committed: with calls that take tens of
 * milliseconds, that made a settle of a dozen rows every few milliseconds (bench/RESULTS.md).
 */
import type { Outcome } from '../settle/outcome.js'

export interface SettleQueue {
  /** Resolves once the outcome's chunk has committed; rejects if it could not be. */
  add(outcome: Outcome): Promise<void>
  /**
   * Sends what waits now, or as soon as a chunk may go, rather than after a batch or the delay:
   * a job whose calls have all ended waits for nothing else, and its instance fetches no more
   * jobs until it completes.
   */
  flush(): void
}

interface Waiting {
  outcome: Outcome
  /** When it was added (ms since the epoch): it waits at most `delayMs` from then. */
  at: number
  resolve: () => void
  reject: (error: unknown) => void
}

export interface SettleQueuePolicy {
  size?: number
  batch?: number
  delayMs?: number
  parallel?: number
  /**
   * Whether a chunk that failed with `error` is recorded again an outcome at a time (one bad row
   * may have failed it), or fails as a whole. @default always
   */
  splits?: (error: unknown) => boolean
  /** Told when a chunk that failed with `error` is recorded again an outcome at a time. */
  onSplit?: (outcomes: number, error: unknown) => void
  /**
   * Whether more outcomes are on their way (calls in flight or about to start): a flush() then
   * waits for a batch, or `delayMs`, as any outcome does. @default never
   */
  busy?: () => boolean
}

export function createSettleQueue(settle: (outcomes: Outcome[]) => Promise<void>, { size = 256, batch = 64, delayMs = 100, parallel = 2, splits = () => true, onSplit, busy = () => false }: SettleQueuePolicy = {}): SettleQueue {
  const waiting: Waiting[] = []
  let timer: NodeJS.Timeout | undefined
  let inFlight = 0
  /** flush() was asked for while no chunk could go: what waits goes as soon as one can. */
  let urgent = false

  /** Sends what waits (up to `size`) as one chunk, if fewer than `parallel` are being written. */
  async function send(): Promise<void> {
    clearTimeout(timer)
    timer = undefined
    if (inFlight >= parallel || waiting.length === 0) return
    inFlight += 1
    const chunk = waiting.splice(0, size)
    if (waiting.length === 0) urgent = false
    try {
      await settle(chunk.map((w) => w.outcome))
      for (const w of chunk) w.resolve()
    } catch (error) {
      if (chunk.length === 1 || !splits(error)) for (const w of chunk) w.reject(error)
      else await settleAlone(chunk, error)
    } finally {
      inFlight -= 1
      schedule()
    }
  }

  /**
   * A chunk that could not be recorded (the settle rides out a database outage: this is an error
   * that stays) is recorded again an outcome at a time, so that one bad row fails alone. Its
   * job then fails and is delivered again, calling only what it still owns; the others in the
   * chunk, of its job or another, are recorded.
   */
  async function settleAlone(chunk: Waiting[], error: unknown): Promise<void> {
    onSplit?.(chunk.length, error)
    for (const w of chunk) {
      try {
        await settle([w.outcome])
        w.resolve()
      } catch (error) {
        w.reject(error)
      }
    }
  }

  /** Sends a batch once one waits; otherwise sends what waits when the oldest has waited `delayMs`. */
  function schedule(): void {
    if (inFlight >= parallel || waiting.length === 0) return
    if (waiting.length >= batch || urgent) return void send()
    timer ??= setTimeout(() => void send(), Math.max(0, delayMs - (Date.now() - waiting[0]!.at)))
  }

  return {
    add(outcome) {
      const settled = new Promise<void>((resolve, reject) => waiting.push({ outcome, at: Date.now(), resolve, reject }))
      schedule()
      return settled
    },
    flush() {
      if (waiting.length === 0) return
      urgent ||= !busy()
      schedule()
    },
  }
}
