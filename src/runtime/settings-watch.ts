/**
 * An instance started before another replaced the published schedule settings (a replica
 * deployed with another `timezone`, `runAt` or `cron`) goes on by its own options: the next slots
 * it computes are no longer the new ones', and the fleet's subscriptions land at two times of day.
 * Only the replacing instance said so, at its start. So every running instance compares, once a
 * minute by the scheduler's clock, the published settings and the registered sweep schedule with
 * its own options, and warns once per difference it has not warned of: what differs, and that
 * the instances must be given the same options.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import { registeredSchedule } from '../records/status.js'
import { readSharedSettings, settingsDrift, settingsOf } from './shared-settings.js'
import type { SharedSettings } from './shared-settings.js'
import { everyOnClock } from '../observe/clock.js'

/** How often, by the scheduler's clock, the published settings are compared with this instance's. */
export const SETTINGS_CHECK_MS = 60_000

export interface SettingsWatch {
  stop(): void
}

type WatchOptions = Parameters<typeof settingsOf>[0] & Pick<ResolvedOptions, 'schedule' | 'cron' | 'bossSchema' | 'clock' | 'logger'>

/** What differs between this instance's options and what the fleet now runs by, as `name 'mine' → 'theirs'` phrases. */
async function driftFromFleet(pool: Pool, options: WatchOptions): Promise<string[]> {
  const published = await readSharedSettings(pool, options.queuePrefix)
  const drift = published ? settingsDrift(settingsOf(options), published) : []
  if (!options.schedule) return drift
  // The cron is not among the settings: pg-boss's schedule holds it.
  const registered = await registeredSchedule(pool, options)
  if (registered && registered.cron !== options.cron) drift.unshift(`cron '${options.cron}' → '${registered.cron}'`)
  return drift
}

function driftWarning(drift: string[], schedules: boolean): string {
  const by = schedules ? 'Another instance replaced the published schedule settings' : 'The published schedule settings changed'
  return (
    `${by} since this instance started: ${drift.join(', ')} (this instance → now published). This instance goes on by its own ` +
    'options until it restarts: the next slot of each subscription it calls, and the slots it computes for controls and previews, ' +
    "follow them, so the fleet's subscriptions land at different times. Start every instance with the same options (the CLI's " +
    '`status` shows the registered schedule; `schedule: false` keeps an instance off it).'
  )
}

/**
 * Starts the comparison from `inForce`, the settings shareSettings() left published at this
 * instance's start, which it has been told of already (a `schedule: false` instance that
 * disagrees is warned there). A scheduling instance has just registered its own cron: no drift.
 */
export function watchSettings(pool: Pool, options: WatchOptions, inForce: SharedSettings | null): SettingsWatch {
  let told = JSON.stringify(inForce ? settingsDrift(settingsOf(options), inForce) : [])
  return everyOnClock(options.clock, SETTINGS_CHECK_MS, async (stopped) => {
    const drift = await driftFromFleet(pool, options)
    const key = JSON.stringify(drift)
    if (stopped.aborted || key === told) return false
    told = key
    if (drift.length > 0) options.logger.warn(driftWarning(drift, options.schedule))
    else options.logger.info("The published schedule settings agree with this instance's options again.")
    return false
  })
}
