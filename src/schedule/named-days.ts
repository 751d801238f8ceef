/**
 * Cadences that name their days: `weekdays`, `monthDay`, or the nth `weekday` of the month. A
 * new subscription's first run is made at its first sweep, off its slot, and fixes the phase of
 * a plain cadence (weekly from the day it ran); a cadence that names its days has its phase
 * already, and a first call off them (a Monday-to-Friday rule on a Saturday, a rule of the 1st on
 * the 15th) is one its rule forbids. Such a subscription waits for its first slot instead.
 */
import { DateTime } from 'luxon'
import type { FrequencyRule } from './frequency-rules.js'
import type { RowSchedule, ScheduleOptions } from './row-schedule.js'
import { slotAfter } from './row-schedule.js'
import { isCadence } from './unknown-frequency.js'

/** Whether the rule says on which days its slots fall, rather than taking them from its anchor. */
export function namesItsDays(rule: FrequencyRule): boolean {
  return rule.weekdays !== undefined || rule.monthDay !== undefined || rule.nth !== undefined
}

/** The names in `frequencies` whose rules name their days; none among the built-in ones. */
export function cadencesNamingDays(frequencies: Readonly<Record<string, FrequencyRule>>): string[] {
  return Object.entries(frequencies)
    .filter(([, rule]) => namesItsDays(rule))
    .map(([name]) => name)
}

/**
 * For a subscription never run, swept at `now`: where its first run goes, when its cadence names
 * its days and the local day of `now` (in its zone) is not one of them: `next`, its first slot,
 * or null when its end comes before it (it ends, never called). Null when it may run at once, as
 * any new subscription: a plain cadence, one of its days, or a schedule that cannot be read
 * (its call reports that). `anchorAt`: the phase it counts in, kept on the row as a first run's
 * would be: its anchor, else its start, else `now` (every two weeks from the week it was swept).
 */
export function firstSlotOnNamedDay(options: ScheduleOptions, row: RowSchedule, now: Date): { next: Date | null; anchorAt: Date } | null {
  const rule = isCadence(row.frequency, options.frequencies) ? options.frequencies[row.frequency] : undefined
  if (!rule || !namesItsDays(rule)) return null
  const anchorAt = row.anchor_at ?? row.starts_at ?? now
  const phased: RowSchedule = { ...row, anchor_at: anchorAt, ends_at: null }
  try {
    const zone = row.timezone ?? options.timezone
    const today = DateTime.fromJSDate(now, { zone }).startOf('day')
    // The first slot from the start of today, whether its time of day has passed or not.
    const first = slotAfter(options, phased, new Date(today.toMillis() - 1), true)
    if (first === null || DateTime.fromJSDate(first, { zone }).startOf('day').equals(today)) return null
    return { next: row.ends_at && first > row.ends_at ? null : first, anchorAt }
  } catch {
    return null
  }
}
