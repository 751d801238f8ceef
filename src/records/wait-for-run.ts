/**
 * Waiting for a run to finish, for `runNow()`, `retryFailed()`, `runSubscription()` and
 * `backfill()`. The run row is where every instance's settles meet, so it is what decides; it is
 * read at once when this instance finishes the run, and every `pollMs` for a run another
 * instance finishes.
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
}

/** Resolves with the run once its row says it has finished. */
export async function waitForRun(db: Executor, runId: string, options: WaitForRunOptions = {}): Promise<FinishedRunSummary> {
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
        const run = await getRun(db, runId)
        if (run.finishedAt) return run as FinishedRunSummary
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
