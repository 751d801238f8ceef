/**
 * Cadence rules: what `daily`, `weekly`, … mean, the host's own names, and the validation that
 * turns a host's table into rules the slot arithmetic can trust.
 */

import { ConfigurationError } from '../errors.js'
import { describe } from './local-time.js'

/** A day of the week, as used in {@link FrequencyRule.weekdays}. */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'

/** The calendar unit a {@link FrequencyRule} counts in. */
export type FrequencyUnit = 'day' | 'week' | 'month' | 'year'

/**
 * A cadence: a run every `every` `unit`s at the subscription's `runAt`, in phase with its anchor
 * (the first slot). Weeks are ISO weeks (Monday first) counted from the anchor's week; months and
 * years are counted from the anchor's month and year; days from the anchor's local date.
 *
 * @example
 * ```ts
 * const workingDays: FrequencyRule = { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] }
 * const fortnightly: FrequencyRule = { every: 2, unit: 'week' } // on the anchor's weekday
 * const monthEnd: FrequencyRule = { every: 1, unit: 'month', monthDay: -1 }
 * const lastFriday: FrequencyRule = { every: 1, unit: 'month', weekday: 'fri', nth: -1 }
 * ```
 */
export interface FrequencyRule {
  /** How many units from one active period to the next: a whole number from 1 to 1000. */
  every: number
  unit: FrequencyUnit
  /**
   * Only with `unit: 'week'`: run on each of these days of every active week. Without it the
   * anchor's weekday is used.
   */
  weekdays?: readonly Weekday[] | undefined
  /**
   * Only with `unit: 'month'`: the day of month, 1–31 (clamped to the month's last day in
   * shorter months) or -1 for the last day. Without it the anchor's day of month is used.
   */
  monthDay?: number | undefined
  /**
   * Only with `unit: 'month'`, with `nth`, instead of `monthDay`: run on the `nth` such weekday
   * of each active month (`weekday: 'mon', nth: 1` is the first Monday).
   */
  weekday?: Weekday | undefined
  /** With `weekday`: 1–4 for the first to the fourth, or -1 for the last (every month has each). */
  nth?: number | undefined
}

/** The names every scheduler understands; a host's `frequencies` may add to or override them. */
export type BuiltInFrequency = 'daily' | 'weekly' | 'biweekly' | 'monthly' | 'quarterly' | 'yearly'

export const WEEKDAYS: readonly Weekday[] = Object.freeze(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])
const UNITS: readonly FrequencyUnit[] = ['day', 'week', 'month', 'year']
const DAY_NAMES: Readonly<Record<Weekday, string>> = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' }
const RULE_KEYS = ['every', 'unit', 'weekdays', 'monthDay', 'weekday', 'nth']
/** Large enough for any real cadence, small enough that every slot stays a valid Date. */
export const MAX_EVERY = 1000

/** Rules this module produced: frozen and already valid, so they skip validation on reuse. */
const trusted = new WeakSet<object>()

function freezeRule(rule: FrequencyRule): FrequencyRule {
  if (rule.weekdays) Object.freeze(rule.weekdays)
  trusted.add(Object.freeze(rule))
  return rule
}

/**
 * The built-in cadence names and their rules (frozen).
 *
 * @example
 * ```ts
 * BUILT_IN_FREQUENCIES.biweekly // → { every: 2, unit: 'week' }
 * ```
 */
export const BUILT_IN_FREQUENCIES: Readonly<Record<BuiltInFrequency, FrequencyRule>> = Object.freeze({
  daily: freezeRule({ every: 1, unit: 'day' }),
  weekly: freezeRule({ every: 1, unit: 'week' }),
  biweekly: freezeRule({ every: 2, unit: 'week' }),
  monthly: freezeRule({ every: 1, unit: 'month' }),
  quarterly: freezeRule({ every: 3, unit: 'month' }),
  yearly: freezeRule({ every: 1, unit: 'year' }),
})

