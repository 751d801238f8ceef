/**
 * Local calendar arithmetic in an IANA zone: wall times, local dates and day numbers (days since
 * 1970-01-01 on the local calendar). Every cadence is built on these, so DST is handled here once.
 */

import { IANAZone } from 'luxon'
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import { zoneOffset } from './zone-offset.js'

export const MINUTE_MS = 60_000
export const DAY_MS = 86_400_000

/**
 * luxon builds an Intl.DateTimeFormat (off the JS heap) for every validity check: at one check
 * per job that churns memory (bench/RESULTS.md), so answers are kept.
 */
const knownZones = new Map<string, boolean>()
const MAX_KNOWN_ZONES = 1024

/** True when `tz` names a time zone luxon (and so the runtime's Intl data) knows. */
export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz === '') return false
  let valid = knownZones.get(tz)
  if (valid === undefined) {
    valid = IANAZone.isValidZone(tz)
    // Bounded: zone names come from rows, and a table of junk must not grow this forever.
    if (knownZones.size >= MAX_KNOWN_ZONES) knownZones.clear()
    knownZones.set(tz, valid)
  }
  return valid
}

/**
 * A valid `tz` in the zone's own case (`asia/tokyo` is `Asia/Tokyo`, `utc` is `UTC`), as Intl
 * resolves it, so that one zone written two ways is one name. Only the case changes: where Intl
 * resolves a name to another (ICU's legacy `Asia/Calcutta` for `Asia/Kolkata`), it stays as given.
 */
export function zoneName(tz: string): string {
  let name = zoneNames.get(tz)
  if (name === undefined) {
    // Remembered: a formatter costs about 45 µs, paid by every entry of an enrollMany().
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone
    name = resolved.toLowerCase() === tz.toLowerCase() ? resolved : tz
    if (zoneNames.size >= MAX_KNOWN_ZONES) zoneNames.clear()
    zoneNames.set(tz, name)
  }
  return name
}

const zoneNames = new Map<string, string>()

/**
 * For an unknown zone written as an offset the runtime does not read (`+5`, `UTC+5`, `+5:30`):
 * how to write one it does. Empty for anything else.
 */
export function offsetHint(tz: unknown): string {
  if (typeof tz !== 'string' || !/^(?:UTC|GMT)?\s*[+-]\s*\d/i.test(tz.trim())) return ''
  return " A fixed offset is written ±HH:MM, such as '+05:00' (it never moves for daylight saving time: prefer the region's name, such as 'Asia/Karachi')."
}

/**
 * Zone names that read as a region's time and keep one offset all year: `EST` is UTC−5 in July
 * too, an hour off New York's clocks all summer. Valid, so taken; said, with the zone meant.
 */
const FIXED_OFFSET_ZONES: Readonly<Record<string, string>> = {
  EST: "UTC−5 all year, with no daylight saving time: for New York's clocks use 'America/New_York' (or 'America/Panama' to say UTC−5 all year by a place's name)",
  MST: "UTC−7 all year, with no daylight saving time: for Denver's clocks use 'America/Denver' (Arizona's, which keep UTC−7 all year, are 'America/Phoenix')",
}

/** What a warning says of a zone that keeps one offset all year under a name that reads as a region's; null for any other. */
export function fixedOffsetNote(tz: string): string | null {
  const note = FIXED_OFFSET_ZONES[tz.toUpperCase()] ?? etcOffsetNote(tz)
  return note === undefined ? null : `Time zone ${JSON.stringify(tz)} is ${note}.`
}

/**
 * `Etc/GMT+3` is three hours behind UTC, not ahead: the POSIX sign, the inverse of what the name
 * reads as. A time trial's `Etc/GMT+3`, meant as UTC+3, ran six hours off, with no word.
 */
function etcOffsetNote(tz: string): string | undefined {
  const match = /^Etc\/GMT([+-])(\d{1,2})$/i.exec(tz)
  if (!match || match[2] === '0') return undefined
  const [, sign, hours] = match as unknown as [string, '+' | '-', string]
  const actual = `UTC${sign === '+' ? '−' : '+'}${hours}`
  const flipped = `Etc/GMT${sign === '+' ? '-' : '+'}${hours}`
  return `${actual} all year: the sign of an Etc/GMT zone is inverted (POSIX's), so it is ${Number(hours)} hour${hours === '1' ? '' : 's'} ` +
    `${sign === '+' ? 'behind' : 'ahead of'} UTC. For ${sign === '+' ? 'UTC+' : 'UTC−'}${hours} use '${flipped}', or a place's zone to follow its clocks`
}

