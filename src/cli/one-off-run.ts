/**
 * The frame of the commands that start a run from a one-off scheduler (`run-now`, `retry-failed`, `backfill`):
 * start the scheduler, then either leave the run to the running workers (`--no-wait`) or follow
 * it to the end with progress; on SIGINT or SIGTERM, leave it to them and say so. The scheduler
 * is stopped in every case, within the shutdown timeout.
 */
import type { Logger } from '../observe/logger.js'
import type { RunSummary } from '../records/runs.js'
import type { SubscriptionScheduler } from '../types.js'
import { waitForShutdownSignal } from './args.js'
import { EXIT } from './context.js'
import { createProgress } from './progress.js'
import { waitForSweep, watchRun } from './watch-run.js'
import type { WatchedRun } from './watch-run.js'
import { print } from './print.js'
import { oneLine } from '../printable.js'

export interface OneOffRun {
  /** Follow the run to the end; otherwise (`--no-wait`) start it, and return once it has enqueued what it will. */
  wait: boolean
  /** Starts the run without waiting for it to settle (`{ wait: false }`). */
  start(): Promise<{ runId: string }>
  /** With `--no-wait`: the line that says what the run enqueued, for running workers to process. */
  started(run: RunSummary): string
  /** How many failures the followed run keeps, for its report. */
  keepFailures: number
  /** Prints what the finished run did (exit code 3 when any subscription failed is set here). */
  report(watched: WatchedRun): Promise<void>
  /** The line printed when interrupted, with the run's id once known. */
  interrupted(runId: string | undefined): string
  /** The fleet's call limits this process's calls are held to (cliSchedulerOptions()), said once the run has started. */
  heldTo: string[]
  /** The command's logger: a second signal is said through it. */
  logger: Logger
}

export async function runOneOff(scheduler: SubscriptionScheduler, timeoutMs: number, run: OneOffRun): Promise<void> {
  const shutdown = waitForShutdownSignal(run.logger)
  const interrupted = new AbortController()
  void shutdown.signal.then(() => interrupted.abort())
  let runId: string | undefined
  try {
    await scheduler.start()
    if (!run.wait) {
      const { runId } = await run.start()
      // The run claims in the background: stopping before that is over would cut it short.
      const swept = await waitForSweep(scheduler, runId, interrupted.signal)
      print(run.started(swept))
      // As a followed run's summary says it (formatSummary): a sweep that stopped early left rows due.
      if (swept.error) print(`The sweep reported an error: ${oneLine(swept.error)}`)
      return
    }
    const progress = createProgress({ stream: process.stderr, tty: process.stderr.isTTY === true })
    try {
      const watched = await watchRun(scheduler, {
        start: run.start,
        keepFailures: run.keepFailures,
        signal: interrupted.signal,
        onStarted: (id) => {
          runId = id
          // Once it has started: a run refused (a paused subscription, calls paused) makes no calls.
          if (run.heldTo.length > 0) process.stderr.write(`This run's calls are held to the fleet's call limits: ${run.heldTo.join(', ')}.\n`)
        },
        onProgress: (done, total) => progress.update(done, total),
      })
      progress.finish()
      await run.report(watched)
      if (watched.summary.failed > 0) process.exitCode = EXIT.subscriptionsFailed
    } catch (error) {
      progress.finish()
      if (!interrupted.signal.aborted) throw error
      process.stderr.write(`${run.interrupted(runId)}\n`)
      process.exitCode = EXIT.interrupted
    }
  } finally {
    await scheduler.stop({ timeoutMs })
    shutdown.dispose()
  }
}
