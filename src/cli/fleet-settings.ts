/**
 * What `worker` takes from the instances already scheduling on its database, for what no flag or
 * variable sets: the sweep's cron and zone as registered, and the time of day, catch-up (and its window), cadence
 * names, retry policy, autoEnroll and pauseAfterConsecutiveFailures they published, and the call limits stored. A worker has flags
 * for the cron and the zone only: started beside instances embedded in a backend, it would
 * otherwise register the library's defaults over their schedule, and compute other slots than
 * theirs. On a database with neither (a first start, or one not migrated yet), the library's
 * defaults apply, as before.
 */
import type pg from 'pg'
import { DEFAULTS } from '../config/options.js'
import { resolvedQuietly } from './context.js'
import type { Logger, SchedulerOptions } from '../index.js'
import { registeredSchedule } from '../records/status.js'
import { followPublished, followFleetLimits, readSharedSettings } from '../runtime/shared-settings.js'
import type { SharedSettings } from '../runtime/shared-settings.js'
import { heldLimits } from './published-settings.js'

/** `options` with what the fleet on this database has set filled in; says what it took. */
export async function joinFleet(pool: pg.Pool, options: SchedulerOptions, logger: Logger): Promise<SchedulerOptions> {
  const resolved = resolvedQuietly(options)
  // Null too where pg-boss is not installed yet. Read when a cron is given too: whether that one
  // replaces it decides what is said below.
  const registered = await registeredSchedule(pool, resolved)
  // Null where the scheduler's tables are not there yet (a database not migrated).
  const published: SharedSettings | null = await readSharedSettings(pool, resolved.queuePrefix).catch(() => null)
  const joined: SchedulerOptions = { ...options }
  // The call limits the fleet is held to; none on a database not migrated yet.
  const limits = await followFleetLimits(pool, joined, resolved.queuePrefix).catch(() => null)
  const held = heldLimits(limits)
  if (!registered && !published && held.length === 0) return options
  if (registered && options.cron === undefined) {
    joined.cron = registered.cron
    joined.timezone ??= registered.timezone
  }
  if (published) followPublished(joined, published, logger)
  // A --cron or zone that differs from the registered schedule replaces it at start(), which
  // says so: this line must not first claim to follow the schedule it replaces.
  const cron = joined.cron ?? DEFAULTS.cron
  const timezone = joined.timezone ?? DEFAULTS.timezone
  const follows = registered !== null && cron === registered.cron && timezone === registered.timezone
  const parts = [
    follows ? `cron '${cron}' in ${timezone}` : null,
    published ? `runAt ${joined.runAt}, catchUp ${joined.catchUp}${joined.catchUpWindowDays ? ` (window ${joined.catchUpWindowDays} days)` : ''}, ${Object.keys(joined.frequencies ?? {}).length} cadence names` : null,
    published?.retry ? `retry limit ${published.retry.limit}, delay ${published.retry.delaySeconds}–${published.retry.maxDelaySeconds} s` : null,
    published?.unknownFrequency === 'fail' ? "unknownFrequency 'fail'" : null,
    published?.autoEnroll === false ? 'autoEnroll false' : null,
    published?.pauseAfterConsecutiveFailures ? `pauseAfterConsecutiveFailures ${published.pauseAfterConsecutiveFailures}` : null,
    ...held,
  ].filter(Boolean)
  if (parts.length === 0) return joined
  // With a --cron or zone given that is the registered one, how to replace it goes without saying.
  const howToReplace = options.cron === undefined && options.timezone === undefined ? ' Pass --cron or --timezone to replace the schedule.' : ''
  if (follows) logger.info(`Following the schedule on this database: ${parts.join('; ')}.${howToReplace}`)
  else logger.info(`Following the settings published on this database, which no flag sets: ${parts.join('; ')}.`)
  return joined
}