/** True for a 24-hour wall time `'HH:MM'` or `'H:MM'` that {@link parseRunAt} accepts. */
export function isRunAt(value: unknown): value is string {
  const match = typeof value === 'string' ? /^(\d{1,2}):(\d{2})$/.exec(value) : null
  return match !== null && Number(match[1]) <= 23 && Number(match[2]) <= 59
}

/**
 * Parses a 24-hour wall time `'HH:MM'` or `'H:MM'`.
 *
 * @throws {ConfigurationError} for `runAt` when the value is not such a time (e.g. `'9am'`,
 * `'24:00'`, `'09:60'`, `'09:00:00'`).
 */
export function parseRunAt(runAt: string): { hour: number; minute: number } {
  if (!isRunAt(runAt)) {
    throw new ConfigurationError(
      'runAt',
      `${describe(runAt)} is not a valid time; expected 24-hour 'HH:MM' (or 'H:MM'), e.g. '09:00' or '17:30'.` +
        // The end of a day is no time of one: a daily run at midnight starts the day.
        (/^24:00$/.test(String(runAt)) ? " There is no '24:00': midnight is '00:00', at the start of the day (or '23:59' for its end)." : ''),
    )
  }
  const [hour, minute] = runAt.split(':').map(Number) as [number, number]
  return { hour, minute }
}

/**
 * The instant of local wall time `hour:minute` on local calendar day `dayNumber`. Done by hand
 * rather than with `DateTime.fromObject`, because luxon resolves a repeated fall-back time to the
 * later (standard-time) instant and we want the earlier one.
 */
export function resolveWallTime(zone: IANAZone, dayNumber: number, hour: number, minute: number): number {
  // The wall time read as if it were UTC; the true instant is this minus the zone's offset.
  const wall = dayNumber * DAY_MS + (hour * 60 + minute) * MINUTE_MS
  // Offsets are at most ±14h, so a day either side brackets any transition near this wall time.
  const offsetBefore = zoneOffset(zone, wall - DAY_MS)
  const offsetAfter = zoneOffset(zone, wall + DAY_MS)
  // A candidate is real if the zone actually has that offset at the instant it implies.
  const candidates = [offsetBefore, offsetAfter]
    .map((offset) => ({ offset, instant: wall - offset * MINUTE_MS }))
    .filter(({ offset, instant }) => zoneOffset(zone, instant) === offset)
    .map(({ instant }) => instant)
  // Two real candidates: fall-back overlap, take the earlier. None: spring-forward gap; reading
  // the wall time with the pre-gap offset lands exactly one gap-length later in local time.
  return candidates.length > 0 ? Math.min(...candidates) : wall - offsetBefore * MINUTE_MS
}

export interface LocalDate { year: number; month: number; day: number; dayNumber: number }

/** The local calendar date of `instant` in `zone`. */
export function localDate(zone: IANAZone, instant: number): LocalDate {
  return civilDate(Math.floor((instant + zoneOffset(zone, instant) * MINUTE_MS) / DAY_MS))
}

/** The local time of day of `instant` in `zone`, as 'HH:MM' (its seconds dropped). */
export function localTimeOfDay(zone: IANAZone, instant: number): string {
  const minutes = Math.floor(mod(instant + zoneOffset(zone, instant) * MINUTE_MS, DAY_MS) / MINUTE_MS)
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

/** Year, month (1–12) and day of a day number. UTC getters keep this free of the server's zone. */
export function civilDate(dayNumber: number): LocalDate {
  const date = new Date(dayNumber * DAY_MS)
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), dayNumber }
}

/**
 * Milliseconds of a UTC calendar date; `month` (1–12) and `day` may run over and carry. Not
 * `Date.UTC` alone, which reads the years 0–99 as 1900–1999.
 */
function utcDate(year: number, month: number, day: number): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  return date.getTime()
}

/** The day number of a calendar date; `month` may run past 12 or below 1 (it carries into the year). */
export function dayNumberOf(year: number, month: number, day: number): number {
  return utcDate(year, month, day) / DAY_MS
}

/** ISO weekday of a day number: 0 = Monday … 6 = Sunday (day 0, 1970-01-01, was a Thursday). */
export function isoWeekday(dayNumber: number): number {
  return mod(dayNumber + 3, 7)
}

export function daysInMonth(year: number, month: number): number {
  // Day 0 of the following month is the last day of this one.
  return new Date(utcDate(year, month + 1, 0)).getUTCDate()
}

/** Remainder that is never negative, so phases before 1970 (or before an anchor) line up too. */
export function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor
}

/** A value as it should appear in an error message (see `shown`); an invalid Date as JavaScript prints it. */
export function describe(value: unknown): string {
  if (value instanceof Date && Number.isNaN(value.getTime())) return 'Invalid Date'
  return shown(value)
}
