/**
 * What the commands that steer one subscription (upcoming, skip, pause, resume, reschedule,
 * backfill) share: the id argument, instants typed as flags, the library's refusals reworded in
 * the flags' terms, and the zone the subscription's times are printed in.
 *
 * The slots these commands compute follow the scheduler's settings for subscriptions that have
 * none of their own: those its workers published (published-settings.ts), unless
 * SUBSCRIPTION_TIMEZONE sets the zone.
 */
import type { ArgsDef } from 'citty'
import type pg from 'pg'
import { shown } from '../error-text.js'
import type { Logger } from '../observe/logger.js'
import { assertUuid } from '../records/enroll.js'
import { gotInstant, ISO_INSTANT_EXAMPLE, parseIsoInstant } from '../schedule/iso-instant.js'
import { createSubscriptionScheduler } from '../scheduler.js'
import type { SubscriptionDetails, SubscriptionScheduler } from '../types.js'
import { UsageError } from './context.js'
import { cliSchedulerOptions } from './published-settings.js'
import type { CliSchedulerOptions, SchedulerZone } from './published-settings.js'
import { inUserTerms } from './usage-error.js'
import { timeInZone } from './zoned-time.js'

export const subscriptionIdArg = {
  id: { type: 'positional', description: 'The subscription id (a UUID)', required: true, valueHint: 'id' },
} as const satisfies ArgsDef

/** `--note`, of the commands that change a schedule: kept with the history entry they write. */
export const noteArg = {
  note: { type: 'string', description: 'Kept with the history entry this writes, as `show` lists it: who asked, a ticket, why (up to 500 characters)', valueHint: 'text' },
} as const satisfies ArgsDef

/** The `{ note }` option of `--note`, or none. */
export function noteOption(args: { note?: string | undefined }): { note?: string } {
  return args.note === undefined ? {} : { note: args.note }
}

/** The one id the command was given, checked, before anything connects. */
export function subscriptionIdOf(args: { id?: unknown; _: unknown[] }, command: string): string {
  if (args._.length > 1) throw new UsageError(`${command} takes one subscription id, got ${args._.length}: ${command} <id>.`)
  return checkedSubscriptionId(args.id)
}

/** A subscription id given on the command line, lower-cased; a usage error (exit 2) when it is none. */
export function checkedSubscriptionId(value: unknown): string {
  const id = String(value ?? '').trim()
  try {
    assertUuid('id', id)
  } catch {
    throw new UsageError(`<id> must be a subscription id, a UUID such as 3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9; got ${shown(id)}.`)
  }
  return id.toLowerCase()
}

/** `--flag <ISO instant>`; undefined when the flag is absent. */
export function instantFlag(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const date = parseIsoInstant(value)
  if (!date) throw new UsageError(`--${flag}: expected a date and time with its zone, such as ${ISO_INSTANT_EXAMPLE}${gotInstant(value)}`)
  return date
}

/** The library's option names, and the flags that carry them. */
const FLAGS: Record<string, string> = {
  until: '--until', count: '--count', from: '--from', to: '--to',
  runAt: '--run-at', timezone: '--timezone', anchor: '--anchor', startsAt: '--starts-at', endsAt: '--ends-at',
  before: '--before', slot: '--slot', note: '--note',
  // listSubscriptions()'s (`list`).
  status: '--status', after: '--after', userId: '--user', limit: '--limit',
  // listRuns()'s (`runs`).
  subscriptionId: '--subscription',
}

/**
 * Runs `work`; a ConfigurationError about an option a flag carries becomes a UsageError naming
 * the flag: `--until: … is not in the future` rather than "Invalid option `until`".
 */
export async function inFlagTerms<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    // The library speaks of options and of `null`; the command line, of flags and of `none`.
    throw inUserTerms(error, FLAGS, (reason) => reason.replace(/`(\w+)`/g, (whole, name: string) => FLAGS[name] ?? whole).replace(/\bnull\b/g, 'none'))
  }
}

/** A scheduler on `pool` with the settings its workers published (or the environment's), and its zone. */
export async function controlScheduler(pool: pg.Pool, logger: Logger): Promise<{ scheduler: SubscriptionScheduler } & CliSchedulerOptions> {
  const settings = await cliSchedulerOptions(pool, {}, logger)
  return { scheduler: createSubscriptionScheduler(pool, settings.options), ...settings }
}

/** The zone a subscription's slots fall in, and a note saying whose zone it is: its own, or the scheduler's. */
export function zoneOf(details: Pick<SubscriptionDetails, 'timezone'>, scheduler: SchedulerZone): SchedulerZone {
  return details.timezone ? { zone: details.timezone, note: 'its own zone' } : scheduler
}

/** When a sweep tries a failed slot again, as `failing` and `list` say it. */
export function failedSlotRetryText(retryAt: Date, zone: string): string {
  return `tried again by the first sweep after ${timeInZone(retryAt, zone)}`
}

/** Why a subscription has no slot ahead, or undefined when it has one. */
export function whyNoSlot(details: SubscriptionDetails, scheduler: SchedulerZone): string | undefined {
  if (!details.active) return 'its host subscription is inactive'
  if (details.status === 'ended') return `it has ended${details.endsAt ? ` (its end is ${timeInZone(details.endsAt, zoneOf(details, scheduler).zone)})` : ''}`
  if (details.status === 'paused' && !details.pausedUntil) return 'it is paused until resumed'
  return undefined
}

/**
 * The next run as `upcoming` sees it: a row paused until resumed has none ahead, whatever slot it
 * stores (the failed one, or the one a resume before it would keep), so that slot is named beside it.
 */
function nextRunText(details: SubscriptionDetails, at: (date: Date | null) => string, why: string | undefined): string {
  const slot = details.nextRunAt
  if (!slot) return `none${why ? `: ${why}` : ''}`
  if (details.status !== 'paused' || details.pausedUntil) return at(slot)
  const stored = slot.getTime() <= Date.now() ? `its slot was ${at(slot)}` : `its slot is ${at(slot)} if resumed before then`
  return `none: ${why} (${stored})`
}

/** The lines that describe a subscription's schedule after a change. */
export function scheduleLines(details: SubscriptionDetails, scheduler: Pick<CliSchedulerOptions, 'zone' | 'published'>): string[] {
  const { zone, note } = zoneOf(details, scheduler.zone)
  const at = (date: Date | null) => timeInZone(date, zone)
  const why = whyNoSlot(details, scheduler.zone)
  const runAt = scheduler.published?.runAt ? `${scheduler.published.runAt} (the scheduler's, as its workers published it)` : "the scheduler's runAt"
  const lines = [
    `  status       ${details.status}${details.pausedUntil ? ` until ${at(details.pausedUntil)}` : ''}`,
    `  next run     ${nextRunText(details, at, why)}`,
    `  zone         ${zone} (${note})`,
    `  time of day  ${details.runAt ?? runAt}`,
  ]
  if (details.anchorAt) lines.push(`  anchor       ${at(details.anchorAt)}`)
  if (details.startsAt) lines.push(`  starts       ${at(details.startsAt)}`)
  if (details.endsAt) lines.push(`  ends         ${at(details.endsAt)}`)
  return lines
}
