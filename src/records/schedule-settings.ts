/**
 * A subscription's own schedule settings, as `enroll()`, `reschedule()` and the admin API take
 * them: checked here, in one place, so each bad value gets the same typed error whichever door
 * it came through. `undefined` keeps the row's value; `null` clears it (back to the scheduler's).
 */
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import { nearestKey } from '../config/suggest.js'
import { unstorableDate } from '../config/dates.js'
import { isRunAt, isValidTimeZone, zoneName } from '../schedule/next-run.js'
import { DateTime } from 'luxon'
import { fixedOffsetNote, offsetHint } from '../schedule/local-time.js'
import type { RowSchedule } from '../schedule/row-schedule.js'

export interface ScheduleSettings {
  /** IANA zone of this subscription's slots; `null` means the scheduler's `timezone`. */
  timezone?: string | null | undefined
  /** This subscription's time of day, `'HH:MM'`; `null` means the scheduler's `runAt`. */
  runAt?: string | null | undefined
  /**
   * Fixes the cadence's phase: its weekday (weekly, biweekly), day of month (monthly, quarterly)
   * and date (yearly), read in the subscription's zone. `null` lets the next slot processed fix it.
   */
  anchor?: Date | null | undefined
  /** No slot before this instant (a slot exactly at it runs). */
  startsAt?: Date | null | undefined
  /** No slot after this instant (a slot exactly at it runs); after its last one the row is `ended`. */
  endsAt?: Date | null | undefined
}

const SETTING_KEYS = { timezone: true, runAt: true, anchor: true, startsAt: true, endsAt: true } as const satisfies Record<keyof ScheduleSettings, true>
export const SETTING_NAMES = Object.keys(SETTING_KEYS) as (keyof ScheduleSettings)[]

/** True when at least one setting is given (a `null` counts: it clears one). */
export function hasSettings(settings: ScheduleSettings): boolean {
  return SETTING_NAMES.some((name) => settings[name] !== undefined)
}

function checkDate(name: string, value: unknown): Date | null | undefined {
  if (value === undefined || value === null) return value
  const wrong = unstorableDate(value)
  if (wrong === null) return value as Date
  throw new ConfigurationError(name, `expected ${wrong} (or null to clear it), got ${shown(value)}.`)
}

/**
 * The settings found in `value`, checked. `extraKeys` are other keys the caller takes (enroll's `db`).
 *
 * @throws {ConfigurationError} naming the first bad setting and how to fix it.
 */
export function checkSettings(value: unknown, extraKeys: readonly string[] = []): ScheduleSettings {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigurationError('settings', `expected an object such as { runAt: '07:00', timezone: 'Europe/Berlin' }, got ${shown(value)}.`)
  }
  const given = value as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!(key in SETTING_KEYS) && !extraKeys.includes(key)) {
      throw new ConfigurationError(key, `unknown setting${nearestKey(key, [...SETTING_NAMES, ...extraKeys]) || '.'} Known settings: ${[...SETTING_NAMES, ...extraKeys].join(', ')}.`)
    }
  }
  const { timezone, runAt } = given
  if (timezone !== undefined && timezone !== null && typeof timezone !== 'string') {
    throw new ConfigurationError('timezone', `expected an IANA time zone name (a string) such as 'Europe/Berlin', or null for the scheduler's default, got ${shown(timezone)}.`)
  }
  if (typeof timezone === 'string' && !isValidTimeZone(timezone)) {
    throw new ConfigurationError('timezone', `unknown time zone ${shown(timezone)}. Use an IANA name such as 'Europe/Berlin', or null for the scheduler's default.${offsetHint(timezone)}`)
  }
  if (runAt !== undefined && runAt !== null && !isRunAt(runAt)) {
    throw new ConfigurationError('runAt', `${shown(runAt)} is not a time of day; expected 24-hour 'HH:MM' (or 'H:MM'), e.g. '07:00', or null for the scheduler's runAt.`)
  }
  const settings: ScheduleSettings = {
    timezone: typeof timezone === 'string' ? zoneName(timezone) : (timezone as null | undefined),
    // 'H:MM' is stored as 'HH:MM', as every runAt is shown.
    runAt: typeof runAt === 'string' ? runAt.padStart(5, '0') : (runAt as null | undefined),
    anchor: checkDate('anchor', given.anchor),
    startsAt: checkDate('startsAt', given.startsAt),
    endsAt: checkDate('endsAt', given.endsAt),
  }
  for (const name of SETTING_NAMES) if (settings[name] === undefined) delete settings[name]
  return settings
}

