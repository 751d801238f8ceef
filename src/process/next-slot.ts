/**
 * The slot after the one just processed, for a row's schedule. A first run, or a run made on
 * demand, happens off-slot (say at 03:00 with runAt 09:00); the slot later that same local day is
 * then spent too, so there is still exactly one run per local day.
 *
 * Thousands of rows of a sweep share a slot, a zone and a cadence: the answer is kept per
 * (cadence, zone, runAt, anchor, slot) and reused while it is still ahead of the clock.
 */
import { DateTime } from 'luxon'
import type { ResolvedOptions } from '../config/options.js'
import { computeNextRunAt, isKnownFrequency } from '../schedule/next-run.js'
import type { PageRow } from '../settle/outcome.js'

const MAX_REMEMBERED = 4096
const remembered = new Map<string, number>()

function compute(options: ResolvedOptions, row: PageRow, slot: Date, timezone: string): Date {
  const input = {
    frequency: row.frequency,
    timezone,
    runAt: options.runAt,
    anchor: row.anchor_at ?? slot,
    now: options.clock.now(),
    onUnknownFrequency: (frequency: string | null | undefined) =>
      options.logger.warn(
        `Subscription ${row.subscription_id} has unknown frequency ${JSON.stringify(frequency)}; scheduling it daily. ` +
          "Use a built-in name ('daily', 'weekly', 'biweekly', 'monthly', 'quarterly', 'yearly') or add it to the `frequencies` option.",
      ),
  }
  const next = computeNextRunAt({ ...input, after: slot })
  const day = (instant: Date) => DateTime.fromJSDate(instant, { zone: timezone }).toISODate()
  return day(next) === day(slot) ? computeNextRunAt({ ...input, after: next, onUnknownFrequency: undefined }) : next
}

export function nextSlot(options: ResolvedOptions, row: PageRow, slot: Date, timezone: string): Date {
  // An unknown cadence is computed each time, so that each such row gets its warning.
  if (!isKnownFrequency(row.frequency)) return compute(options, row, slot, timezone)
  const key = `${row.frequency}|${timezone}|${options.runAt}|${(row.anchor_at ?? slot).getTime()}|${slot.getTime()}`
  const hit = remembered.get(key)
  if (hit !== undefined && hit > options.clock.now().getTime()) return new Date(hit)
  const next = compute(options, row, slot, timezone)
  if (remembered.size >= MAX_REMEMBERED) remembered.clear()
  remembered.set(key, next.getTime())
  return next
}
