/**
 * When does a subscription run next? A pure function of the subscription's schedule and the
 * clock, so the scheduler can store the answer in `next_run_at` and every edge case (DST, short
 * months, downtime) can be tested without a database. The cadence arithmetic lives in
 * src/schedule/.
 */

import { compileCadence, firstSlotAfter } from './cadence.js'
import { isBuiltInFrequency, type BuiltInFrequency, type FrequencyRule } from './frequency-rules.js'
import { isRunAt, isValidTimeZone, localDate, parseRunAt, zoneName } from './local-time.js'
import { requireDate, requireZone, resolveRule } from './schedule-input.js'
import { sharedSlotMemo } from './slot-memo.js'

export { isRunAt, isValidTimeZone, parseRunAt, zoneName }

/** The built-in cadence names. Anything else not in the host's `frequencies` runs daily, with a warning. */
export type Frequency = BuiltInFrequency

export interface NextRunInput {
  /**
   * A cadence name (`'daily'`, `'weekly'`, `'biweekly'`, `'monthly'`, `'quarterly'`, `'yearly'`,
   * or one of `frequencies`) or a {@link FrequencyRule}. An unknown name, including `null`,
   * `undefined` and `''`, falls back to daily and is reported through
   * {@link NextRunInput.onUnknownFrequency}.
   */
  frequency: string | FrequencyRule | null | undefined
  /**
   * The host's cadence names (the `frequencies` option, resolved or as given); a name is looked up
   * here first, then among the built-ins.
   *
   * @default the built-ins only
   */
  frequencies?: Readonly<Record<string, FrequencyRule>> | undefined
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
  now?: Date | undefined
  /**
   * The schedule's anchor: the first slot the subscription ever ran at (the scheduler keeps it per
   * row in `anchor_at`), read as a local date in `timezone`; its time of day is ignored, `runAt`
   * decides that. It fixes the cadence's phase: every n days count from its date, every n weeks
   * from its ISO week (on its weekday unless `weekdays` are given), every n months from its month
   * (on its day unless `monthDay` is given), yearly on its month and day. Months too short for
   * the day run on their last day, and the next long month returns to it (Jan 31 → Feb 28/29 →
   * Mar 31 → Apr 30); a Feb 29 anchor runs on Feb 28 in common years. Daily ignores it.
   *
   * Defaults to `after`. That is only right while `after` lies on the anchor's weekday/day: after
   * a manual run on another weekday, or a 31st clamped to Feb 28, pass the stored anchor.
   */
  anchor?: Date | undefined
  /**
   * Called with the unrecognised value when falling back to daily, so the caller can log a
   * warning naming the subscription. Without it a Node process warning is emitted instead,
   * because a subscription silently running on the wrong cadence is worse than a noisy log.
   */
  // Method syntax on purpose: a caller's `(frequency: string) => void` stays assignable.
  onUnknownFrequency?(frequency: string | null | undefined): void
}

/** True for a built-in cadence name, e.g. `'weekly'` or `'quarterly'` (exact, case-sensitive). */
export function isKnownFrequency(f: unknown): f is Frequency {
  return isBuiltInFrequency(f)
}

/**
 * Computes the first slot strictly after both `after` (the slot just processed) and `now`.
 *
 * A slot is the local wall time `runAt` in `timezone` on a day of the frequency's cadence, in
 * phase with `anchor` (the first slot ever run; defaults to `after`): see
 * {@link NextRunInput.anchor}. Missed periods are not replayed: after downtime the result is the
 * next slot after `now`. Each answer is computed directly (a yearly cadence does not walk the
 * days between) and remembered in a small bounded memo shared by the rows of one cadence.
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
 *
 * // Working days at 08:00 in Berlin; Friday's slot has just run.
 * computeNextRunAt({
 *   frequency: { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] },
 *   timezone: 'Europe/Berlin',
 *   runAt: '08:00',
 *   after: new Date('2027-05-14T06:00:00Z'),
 *   now: new Date('2027-05-14T06:00:05Z'),
 * }) // → 2027-05-17T06:00:00.000Z (Monday 08:00 CEST)
 * ```
 *
 * @throws {SubscriptionDataError} for an unknown zone, or an `after`, `now` or `anchor` that is
 * not a valid Date (the message names the field).
 * @throws {ConfigurationError} for a malformed `runAt`, or an invalid rule (named by its path,
 * e.g. `frequency.every`).
 */
export function computeNextRunAt(input: NextRunInput): Date {
  const zone = requireZone(input.timezone)
  const { hour, minute } = parseRunAt(input.runAt)
  const after = requireDate(input.after, 'after')
  const now = input.now === undefined ? Date.now() : requireDate(input.now, 'now')
  const anchor = input.anchor === undefined ? after : requireDate(input.anchor, 'anchor')
  const cadence = compileCadence(resolveRule(input), localDate(zone, anchor))
  // Measuring from the later of the two is what drops the backlog after downtime.
  const threshold = Math.max(after, now)
  // The key holds everything the answer depends on besides the threshold; the memo's window
  // handles the threshold (see SlotMemo).
  const key = `${cadence.key}|${zone.name}|${hour}:${minute}`
  return new Date(sharedSlotMemo.firstSlotAfter(key, threshold, (t) => firstSlotAfter(cadence, zone, hour, minute, t)))
}
