/**
 * What the commands that steer one subscription (upcoming, skip, pause, resume, reschedule,
 * backfill) share: the id argument, instants typed as flags, the library's refusals reworded in
 * the flags' terms, and the zone the subscription's times are printed in.
 *
 * The slots these commands compute follow the scheduler's settings for subscriptions that have
 * none of their own. Those settings live in each process's options, not in the database, so the
 * CLI reads them where `worker` does: SUBSCRIPTION_TIMEZONE and SUBSCRIPTION_CRON.
 */
import type { ArgsDef } from 'citty'
import type pg from 'pg'
import { DEFAULTS } from '../config/options.js'
import { isConfigurationError } from '../errors.js'
import type { Logger } from '../observe/logger.js'
import { assertUuid } from '../records/enroll.js'
import { ISO_INSTANT_EXAMPLE, parseIsoInstant } from '../schedule/iso-instant.js'
import { createSubscriptionScheduler } from '../scheduler.js'
import type { SubscriptionDetails, SubscriptionScheduler } from '../types.js'
import { schedulerOptions, UsageError } from './context.js'
import type { SchedulerFlags } from './context.js'
import { timeInZone } from './zoned-time.js'

export const subscriptionIdArg = {
  id: { type: 'positional', description: 'The subscription id (a UUID)', required: true, valueHint: 'id' },
} as const satisfies ArgsDef

/** The one id the command was given, checked, before anything connects. */
export function subscriptionIdOf(args: { id?: unknown; _: unknown[] }, command: string): string {
  if (args._.length > 1) throw new UsageError(`${command} takes one subscription id, got ${args._.length}: ${command} <id>.`)
  const id = String(args.id ?? '').trim()
  try {
    assertUuid('id', id)
  } catch {
    throw new UsageError(`<id> must be a subscription id, a UUID such as 3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9; got ${JSON.stringify(id)}.`)
  }
  return id.toLowerCase()
}

/** `--flag <ISO instant>`; undefined when the flag is absent. */
export function instantFlag(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const date = parseIsoInstant(value)
  if (!date) throw new UsageError(`--${flag}: expected a date and time with its zone, such as ${ISO_INSTANT_EXAMPLE}; got ${JSON.stringify(value)}.`)
  return date
}

/** The library's option names, and the flags that carry them. */
const FLAGS: Record<string, string> = {
  until: '--until', count: '--count', from: '--from', to: '--to',
  runAt: '--run-at', timezone: '--timezone', anchor: '--anchor', startsAt: '--starts-at', endsAt: '--ends-at',
}

/**
 * Runs `work`; a ConfigurationError about an option a flag carries becomes a UsageError naming
 * the flag: `--until: … is not in the future` rather than "Invalid option `until`".
 */
export async function inFlagTerms<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    const flag = isConfigurationError(error) ? FLAGS[error.option] : undefined
    if (!flag || !isConfigurationError(error)) throw error
    // The library speaks of options and of `null`; the command line, of flags and of `none`.
    const reason = error.message
      .replace(/^Invalid option `[^`]+`: /, '')
      .replace(/`(\w+)`/g, (whole, name: string) => FLAGS[name] ?? whole)
      .replace(/\bnull\b/g, 'none')
    throw new UsageError(`${flag}: ${reason}`)
  }
}

/** A scheduler on `pool` with the settings `worker` would read from the environment. */
export function controlScheduler(pool: pg.Pool, logger: Logger, flags: SchedulerFlags = {}): SubscriptionScheduler {
  return createSubscriptionScheduler(pool, schedulerOptions(flags, logger))
}

/** The zone a subscription's slots fall in, and a note saying whose zone it is. */
export function zoneOf(details: Pick<SubscriptionDetails, 'timezone'>, env: NodeJS.ProcessEnv = process.env): { zone: string; note: string } {
  if (details.timezone) return { zone: details.timezone, note: 'its own zone' }
  const configured = env.SUBSCRIPTION_TIMEZONE
  if (configured) return { zone: configured, note: "the scheduler's zone, from SUBSCRIPTION_TIMEZONE" }
  return { zone: DEFAULTS.timezone, note: "the scheduler's default zone; set SUBSCRIPTION_TIMEZONE as your workers have it" }
}

/** Why a subscription has no slot ahead, or undefined when it has one. */
export function whyNoSlot(details: SubscriptionDetails): string | undefined {
  if (!details.active) return 'its host subscription is inactive'
  if (details.status === 'ended') return `it has ended${details.endsAt ? ` (its end is ${timeInZone(details.endsAt, zoneOf(details).zone)})` : ''}`
  if (details.status === 'paused' && !details.pausedUntil) return 'it is paused until resumed'
  return undefined
}

/** The lines that describe a subscription's schedule after a change. */
export function scheduleLines(details: SubscriptionDetails): string[] {
  const { zone, note } = zoneOf(details)
  const at = (date: Date | null) => timeInZone(date, zone)
  const why = whyNoSlot(details)
  const lines = [
    `  status       ${details.status}${details.pausedUntil ? ` until ${at(details.pausedUntil)}` : ''}`,
    `  next run     ${details.nextRunAt ? at(details.nextRunAt) : `none${why ? `: ${why}` : ''}`}`,
    `  zone         ${zone} (${note})`,
    `  time of day  ${details.runAt ?? "the scheduler's runAt"}`,
  ]
  if (details.anchorAt) lines.push(`  anchor       ${at(details.anchorAt)}`)
  if (details.startsAt) lines.push(`  starts       ${at(details.startsAt)}`)
  if (details.endsAt) lines.push(`  ends         ${at(details.endsAt)}`)
  return lines
}
