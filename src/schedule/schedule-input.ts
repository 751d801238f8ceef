/**
 * Checks of the inputs shared by computeNextRunAt and upcomingRuns: the zone, the dates and the
 * frequency (a name looked up in the table, or a rule), with the daily fallback for unknown names.
 */

import { IANAZone } from 'luxon'
import { SubscriptionDataError } from '../errors.js'
import {
  BUILT_IN_FREQUENCIES,
  pathSegment,
  validateFrequencyRule,
  type FrequencyRule,
} from './frequency-rules.js'
import { describe, isValidTimeZone } from './local-time.js'

/** How a schedule names its cadence: a name from the table, or a rule given inline. */
export interface FrequencyInput {
  frequency: string | FrequencyRule | null | undefined
  frequencies?: Readonly<Record<string, FrequencyRule>> | undefined
  onUnknownFrequency?(frequency: string | null | undefined): void
}

/** @throws {SubscriptionDataError} naming the zone, with an example of a valid one. */
export function requireZone(timezone: string): IANAZone {
  if (!isValidTimeZone(timezone)) {
    throw new SubscriptionDataError(
      `Unknown time zone ${describe(timezone)}: use an IANA zone name such as 'Europe/Berlin' or 'UTC'.`,
    )
  }
  return IANAZone.create(timezone)
}

/** @throws {SubscriptionDataError} naming the field when `value` is not a valid Date. */
export function requireDate(value: unknown, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN
  if (Number.isNaN(ms)) {
    throw new SubscriptionDataError(`\`${name}\` must be a valid Date, got ${describe(value)}.`)
  }
  return ms
}

/**
 * The rule for `input.frequency`. A name is looked up in `frequencies` first, then among the
 * built-ins, so a host's own (even unresolved) table works; a name found nowhere runs daily and is
 * reported, because a subscription silently running on the wrong cadence is worse than a noisy log.
 *
 * @throws {ConfigurationError} for an invalid rule (given inline, or in an unresolved table).
 */
export function resolveRule(input: FrequencyInput): FrequencyRule {
  const { frequency, frequencies } = input
  if (typeof frequency === 'object' && frequency !== null) return validateFrequencyRule(frequency, 'frequency')
  if (typeof frequency === 'string') {
    if (frequencies && Object.hasOwn(frequencies, frequency)) {
      return validateFrequencyRule(frequencies[frequency], `frequencies${pathSegment(frequency)}`)
    }
    if (Object.hasOwn(BUILT_IN_FREQUENCIES, frequency)) {
      return BUILT_IN_FREQUENCIES[frequency as keyof typeof BUILT_IN_FREQUENCIES]
    }
  }
  if (input.onUnknownFrequency) {
    input.onUnknownFrequency(frequency)
  } else {
    const names = Object.keys({ ...BUILT_IN_FREQUENCIES, ...frequencies }).map((n) => `'${n}'`).join(', ')
    process.emitWarning(
      `Unknown subscription frequency ${describe(frequency)}; running it daily. Use one of ${names}.`,
      { code: 'PG_SUBSCRIPTION_SCHEDULER_UNKNOWN_FREQUENCY' },
    )
  }
  return BUILT_IN_FREQUENCIES.daily
}
