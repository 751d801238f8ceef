/**
 * The pure schedule functions as the package exports them. What a caller passes is an argument,
 * not a row's data: each field is checked first, and a bad one is a ConfigurationError naming it
 * (a typo such as `timeZone` with its nearest name), before the functions the engine runs on
 * rows, which report a row's bad zone or date as a SubscriptionDataError.
 */
import { dateOf, methodOptions, requiredDateOf } from '../config/method-options.js'
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import { isValidTimeZone, offsetHint } from './local-time.js'
import { computeNextRunAt as nextRunOf } from './next-run.js'
import type { NextRunInput } from './next-run.js'
import { upcomingRuns as upcomingOf } from './upcoming.js'
import type { UpcomingRunsInput } from './upcoming.js'

const SHARED = ['frequency', 'frequencies', 'onUnknownFrequency', 'timezone', 'runAt', 'after', 'anchor'] as const
const NEXT_RUN_FIELDS = [...SHARED, 'now'] as const
const UPCOMING_FIELDS = [...SHARED, 'count', 'startsAt', 'endsAt'] as const

/** The input object, refused when it is none or holds a field the function does not take. */
function fieldsOf<T extends object>(fn: string, input: T, known: readonly (keyof T & string)[]): Partial<T> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigurationError('input', `${fn}() takes one object, { ${known.join(', ')} }, got ${shown(input)}.`)
  }
  return methodOptions(fn, input, known)
}

function checkZone(timezone: unknown): void {
  if (typeof timezone !== 'string' || !isValidTimeZone(timezone)) {
    throw new ConfigurationError('timezone', `expected an IANA zone name such as 'Europe/Berlin' or 'UTC', got ${shown(timezone)}.${offsetHint(timezone)}`)
  }
}

/** `after` is a valid Date, and each of `optional` that is given. */
function checkDates(input: Record<string, unknown>, optional: readonly string[]): void {
  requiredDateOf(input.after, 'after')
  for (const name of optional) dateOf(input[name], name)
}

/**
 * The first slot strictly after both `after` (the slot just processed) and `now` (default: the
 * host's clock, not the database's): the local wall time `runAt` in `timezone` on a day of the
 * frequency's cadence, in phase with `anchor`. Missed periods are not replayed. Around DST there
 * is one slot per local day: a skipped wall time moves forward by the gap, a repeated one takes
 * the earlier instant. A month's day past its end is its last day (Jan 31, Feb 28, Mar 31).
 *
 * @example
 * computeNextRunAt({ frequency: 'monthly', timezone: 'UTC', runAt: '09:00', after: new Date('2027-02-28T09:00:00Z'), now: new Date('2027-02-28T09:00:05Z'), anchor: new Date('2027-01-31T09:00:00Z') })
 * // → 2027-03-31T09:00:00.000Z
 *
 * @throws {ConfigurationError} naming the field: an unknown one, a zone that is no IANA name, an
 * `after`, `now` or `anchor` that is no valid Date, a malformed `runAt`, or an invalid rule.
 */
export function computeNextRunAt(input: NextRunInput): Date {
  const given = fieldsOf('computeNextRunAt', input, NEXT_RUN_FIELDS) as Record<string, unknown>
  checkZone(given.timezone)
  checkDates(given, ['now', 'anchor'])
  return nextRunOf(input)
}

/**
 * The next `count` slots of a schedule, in order: strictly after `after`, none before `startsAt`,
 * none after `endsAt`, by the same rules as `computeNextRunAt()` (anchor phase, month ends, DST).
 *
 * @example
 * upcomingRuns({ frequency: 'biweekly', timezone: 'America/New_York', runAt: '09:00', after: new Date('2027-03-01T14:00:00Z'), count: 3 })
 * // → 2027-03-15T13:00:00.000Z, 2027-03-29T13:00:00.000Z, 2027-04-12T13:00:00.000Z
 *
 * @throws {ConfigurationError} naming the field: an unknown one, a zone that is no IANA name, an
 * `after`, `anchor`, `startsAt` or `endsAt` that is no valid Date, an `endsAt` before `startsAt`,
 * a `count` that is no whole number from 1 to 1000, a malformed `runAt`, or an invalid rule.
 */
export function upcomingRuns(input: UpcomingRunsInput): Date[] {
  const given = fieldsOf('upcomingRuns', input, UPCOMING_FIELDS) as Record<string, unknown>
  checkZone(given.timezone)
  checkDates(given, ['anchor', 'startsAt', 'endsAt'])
  const { startsAt, endsAt } = input
  if (startsAt && endsAt && endsAt < startsAt) {
    throw new ConfigurationError('endsAt', `${endsAt.toISOString()} is before startsAt ${startsAt.toISOString()}: no slot could be listed; pass an endsAt after it, or none.`)
  }
  return upcomingOf(input)
}
