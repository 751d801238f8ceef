/**
 * Waiting for a run to finish, for `runNow()`, `retryFailed()`, `runSubscription()` and
 * `backfill()`. The run row is where every instance's settles meet, so it is what decides; it is
 * read at once when this instance finishes the run, and every `pollMs` for a run another
 * instance finishes. A poll can read it finished a moment before this instance has the answer of
 * the settle that finished it, and so before that settle's events and metrics are out: the wait
 * then waits for this instance's settles in flight as well.
 */
import type { Executor } from '../db/executor.js'
import { isTransientDbError } from '../db/transient.js'
import { sleep } from '../observe/clock.js'
import { getRun } from './runs.js'
import type { FinishedRunSummary, RunSummary } from './runs.js'

export interface WaitForRunOptions {
  /** Between two reads of the run row. @default 200 */
  pollMs?: number | undefined
  /** Gives up (rejects) when this aborts. */
  signal?: AbortSignal | undefined
  /**
   * Subscribes to the runs this instance finishes (its `run:finished` events), and returns the
   * unsubscribe function: such a run's row is read at once instead of at the next poll.
   */
  finishedHere?: ((listener: (run: RunSummary) => void) => () => void) | undefined
  /** Resolves once this instance's settles in flight now have announced what they recorded (PendingSettles). */
  settledHere?: (() => Promise<void>) | undefined
}

/**
 * This instance's settles (writes that may finish a run) until they have announced what they
 * recorded: its events, and its metrics.
 */
export interface PendingSettles {
  /** Tracks `settle` until it has settled, and returns it. */
  track<T>(settle: Promise<T>): Promise<T>
  /** Resolves once the settles tracked at this moment have settled; never rejects. */
  drained(): Promise<void>
}

export function createPendingSettles(): PendingSettles {
  const pending = new Set<Promise<unknown>>()
  return {
    track(settle) {
      pending.add(settle)
      const forget = () => void pending.delete(settle)
      settle.then(forget, forget)
      return settle
    },
    async drained() {
      if (pending.size > 0) await Promise.allSettled([...pending])
    },
  }
}

/**
 * Resolves with the run once its row says it has finished. `db` reads it, or `read` does (the
 * admin API reads through the scheduler it was given).
 */
export async function waitForRun(db: Executor | ((runId: string) => Promise<RunSummary>), runId: string, options: WaitForRunOptions = {}): Promise<FinishedRunSummary> {
  const read = typeof db === 'function' ? db : (id: string) => getRun(db, id)
  const pollMs = options.pollMs ?? 200
  let nudged = false
  let nudge: AbortController | undefined
  const unsubscribe = options.finishedHere?.((run) => {
    if (run.runId !== runId) return
    nudged = true
    nudge?.abort()
  })
  try {
    for (;;) {
      options.signal?.throwIfAborted()
      nudged = false
      try {
        const run = await read(runId)
        if (run.finishedAt) {
          await options.settledHere?.()
          return run as FinishedRunSummary
        }
      } catch (error) {
        // The database is restarting: the run goes on without us; keep asking.
        if (!isTransientDbError(error)) throw error
      }
      // Finished here while the row was being read: read it again at once.
      if (nudged) continue
      nudge = new AbortController()
      await sleep(pollMs, options.signal ? AbortSignal.any([options.signal, nudge.signal]) : nudge.signal)
      nudge = undefined
    }
  } finally {
    unsubscribe?.()
  }
}