/** True for a built-in name (exact, case-sensitive). */
export function isBuiltInFrequency(name: unknown): name is BuiltInFrequency {
  return typeof name === 'string' && Object.hasOwn(BUILT_IN_FREQUENCIES, name)
}

/**
 * The built-in names merged with the host's `frequencies` option (the host's win), every rule
 * validated, the result frozen. `undefined` and `null` give the built-ins.
 *
 * @example
 * ```ts
 * const table = resolveFrequencies({ fortnightly: { every: 2, unit: 'week' } })
 * table.fortnightly // → { every: 2, unit: 'week' }
 * table.daily // → { every: 1, unit: 'day' }
 * ```
 *
 * @throws {ConfigurationError} naming the path of the first invalid entry (e.g.
 * `frequencies.fortnightly.every`), the value found and how to fix it.
 */
export function resolveFrequencies(value: unknown): Readonly<Record<string, FrequencyRule>> {
  if (value === undefined || value === null) return BUILT_IN_FREQUENCIES
  if (!isPlainObject(value)) {
    throw new ConfigurationError(
      'frequencies',
      `expected an object of name → rule, e.g. { fortnightly: { every: 2, unit: 'week' } }, got ${describe(value)}.`,
    )
  }
  const entries: [string, FrequencyRule][] = Object.entries(BUILT_IN_FREQUENCIES)
  for (const [name, rule] of Object.entries(value)) {
    if (name.trim() === '' || name.trim() !== name) {
      throw new ConfigurationError(
        'frequencies',
        `the name ${describe(name)} is ${name.trim() === '' ? 'empty' : 'padded with whitespace'}; use the exact value of the \`frequency\` column, e.g. 'fortnightly'.`,
      )
    }
    entries.push([name, validateFrequencyRule(rule, `frequencies${pathSegment(name)}`)])
  }
  // fromEntries defines own properties, so even a name like '__proto__' stays a plain entry.
  return Object.freeze(Object.fromEntries(entries))
}

/**
 * Checks one rule and returns it frozen and normalised (only the known fields). A rule this
 * module already returned is returned as is.
 *
 * @param path The option path for error messages, e.g. `'frequencies.fortnightly'`.
 * @throws {ConfigurationError} for the first invalid field, named `${path}.${field}`.
 */
export function validateFrequencyRule(value: unknown, path: string): FrequencyRule {
  if (typeof value === 'object' && value !== null && trusted.has(value)) return value as FrequencyRule
  if (!isPlainObject(value)) {
    throw new ConfigurationError(path, `expected a rule such as { every: 2, unit: 'week' }, got ${describe(value)}.`)
  }
  for (const key of Object.keys(value)) {
    if (!RULE_KEYS.includes(key)) {
      throw new ConfigurationError(
        `${path}${pathSegment(key)}`,
        `${describe(key)} is not a rule field; use only every, unit, weekdays, monthDay, weekday and nth.`,
      )
    }
  }
  const { every, unit, weekdays, monthDay, weekday, nth } = value
  if (typeof every !== 'number' || !Number.isInteger(every) || every < 1 || every > MAX_EVERY) {
    throw new ConfigurationError(
      `${path}.every`,
      `${describe(every)} is not a whole number from 1 to ${MAX_EVERY}; set how many units apart the runs are, e.g. every: 2.`,
    )
  }
  if (typeof unit !== 'string' || !(UNITS as readonly string[]).includes(unit)) {
    throw new ConfigurationError(`${path}.unit`, `${describe(unit)} is not a unit; use 'day', 'week', 'month' or 'year'.`)
  }
  const rule: FrequencyRule = { every, unit: unit as FrequencyUnit }
  if (weekdays !== undefined) rule.weekdays = checkWeekdays(weekdays, rule.unit, `${path}.weekdays`)
  if (monthDay !== undefined) rule.monthDay = checkMonthDay(monthDay, rule.unit, `${path}.monthDay`)
  if (weekday !== undefined || nth !== undefined) {
    if (monthDay !== undefined) {
      throw new ConfigurationError(`${path}.monthDay`, 'give either monthDay (a day of month) or weekday and nth (the first Monday, …), not both.')
    }
    Object.assign(rule, checkNthWeekday(weekday, nth, rule.unit, path))
  }
  return freezeRule(rule)
}

