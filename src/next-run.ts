/**
 * When does a subscription run next? A pure function of the subscription's schedule and the
 * clock, so the scheduler can store the answer in `next_run_at` and every edge case (DST, short
 * months, downtime) can be tested without a database.
 */

import { IANAZone } from 'luxon'
import { SubscriptionDataError } from './errors.js'
import {
  daysInMonth,
  DAY_MS,
  describe,
  isoWeekday,
  isValidTimeZone,
  localDate,
  parseRunAt,
  resolveWallTime,
} from './schedule/local-time.js'

export { isValidTimeZone, parseRunAt }

/** The cadences the scheduler understands. Anything else runs daily, with a warning. */
export type Frequency = 'daily' | 'weekly' | 'monthly'

export interface NextRunInput {
  /**
   * `'daily'`, `'weekly'` or `'monthly'`. Anything else, including `null`, `undefined` and `''`,
   * falls back to daily and is reported through {@link NextRunInput.onUnknownFrequency}.
   */
  frequency: string | null | undefined
  /** IANA zone name the wall time is read in, e.g. `'Europe/Berlin'`. */
  timezone: string
  /** Local wall time `'HH:MM'` (24-hour; `'H:MM'` is accepted too), e.g. `'09:00'`. */
  runAt: string
  /**
   * The slot just processed (or, for a row that was due, the time it was due). The result is
   * strictly after it, so the same slot is never returned twice.
   */
  after: Date
  /**
   * The current instant; defaults to `new Date()`. The result is strictly after it too, so after
   * downtime the missed slots are skipped rather than replayed as a backlog.
   */
  now?: Date
  /**
   * The schedule's anchor: the first slot the subscription ever ran at (the scheduler keeps it per
   * row in `anchor_at`). Weekly schedules run on the anchor's local weekday and monthly schedules
   * on its local day of month (both read in `timezone`); its time of day is ignored, `runAt`
   * decides that. Months too short for the anchor day run on their last day, and the next long
   * month returns to it (Jan 31 → Feb 28/29 → Mar 31 → Apr 30). Daily schedules ignore it.
   *
   * Defaults to `after`. That is only right while `after` lies on the anchor's weekday/day: after
   * a manual run on another weekday, or a 31st clamped to Feb 28, pass the stored anchor.
   */
  anchor?: Date
  /**
   * Called with the unrecognised value when falling back to daily, so the caller can log a
   * warning naming the subscription. Without it a Node process warning is emitted instead,
   * because a subscription silently running on the wrong cadence is worse than a noisy log.
   */
  // Method syntax on purpose: a caller's `(frequency: string) => void` stays assignable.
  onUnknownFrequency?(frequency: string | null | undefined): void
}

const FREQUENCIES: readonly string[] = ['daily', 'weekly', 'monthly'] satisfies Frequency[]

/** True for `'daily'`, `'weekly'` and `'monthly'` (exact, case-sensitive). */
export function isKnownFrequency(f: unknown): f is Frequency {
  return typeof f === 'string' && FREQUENCIES.includes(f)
}

/**
 * Computes the first slot strictly after both `after` (the slot just processed) and `now`.
 *
 * A slot is the local wall time `runAt` in `timezone` on a day of the frequency's cadence: every
 * day; the local weekday of `anchor`; or the local day of month of `anchor`, clamped to the
 * month's length. `anchor` (the first slot ever run) defaults to `after`. Missed periods are not
 * replayed: after downtime the result is the next slot after `now`.
 *
 * Around DST there is exactly one slot per local day: a wall time skipped by spring-forward moves
 * forward by the gap (Berlin 02:30 → 03:30 CEST), and a wall time repeated by fall-back uses the
 * earlier instant (Berlin 02:30 → 02:30 CEST, not CET).
 *
 * @example
 * ```ts
 * // Monthly on the 31st, first run 2027-01-31 09:00 UTC; the Feb 28 slot has just run.
 * computeNextRunAt({
 *   frequency: 'monthly',
 *   timezone: 'UTC',
 *   runAt: '09:00',
 *   after: new Date('2027-02-28T09:00:00Z'), // the slot just processed
 *   now: new Date('2027-02-28T09:00:05Z'), // defaults to new Date()
 *   anchor: new Date('2027-01-31T09:00:00Z'), // anchor_at; defaults to `after`
 * }) // → 2027-03-31T09:00:00.000Z (with the default anchor it would be Mar 28)
 * ```
 *
 * @throws {SubscriptionDataError} for an unknown zone, or an `after`, `now` or `anchor` that is
 * not a valid Date (the message names the field).
 * @throws {ConfigurationError} for a malformed `runAt`.
 */
export function computeNextRunAt(input: NextRunInput): Date {
  const { timezone, runAt } = input
  if (!isValidTimeZone(timezone)) {
    throw new SubscriptionDataError(
      `Unknown time zone ${describe(timezone)}: use an IANA zone name such as 'Europe/Berlin' or 'UTC'.`,
    )
  }
  const zone = IANAZone.create(timezone)
  const { hour, minute } = parseRunAt(runAt)
  const after = requireDate(input.after, 'after')
  const now = input.now === undefined ? Date.now() : requireDate(input.now, 'now')
  const anchor = localDate(zone, input.anchor === undefined ? after : requireDate(input.anchor, 'anchor'))
  const frequency = resolveFrequency(input)
  // Measuring from the later of the two is what drops the backlog after downtime.
  const threshold = Math.max(after, now)

  const start = localDate(zone, threshold)
  const slotOn = (day: number): number => resolveWallTime(zone, day, hour, minute)

  if (frequency === 'monthly') {
    // Each month is derived from the anchor day afresh, never from the previous slot, so a
    // clamp to Feb 28 does not stick (and Jan 31 never overflows into March).
    for (let monthIndex = start.year * 12 + start.month - 1; ; monthIndex++) {
      const year = Math.floor(monthIndex / 12)
      const month = (monthIndex % 12) + 1
      const day = Math.min(anchor.day, daysInMonth(year, month))
      const slot = slotOn(Date.UTC(year, month - 1, day) / DAY_MS)
      if (slot > threshold) return new Date(slot)
    }
  }

  // Daily steps a day at a time; weekly starts on the first day with the anchor's weekday and
  // steps a week. Either loop ends within a couple of steps because slots only move forward.
  let day = start.dayNumber
  const step = frequency === 'weekly' ? 7 : 1
  if (frequency === 'weekly') {
    day += (isoWeekday(anchor.dayNumber) - isoWeekday(day) + 7) % 7
  }
  for (; ; day += step) {
    const slot = slotOn(day)
    if (slot > threshold) return new Date(slot)
  }
}

function resolveFrequency(input: NextRunInput): Frequency {
  const { frequency } = input
  if (isKnownFrequency(frequency)) return frequency
  if (input.onUnknownFrequency) {
    input.onUnknownFrequency(frequency)
  } else {
    process.emitWarning(
      `Unknown subscription frequency ${describe(frequency)}; running it daily. Use 'daily', 'weekly' or 'monthly'.`,
      { code: 'PG_SUBSCRIPTION_SCHEDULER_UNKNOWN_FREQUENCY' },
    )
  }
  return 'daily'
}

function requireDate(value: unknown, name: 'after' | 'now' | 'anchor'): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN
  if (Number.isNaN(ms)) {
    throw new SubscriptionDataError(`\`${name}\` must be a valid Date, got ${describe(value)}.`)
  }
  return ms
}
