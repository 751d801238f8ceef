/**
 * Slot arithmetic: which local days a rule runs on, given its anchor, and the first slot after an
 * instant. Each step is computed directly from the anchor's phase (no walking day by day), so a
 * yearly cadence or one every 365 days costs the same as a daily one.
 */

import type { IANAZone } from 'luxon'
import { WEEKDAYS, type FrequencyRule } from './frequency-rules.js'
import {
  civilDate,
  DAY_MS,
  dayNumberOf,
  daysInMonth,
  isoWeekday,
  localDate,
  mod,
  resolveWallTime,
  type LocalDate,
} from './local-time.js'

/** A rule bound to its anchor's phase: the set of local days the subscription runs on. */
export interface Cadence {
  /**
   * Everything about the rule and the anchor that decides which days are slot days, and nothing
   * else: two anchors with the same key give the same days (the memo relies on that).
   */
  readonly key: string
  /** The first slot day on or after local day `dayNumber`. */
  firstDayOnOrAfter(dayNumber: number): number
}

/**
 * Binds `rule` to `anchor` (a local date in the subscription's zone).
 *
 * - days: every `every` local days counted from the anchor's date;
 * - weeks: every `every` ISO weeks counted from the anchor's week, on `weekdays` or the anchor's;
 * - months: every `every` months counted from the anchor's month, on `monthDay` or the anchor's
 *   day, clamped to the month's length (so Jan 31 → Feb 28 → Mar 31), or on the `nth` `weekday`;
 * - years: every `12 × every` months from the anchor's month on the anchor's day, so Feb 29 runs
 *   on Feb 28 in common years and on Feb 29 again in leap years.
 */
export function compileCadence(rule: FrequencyRule, anchor: LocalDate): Cadence {
  switch (rule.unit) {
    case 'day':
      return everyNDays(rule.every, anchor)
    case 'week':
      return everyNWeeks(rule.every, anchor, rule.weekdays)
    case 'month':
      if (rule.weekday !== undefined && rule.nth !== undefined) return everyNMonths(rule.every, anchor, nthWeekday(WEEKDAYS.indexOf(rule.weekday), rule.nth), `${rule.weekday}${rule.nth}`)
      return everyNMonths(rule.every, anchor, monthDayIn(rule.monthDay ?? anchor.day), String(rule.monthDay ?? anchor.day))
    case 'year':
      return everyNMonths(rule.every * 12, anchor, monthDayIn(anchor.day), String(anchor.day))
  }
}

/**
 * The first slot strictly after `threshold`: the wall time `hour:minute` in `zone` on a slot day
 * (DST rules as in {@link resolveWallTime}). Ends within two steps: the slot on the first day
 * after the threshold's local date is always later than the threshold.
 *
 * @throws {Error} only if the arithmetic above is broken; a bounded loop fails loudly where an
 * endless one would hang every worker that computes this slot.
 */
export function firstSlotAfter(
  cadence: Cadence,
  zone: IANAZone,
  hour: number,
  minute: number,
  threshold: number,
): number {
  let day = cadence.firstDayOnOrAfter(localDate(zone, threshold).dayNumber)
  for (let step = 0; step < MAX_STEPS; step++) {
    const slot = resolveWallTime(zone, day, hour, minute)
    if (slot > threshold) return slot
    day = cadence.firstDayOnOrAfter(day + 1)
  }
  // Past the last instant a Date holds, every slot reads as NaN: the input's fault, not the arithmetic's.
  if (threshold > LAST_DATE_MS - 2 * 366 * DAY_MS) {
    throw new RangeError(
      `No slot of ${cadence.key} after ${new Date(threshold).toISOString()}: the next one would be past ${new Date(LAST_DATE_MS).toISOString()}, ` +
        'the last instant a JavaScript Date holds. Use an earlier instant (for no end, null).',
    )
  }
  throw new Error(
    `pg-subscription-scheduler bug: no slot of ${cadence.key} after ${new Date(threshold).toISOString()} within ${MAX_STEPS} steps; please report it.`,
  )
}

/** The last instant a JavaScript Date holds (+275760-09-13T00:00:00Z). */
const LAST_DATE_MS = 8.64e15

const MAX_STEPS = 8

function everyNDays(every: number, anchor: LocalDate): Cadence {
  const phase = mod(anchor.dayNumber, every)
  return {
    key: `day/${every}/${phase}`,
    firstDayOnOrAfter: (day) => day + mod(phase - day, every),
  }
}

/** ISO week number of a day number, counted from the week of 1970-01-01 (weeks start Monday). */
function weekOf(dayNumber: number): number {
  return Math.floor((dayNumber + 3) / 7)
}

function everyNWeeks(every: number, anchor: LocalDate, weekdays: FrequencyRule['weekdays']): Cadence {
  const phase = mod(weekOf(anchor.dayNumber), every)
  // ISO weekday indexes (0 = Monday), ascending, so the first one in a week comes first.
  const days = weekdays
    ? weekdays.map((d) => WEEKDAYS.indexOf(d)).sort((a, b) => a - b)
    : [isoWeekday(anchor.dayNumber)]
  const first = days[0] ?? 0
  return {
    key: `week/${every}/${phase}/${days.join('')}`,
    firstDayOnOrAfter(day) {
      const week = weekOf(day)
      if (mod(week - phase, every) === 0) {
        const today = isoWeekday(day)
        const later = days.find((d) => d >= today)
        if (later !== undefined) return day - today + later
      }
      // The next active week strictly after this one.
      const next = week + (mod(phase - week, every) || every)
      return next * 7 - 3 + first
    },
  }
}

/** The day a month rule runs on in a given month (1-based `month`). */
type DayInMonth = (year: number, month: number) => number

/** `monthDay` -1 is the month's last day; any other day is clamped to the month's length. */
function monthDayIn(monthDay: number): DayInMonth {
  return (year, month) => {
    const last = daysInMonth(year, month)
    return monthDay === -1 ? last : Math.min(monthDay, last)
  }
}

/** The `nth` (1–4, or -1 for the last) `weekday` (ISO index, 0 = Monday) of the month: every month has one. */
function nthWeekday(weekday: number, nth: number): DayInMonth {
  return (year, month) => {
    if (nth === -1) {
      const last = daysInMonth(year, month)
      return last - mod(isoWeekday(dayNumberOf(year, month, last)) - weekday, 7)
    }
    return 1 + mod(weekday - isoWeekday(dayNumberOf(year, month, 1)), 7) + 7 * (nth - 1)
  }
}

function everyNMonths(every: number, anchor: LocalDate, dayOf: DayInMonth, dayKey: string): Cadence {
  const phase = mod(anchor.year * 12 + anchor.month - 1, every)
  // Each month's day is derived from the rule afresh, never from the previous slot, so a clamp
  // to Feb 28 does not stick.
  const dayIn = (monthIndex: number): number => dayOf(Math.floor(monthIndex / 12), mod(monthIndex, 12) + 1)
  const dayNumberIn = (monthIndex: number): number =>
    dayNumberOf(Math.floor(monthIndex / 12), mod(monthIndex, 12) + 1, dayIn(monthIndex))
  return {
    key: `month/${every}/${phase}/${dayKey}`,
    firstDayOnOrAfter(day) {
      const date = civilDate(day)
      const month = date.year * 12 + date.month - 1
      if (mod(month - phase, every) === 0 && dayIn(month) >= date.day) return dayNumberIn(month)
      return dayNumberIn(month + (mod(phase - month, every) || every))
    },
  }
}