/** The row's schedule with `settings` applied. */
export function applySettings<T extends RowSchedule>(row: T, settings: ScheduleSettings): T {
  const pick = <V>(given: V | undefined, current: V): V => (given === undefined ? current : given)
  // An anchor given is the host's; one cleared is taken again from the start, enrolment or first slot.
  const given = settings.anchor === undefined ? {} : { anchor_given: settings.anchor !== null }
  return {
    ...row,
    ...given,
    timezone: pick(settings.timezone, row.timezone),
    run_at: pick(settings.runAt, row.run_at),
    anchor_at: pick(settings.anchor, row.anchor_at),
    starts_at: pick(settings.startsAt, row.starts_at),
    ends_at: pick(settings.endsAt, row.ends_at),
  }
}

/** @throws {ConfigurationError} when the row would end before it starts, or as it starts (no slot could run). */
export function checkWindow(row: RowSchedule): void {
  if (row.starts_at && row.ends_at && row.ends_at <= row.starts_at) {
    const when = row.ends_at < row.starts_at ? 'is before' : 'is the same instant as'
    throw new ConfigurationError(
      'endsAt',
      `${row.ends_at.toISOString()} ${when} startsAt ${row.starts_at.toISOString()}; a subscription must end after it starts.`,
    )
  }
}

/** The row's value of each setting. */
function rowValue(row: RowSchedule, name: keyof ScheduleSettings): string | Date | null {
  return { timezone: row.timezone, runAt: row.run_at, anchor: row.anchor_at, startsAt: row.starts_at, endsAt: row.ends_at }[name]
}

/**
 * What changed, for the history: `runAt 07:00, timezone Europe/Berlin`. A setting the row already
 * had is left out (no "startsAt cleared" for a row that had none); '' when nothing changed.
 */
export function describeSettings(settings: ScheduleSettings, before: RowSchedule): string {
  const same = (a: string | Date | null, b: string | Date | null) => (a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b)
  return SETTING_NAMES.filter((name) => settings[name] !== undefined && !same(settings[name]!, rowValue(before, name)))
    .map((name) => {
      const value = settings[name]
      return `${name} ${value instanceof Date ? value.toISOString() : value === null ? 'cleared' : value}`
    })
    .join(', ')
}

/**
 * The warning for a subscription given a zone that keeps one offset all year under a name that
 * reads as a region's (`EST`): taken, as the `timezone` option is, and said once, when set.
 */
export function fixedOffsetWarning(subscriptionId: string, settings: ScheduleSettings): string | null {
  const note = settings.timezone ? fixedOffsetNote(settings.timezone) : null
  return note === null ? null : `Subscription ${subscriptionId}: ${note}`
}

/**
 * What an `endsAt` already past does, said: the subscription ends at once. Taken as given (a
 * subscription cancelled as of an earlier date is a real case), but a wrong year would otherwise
 * stop a subscription's calls without a word.
 */
function pastEndWarning(subscriptionId: string, settings: ScheduleSettings, now: Date): string | null {
  const { endsAt } = settings
  if (!(endsAt instanceof Date) || endsAt > now) return null
  return `Subscription ${subscriptionId}: its endsAt, ${endsAt.toISOString()}, is already past, so it has ended and none of its slots will be called. ` +
    'If that is not what you meant, reschedule(id, { endsAt: <a later instant> }) or { endsAt: null } gives it slots again.'
}

/**
 * An anchor at midnight UTC whose date is another in the subscription's zone: what
 * `new Date('2027-03-31')` gives, which is 30 March in New York. Its local date sets the phase,
 * so a monthly subscription meant for the 31st would run on the 30th; the README warns of it,
 * and this says it where the mistake is made. `zone`: the subscription's, or the scheduler's.
 */
function anchorDateWarning(subscriptionId: string, settings: ScheduleSettings, zone: string): string | null {
  const { anchor } = settings
  if (!(anchor instanceof Date)) return null
  const iso = anchor.toISOString()
  if (!iso.endsWith('T00:00:00.000Z')) return null
  const local = DateTime.fromJSDate(anchor, { zone })
  const utcDate = iso.slice(0, 10)
  if (!local.isValid || local.toISODate() === utcDate) return null
  return `Subscription ${subscriptionId}: its anchor, ${iso}, is midnight UTC (what new Date('${utcDate}') gives), which is ${local.toISODate()} in ${zone}, ` +
    `and that local date sets its phase. If you meant ${utcDate}, pass an instant inside that local day, such as its slot.`
}

/** What settings just written may not do as meant: an end already past, an anchor on another local day. */
export function settingsWarnings(subscriptionId: string, settings: ScheduleSettings, zone: string, now: Date): string[] {
  return [pastEndWarning(subscriptionId, settings, now), anchorDateWarning(subscriptionId, settings, zone)].filter((w): w is string => w !== null)
}
