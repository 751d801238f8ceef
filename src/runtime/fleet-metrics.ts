/**
 * What the metrics say of runs: each run finished is counted, by trigger and outcome, and its
 * duration recorded, on the instance that finished it (its `run:finished`); and the fleet-wide
 * counts behind the gauges are read by every instance about once a minute: the rows due and not
 * yet claimed, the rows claimed and not settled, and the runs not finished (with the age of the
 * oldest). A minutely maintenance
 * tick read the backlog on whichever instance ran it, so two replicas' gauges disagreed by
 * minutes (a trial's read 37 and 637 at one moment), and nothing showed a run that never
 * finished. Each read is three index probes (bench/RESULTS.md: 0.04 ms for the count of due rows
 * at 1M). A read that fails is tried at the next tick; meanwhile the gauges stop reporting once
 * their reading is stale (observe/telemetry.ts).
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import type { Telemetry } from '../observe/telemetry.js'
import type { EventBus } from '../observe/events.js'
import { unfinishedRuns } from '../records/run-list.js'
import { countDue, countQueued } from '../records/status.js'

/** How often each instance reads the counts. */
export const GAUGE_READ_MS = 60_000

export interface FleetMetrics {
  /** Stops reading, and resolves once a read under way has ended: nothing uses the pool after. */
  stop(): Promise<void>
}

/** Counts the runs finished here, and reads the counts now, then every {@link GAUGE_READ_MS}, into `telemetry`. */
export function startFleetMetrics(pool: Pool, options: Pick<ResolvedOptions, 'clock' | 'logger'>, events: EventBus, telemetry: Telemetry): FleetMetrics {
  const unsubscribe = events.on('run:finished', (run) => telemetry.runFinished(run))
  let reading: Promise<void> | null = null
  const read = () => (reading ??= readOnce().finally(() => (reading = null)))
  const readOnce = async () => {
    try {
      const now = options.clock.now()
      const takenAt = performance.now()
      const [due, queued, unfinished] = await Promise.all([countDue(pool, now, 'due'), countQueued(pool), unfinishedRuns(pool)])
      telemetry.setDueBacklog(due, takenAt)
      telemetry.setQueued(queued, takenAt)
      telemetry.setUnfinishedRuns(unfinished.count, unfinished.oldest ? now.getTime() - unfinished.oldest.startedAt.getTime() : null, takenAt)
    } catch (error) {
      // The database away: said by the outage watch; the gauges go quiet once their reading is stale.
      options.logger.debug(`Reading the due backlog and unfinished runs for the metrics failed: ${(error as Error).message}`)
    }
  }
  void read()
  const timer = setInterval(() => void read(), GAUGE_READ_MS)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      unsubscribe()
      await reading
    },
  }
}