function checkNthWeekday(weekday: unknown, nth: unknown, unit: FrequencyUnit, path: string): { weekday: Weekday; nth: number } {
  const example = "{ every: 1, unit: 'month', weekday: 'mon', nth: 1 } (the first Monday)"
  if (unit !== 'month') {
    throw new ConfigurationError(`${path}.${weekday === undefined ? 'nth' : 'weekday'}`, `weekday and nth only apply to unit 'month', not '${unit}'; use ${example}, or weekdays with unit 'week'.`)
  }
  const days = WEEKDAYS.map((d) => `'${d}'`).join(', ')
  if (weekday === undefined) {
    throw new ConfigurationError(`${path}.weekday`, `is missing: nth says which one of the month, weekday which day (one of ${days}), e.g. ${example}.`)
  }
  if (!(WEEKDAYS as readonly unknown[]).includes(weekday)) {
    throw new ConfigurationError(`${path}.weekday`, `${describe(weekday)} is not a weekday; with nth, use one of ${days}, e.g. ${example}.`)
  }
  const day = DAY_NAMES[weekday as Weekday]
  if (nth === undefined) {
    throw new ConfigurationError(`${path}.nth`, `is missing: say which ${day} of the month, 1 to 4 for the first to the fourth, or -1 for the last, e.g. ${example}.`)
  }
  if (typeof nth !== 'number' || !Number.isInteger(nth) || !(nth === -1 || (nth >= 1 && nth <= 4))) {
    throw new ConfigurationError(`${path}.nth`, `${describe(nth)} is not 1, 2, 3, 4 or -1; say which ${day} of the month: 1 for the first, -1 for the last (not every month has a fifth).`)
  }
  return { weekday: weekday as Weekday, nth }
}

function checkWeekdays(value: unknown, unit: FrequencyUnit, path: string): Weekday[] {
  if (unit !== 'week') {
    throw new ConfigurationError(
      path,
      `weekdays only apply to unit 'week', not '${unit}'; use { every: 1, unit: 'week', weekdays: ['mon', 'fri'] } or drop weekdays.`,
    )
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigurationError(path, `expected a non-empty list of days such as ['mon', 'wed', 'fri'], got ${describe(value)}.`)
  }
  const seen = new Set<Weekday>()
  for (const day of value as unknown[]) {
    if (!(WEEKDAYS as readonly unknown[]).includes(day)) {
      throw new ConfigurationError(path, `${describe(day)} is not a weekday; use ${WEEKDAYS.map((d) => `'${d}'`).join(', ')}.`)
    }
    if (seen.has(day as Weekday)) {
      throw new ConfigurationError(path, `${describe(day)} is listed twice; list each weekday once.`)
    }
    seen.add(day as Weekday)
  }
  return [...seen]
}

function checkMonthDay(value: unknown, unit: FrequencyUnit, path: string): number {
  if (unit !== 'month') {
    const hint = unit === 'year' ? ' (a yearly cadence keeps the anchor\'s month and day)' : ''
    throw new ConfigurationError(
      path,
      `monthDay only applies to unit 'month', not '${unit}'${hint}; use { every: 1, unit: 'month', monthDay: 15 } or drop monthDay.`,
    )
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value === 0 || value < -1 || value > 31) {
    throw new ConfigurationError(
      path,
      `${describe(value)} is not a day of month; use 1–31 (clamped to shorter months) or -1 for the last day.`,
    )
  }
  return value
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** `.name` when it reads as an identifier, `["odd name"]` otherwise, for option paths. */
export function pathSegment(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`
}
