/**
 * The schedule settings a CLI command computes slots with, and shows times in: the zone, time of
 * day, catch-up (and its window) and cadence names; the retry policy of the calls it makes (`run-now`, `backfill`);
 * when it pauses a subscription failing in a row (`pauseAfterConsecutiveFailures`); whether it
 * enrols host subscriptions with no row (`autoEnroll`: `run-now`'s sweep, a control on
 * one); and the call limits those calls are held to, as stored. The processes that register the
 * schedule (`worker`, a host's `start()`) publish theirs in the database for their queue prefix;
 * every other command follows them, so that a preview, a skip or a reschedule made here computes
 * the slots the workers run. Flags and environment still win (only the zone has any: `--timezone`,
 * SUBSCRIPTION_TIMEZONE), and a command that overrides the published zone says so on stderr.
 */
import type pg from 'pg'
import { DEFAULTS } from '../config/options.js'
import { explainingMissingTables } from '../db/missing-tables.js'
import type { Logger, SchedulerOptions } from '../index.js'
import { followPublished, followFleetLimits, readSharedSettings } from '../runtime/shared-settings.js'
import type { SharedSettings } from '../runtime/shared-settings.js'
import type { CallLimits } from '../process/global-limits.js'
import { resolvedQuietly, schedulerOptions } from './context.js'
import type { SchedulerFlags } from './context.js'

/** The zone of subscriptions with none of their own, and a note saying where it comes from. */
export interface SchedulerZone {
  zone: string
  note: string
}

/** The options a command builds its scheduler with, and where the scheduler's settings came from. */
export interface CliSchedulerOptions {
  options: SchedulerOptions
  zone: SchedulerZone
  /** What the scheduling instances published, or null when none has started on this database. */
  published: SharedSettings | null
  /** The fleet's call limits its calls are held to, as `maxConcurrentCalls 3`; empty when none. */
  heldTo: string[]
}

/** The limits set in `limits`, as `maxConcurrentCalls 3` and `maxCallsPerSecond 20`. */
export function heldLimits(limits: CallLimits | null): string[] {
  return [
    limits?.maxConcurrentCalls != null ? `maxConcurrentCalls ${limits.maxConcurrentCalls}` : null,
    limits?.maxCallsPerSecond != null ? `maxCallsPerSecond ${limits.maxCallsPerSecond}` : null,
  ].filter((limit) => limit !== null)
}

/** Where a flag or variable set the zone: the one-line note shown next to it. */
function givenZone(flags: SchedulerFlags, env: NodeJS.ProcessEnv): { zone: string; from: string } | undefined {
  if (flags.timezone) return { zone: flags.timezone, from: '--timezone' }
  if (env.SUBSCRIPTION_TIMEZONE) return { zone: env.SUBSCRIPTION_TIMEZONE, from: 'SUBSCRIPTION_TIMEZONE' }
  return undefined
}

/**
 * The scheduler options for a command (never `worker`, which publishes its own): flags and
 * environment first, then the settings published for the queue prefix, then the library's
 * defaults. Throws a NotMigratedError on a database the scheduler's tables are missing from.
 *
 * `noteOverride`: log a one-line warning when a flag or variable sets a zone other than the
 * published one. Commands that start a scheduler leave it to the library, whose `schedule:
 * false` instance says the same at `start()`; `status` says it in its own Note line.
 */
export async function cliSchedulerOptions(
  pool: pg.Pool,
  flags: SchedulerFlags,
  logger: Logger,
  { noteOverride = true, env = process.env }: { noteOverride?: boolean | undefined; env?: NodeJS.ProcessEnv | undefined } = {},
): Promise<CliSchedulerOptions> {
  const options = schedulerOptions(flags, logger, env)
  const { queuePrefix } = resolvedQuietly(options)
  const published = await explainingMissingTables(pool, () => readSharedSettings(pool, queuePrefix))
  const given = givenZone(flags, env)
  if (published) followPublished(options, published, logger)
  // Its calls (run-now, backfill) are held to the fleet's limits, which no flag sets.
  const heldTo = heldLimits(await followFleetLimits(pool, options, queuePrefix))
  if (given) {
    if (noteOverride && published?.timezone && published.timezone !== given.zone) {
      logger.warn(
        `${given.from} sets the scheduler's zone to ${given.zone}, but its workers published ${published.timezone}: ` +
          `this command computes slots in ${given.zone}, the workers run them in ${published.timezone}; run it without ${given.from} to follow them.`,
      )
    }
    return { options, published, heldTo, zone: { zone: given.zone, note: `the scheduler's zone, from ${given.from}` } }
  }
  if (published?.timezone) return { options, published, heldTo, zone: { zone: published.timezone, note: "the scheduler's zone, as its workers published it" } }
  return {
    options,
    published,
    heldTo,
    zone: { zone: DEFAULTS.timezone, note: "the scheduler's default zone; set SUBSCRIPTION_TIMEZONE as your workers have it" },
  }
}
