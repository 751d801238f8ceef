/**
 * What `backfill()` covers: a checked range, and the subscription's slots inside it, by its own
 * cadence, zone, time of day and anchor.
 */
import { requiredDateOf } from '../config/method-options.js'
import { nearestKey } from '../config/suggest.js'
import type { ResolvedOptions } from '../config/options.js'
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import { IANAZone } from 'luxon'
import { localDate } from '../schedule/local-time.js'
import { upcomingRuns } from '../schedule/upcoming.js'
import { rowRunAt, rowZone } from '../schedule/row-schedule.js'
import { isDatabaseClock } from '../observe/database-clock.js'
import type { RowSchedule } from '../schedule/row-schedule.js'

/** The most slots one backfill processes; a longer range is split by the caller. */
export const MAX_BACKFILL_SLOTS = 1000

export interface BackfillRange {
  from: Date
  to: Date
}

/** @throws {ConfigurationError} for a missing or invalid bound, or `to` before `from`. */
export function checkBackfillRange(options: unknown): BackfillRange {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', `backfill() takes { from: Date, to: Date, wait?: boolean }, got ${shown(options)}.`)
  }
  for (const key of Object.keys(options)) {
    if (!['from', 'to', 'wait'].includes(key)) throw new ConfigurationError(key, `unknown option of backfill()${nearestKey(key, ['from', 'to', 'wait'])}; it takes from, to and wait.`)
  }
  const { from, to, wait } = options as Record<string, unknown>
  if (wait !== undefined && typeof wait !== 'boolean') throw new ConfigurationError('wait', `expected true or false, got ${shown(wait)}.`)
  const range = { from: requiredDateOf(from, 'from'), to: requiredDateOf(to, 'to') }
  if (range.to < range.from) {
    throw new ConfigurationError('to', `${range.to.toISOString()} is before from (${range.from.toISOString()}); swap them.`)
  }
  return range
}

/** What a backfill knows of the row's calls made off its slots: see {@link underKeysCalled}. */
export interface CalledOffSlot {
  first_run_for?: Date | null | undefined
  last_completed_for?: Date | null | undefined
}

/**
 * The row's slots in `[from, to]`, oldest first, and within its own `starts_at` and `ends_at`,
 * each under the key its local day was called under already, if any ({@link underKeysCalled}).
 * Only the past can be backfilled: the schedule itself processes the slots still ahead.
 *
 * @throws {ConfigurationError} when `to` is in the future, or the range holds more than
 * {@link MAX_BACKFILL_SLOTS} slots.
 */
export function backfillSlots(options: ResolvedOptions, row: RowSchedule & CalledOffSlot, range: BackfillRange): Date[] {
  const now = options.clock.now()
  if (range.to > now) {
    throw new ConfigurationError('to', `${range.to.toISOString()} is in the future (now is ${now.toISOString()} by the scheduler's clock${isDatabaseClock(options.clock) ? ", the database server's" : ''}); backfill processes past slots only (the schedule runs the ones ahead; runSubscription() runs one now).`)
  }
  const anchor = row.anchor_at ?? range.from
  const slotsAfter = (after: Date, count: number) =>
    upcomingRuns({
      frequency: row.frequency,
      frequencies: options.frequencies,
      timezone: rowZone(options, row),
      runAt: rowRunAt(options, row),
      anchor,
      after,
      // Its own start and end bound it too: a slot before startsAt or after endsAt is no slot of it.
      ...(row.starts_at ? { startsAt: row.starts_at } : {}),
      endsAt: row.ends_at && row.ends_at < range.to ? row.ends_at : range.to,
      count,
      onUnknownFrequency: () => {},
    })
  // One millisecond before `from`, so a slot exactly at it is included.
  const slots = slotsAfter(new Date(range.from.getTime() - 1), MAX_BACKFILL_SLOTS)
  if (slots.length === MAX_BACKFILL_SLOTS && slotsAfter(slots.at(-1)!, 1).length > 0) {
    throw new ConfigurationError('to', `the range holds more than ${MAX_BACKFILL_SLOTS} slots of this subscription; backfill it in parts of at most ${MAX_BACKFILL_SLOTS}.`)
  }
  return underKeysCalled(options, row, slots)
}

/**
 * The slots, each day's under the key the worker saw for that day when a run off its slot spent
 * it: a new subscription's first run, at its sweep's instant (`first_run_for`), or the last run
 * (`last_completed_for`), made on demand before its slot. Under the slot's own key, the worker
 * would take that day for one not done yet: two calls for one local day, under two keys.
 */
function underKeysCalled(options: ResolvedOptions, row: RowSchedule & CalledOffSlot, slots: Date[]): Date[] {
  const zone = IANAZone.create(row.timezone ?? options.timezone)
  const calledOn = new Map<number, Date>()
  for (const at of [row.last_completed_for, row.first_run_for]) if (at) calledOn.set(localDate(zone, at.getTime()).dayNumber, at)
  if (calledOn.size === 0) return slots
  return slots.map((slot) => calledOn.get(localDate(zone, slot.getTime()).dayNumber) ?? slot)
}
