/**
 * A preview of a schedule: the next slots of a cadence, for a host's "your next deliveries"
 * page or a support tool. Pure, like computeNextRunAt, and built on the same arithmetic.
 */

import { ConfigurationError } from '../errors.js'
import type { NextRunInput } from './next-run.js'
import { compileCadence, firstSlotAfter } from './cadence.js'
import { describe, localDate, parseRunAt } from './local-time.js'
import { requireDate, requireZone, resolveRule } from './schedule-input.js'

/** The most slots one call of {@link upcomingRuns} returns. */
export const MAX_UPCOMING_RUNS = 1000

export interface UpcomingRunsInput extends Omit<NextRunInput, 'now' | 'after'> {
  /** The slots listed are strictly after this instant, e.g. the slot just processed, or `new Date()`. */
  after: Date
  /** How many slots to list: a whole number from 1 to 1000. */
  count: number
  /**
   * No slot before this instant is listed (a slot exactly at it is), e.g. a subscription that
   * starts later.
   *
   * @default no lower bound besides `after`
   */
  startsAt?: Date | undefined
  /**
   * No slot after this instant is listed (a slot exactly at it is), so fewer than `count` may
   * come back, or none.
   *
   * @default no end
   */
  endsAt?: Date | undefined
}

/**
 * The next `count` slots of a schedule, in order: strictly after `after`, none before `startsAt`,
 * none after `endsAt`. Slots follow the same rules as {@link computeNextRunAt} (anchor phase,
 * month-end clamping, DST, one slot per local day).
 *
 * @example
 * ```ts
 * upcomingRuns({
 *   frequency: 'biweekly',
 *   timezone: 'America/New_York',
 *   runAt: '09:00',
 *   after: new Date('2027-03-01T14:00:00Z'), // Monday 09:00 EST, the anchor by default
 *   count: 3,
 * }) // → 2027-03-15T13:00:00.000Z, 2027-03-29T13:00:00.000Z, 2027-04-12T13:00:00.000Z (09:00 EDT)
 * ```
 *
 * @throws {ConfigurationError} for a `count` that is not a whole number from 1 to 1000, a
 * malformed `runAt` or an invalid rule.
 * @throws {SubscriptionDataError} for an unknown zone, or an `after`, `anchor`, `startsAt` or
 * `endsAt` that is not a valid Date.
 */
export function upcomingRuns(input: UpcomingRunsInput): Date[] {
  const { count } = input
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_UPCOMING_RUNS) {
    throw new ConfigurationError(
      'count',
      `${describe(count)} is not a whole number from 1 to ${MAX_UPCOMING_RUNS}; ask for fewer slots, e.g. count: 12.`,
    )
  }
  const zone = requireZone(input.timezone)
  const { hour, minute } = parseRunAt(input.runAt)
  const after = requireDate(input.after, 'after')
  const anchor = input.anchor === undefined ? after : requireDate(input.anchor, 'anchor')
  const startsAt = input.startsAt === undefined ? undefined : requireDate(input.startsAt, 'startsAt')
  const endsAt = input.endsAt === undefined ? Infinity : requireDate(input.endsAt, 'endsAt')
  const cadence = compileCadence(resolveRule(input), localDate(zone, anchor))

  const runs: Date[] = []
  // One millisecond before startsAt, so a slot exactly at startsAt is the first one after.
  let threshold = startsAt === undefined ? after : Math.max(after, startsAt - 1)
  while (runs.length < count) {
    const slot = firstSlotAfter(cadence, zone, hour, minute, threshold)
    if (slot > endsAt) break
    runs.push(new Date(slot))
    threshold = slot
  }
  return runs
}
