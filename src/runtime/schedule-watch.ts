/**
 * A fleet in which no instance registers the sweep schedule sweeps only when asked (`runNow()`,
 * the CLI's `run-now`), never on its cron, and nothing else would say so: every instance was
 * started with `schedule: false`, or the scheduling one with another `queuePrefix` or
 * `bossSchema`. An instance started with `schedule: false` looks for the registered schedule at
 * its start and, when none is there yet (the scheduling instance may be starting beside it), once
 * more when a minute has passed by the scheduler's clock; then it warns, once.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import { registeredSchedule } from '../records/status.js'
import { everyOnClock } from '../observe/clock.js'

/** How long a `schedule: false` instance gives a scheduling one to register the schedule. */
export const SCHEDULE_GRACE_MS = 60_000

type WatchOptions = Pick<ResolvedOptions, 'schedule' | 'bossSchema' | 'queuePrefix' | 'clock' | 'logger'>

export interface ScheduleWatch {
  stop(): void
}

export function noScheduleWarning(options: Pick<ResolvedOptions, 'bossSchema' | 'queuePrefix'>): string {
  return (
    `No sweep schedule is registered for queue prefix '${options.queuePrefix}' (pg-boss schema '${options.bossSchema}') a minute after ` +
    'this instance started with `schedule: false` (as the CLI\'s run-now, retry-failed and backfill start theirs): no sweep runs on a cron until an instance with `schedule: true` (the default) ' +
    'starts with the same `queuePrefix` and `bossSchema`; runNow() and the CLI\'s run-now still sweep.'
  )
}

function describeFound(found: { cron: string; timezone: string }): string {
  return `Sweeps run on the registered schedule: cron '${found.cron}' (${found.timezone}).`
}

export async function watchForSchedule(pool: Pool, options: WatchOptions): Promise<ScheduleWatch> {
  const idle = { stop() {} }
  if (options.schedule) return idle
  const found = await registeredSchedule(pool, options)
  if (found) {
    options.logger.debug(describeFound(found))
    return idle
  }
  return everyOnClock(options.clock, SCHEDULE_GRACE_MS, async (stopped) => {
    const later = await registeredSchedule(pool, options)
    if (stopped.aborted) return true
    if (later) options.logger.debug(describeFound(later))
    else options.logger.warn(noScheduleWarning(options))
    return true
  })
}
