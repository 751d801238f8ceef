/**
 * Starts a run (a sweep, unless told otherwise) and follows it to the end. The run row is the
 * truth (its jobs may settle on any instance, and skipped rows emit no event); this instance's
 * events move the progress between two polls of it.
 */
import type { RunSummary } from '../index.js'
import type { SubscriptionScheduler } from '../types.js'
import { sleep } from '../observe/clock.js'

export interface FailedSubscription {
  subscriptionId: string
  attempt: number
  error: string
  /** Paused after failing in a row (`pauseAfterConsecutiveFailures`) once the run ended: no sweep takes it. */
  paused?: boolean | undefined
}

export interface WatchRunOptions {
  /** Starts the run to watch. @default a sweep now: `runNow({ wait: false })` */
  start?(): Promise<{ runId: string }>
  onStarted?(runId: string): void
  onProgress?(done: number, total: number): void
  /** How often the run row is read. @default 250 */
  pollMs?: number | undefined
  /** Final failures kept for the report (all are counted). @default 10 */
  keepFailures?: number | undefined
  signal?: AbortSignal | undefined
}

export interface WatchedRun {
  summary: RunSummary
  /** The first final failures this instance saw, with their errors. */
  failures: FailedSubscription[]
}

/** How long progress waits for a sweep that is still claiming before it shows a growing total. */
const TOTAL_WAIT_MS = 5000

export async function watchRun(scheduler: SubscriptionScheduler, options: WatchRunOptions = {}): Promise<WatchedRun> {
  const pollMs = options.pollMs ?? 250
  const keepFailures = options.keepFailures ?? 10
  // Events may arrive before runNow() resolves with the id, so count every run's and pick ours.
  // Two counts, never added together: this instance's events, and the run row's (every
  // instance's). An event may come after the poll that already counted its row, so done is the
  // larger of the two, each a lower bound of the truth.
  const settled = new Map<string, number>()
  let counted = 0
  const failures = new Map<string, FailedSubscription[]>()
  let runId: string | undefined
  let total = 0
  let wake: (() => void) | undefined

  // Not before the run row has been read: calls may settle before the first poll, and a total
  // of what is counted so far would be wrong. Nor, for its first seconds, while the sweep still
  // claims: its first pages are small, and a total that jumps from 64 to 5,000 says nothing.
  let totalKnown = false
  const startedAt = Date.now()
  const report = () => {
    if (runId && total > 0 && (totalKnown || Date.now() - startedAt >= TOTAL_WAIT_MS)) options.onProgress?.(Math.max(settled.get(runId) ?? 0, counted), total)
  }
  const bump = (id: string) => {
    settled.set(id, (settled.get(id) ?? 0) + 1)
    if (id === runId) report()
  }
  const unsubscribe = [
    scheduler.on('subscription:succeeded', (event) => bump(event.runId)),
    scheduler.on('subscription:failed', (event) => {
      // A failure followed by a retry has not settled; only the last attempt counts.
      if (!event.final) return
      const kept = failures.get(event.runId) ?? []
      if (kept.length < keepFailures) kept.push({ subscriptionId: event.subscriptionId, attempt: event.attempt, error: event.error })
      failures.set(event.runId, kept)
      bump(event.runId)
    }),
    scheduler.on('run:finished', (summary) => {
      if (summary.runId === runId) wake?.()
    }),
  ]
  try {
    options.signal?.throwIfAborted()
    ;({ runId } = await (options.start ? options.start() : scheduler.runNow({ wait: false })))
    options.onStarted?.(runId)
    for (;;) {
      options.signal?.throwIfAborted()
      const run = await scheduler.getRun(runId)
      total = run.processed
      totalKnown = run.sweepFinishedAt !== null
      counted = run.successful + run.failed + run.skipped
      report()
      if (run.finishedAt) return { summary: run, failures: failures.get(runId) ?? [] }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs)
        function done() {
          clearTimeout(timer)
          options.signal?.removeEventListener('abort', done)
          wake = undefined
          resolve()
        }
        wake = done
        options.signal?.addEventListener('abort', done, { once: true })
      })
    }
  } finally {
    for (const off of unsubscribe) off()
  }
}

/** Resolves once run `runId` has claimed and enqueued everything it will (its sweep is over). */
export async function waitForSweep(scheduler: SubscriptionScheduler, runId: string, signal?: AbortSignal): Promise<RunSummary> {
  for (;;) {
    const run = await scheduler.getRun(runId)
    if (run.sweepFinishedAt) return run
    signal?.throwIfAborted()
    await sleep(250, signal)
  }
}
