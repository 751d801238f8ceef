/**
 * The slot after the one just processed, for a row's schedule. A first run, or a run made on
 * demand, happens off-slot (say at 03:00 with runAt 09:00); the slot later that same local day is
 * then spent too, so there is still exactly one run per local day.
 *
 * Thousands of rows of a sweep share a cadence, a zone and a day, and their answers are the
 * same: see `nextSlot` for what an answer depends on, and how long it holds.
 */
import type { ResolvedOptions } from '../config/options.js'
import { computeNextRunAt, isKnownFrequency } from '../schedule/next-run.js'
import { localDate } from '../schedule/local-time.js'
import { requireZone } from '../schedule/schedule-input.js'
import type { PageRow } from '../settle/outcome.js'

const MAX_REMEMBERED = 4096

interface Answer {
  /** The clock reading it was computed at, and the slot it found: it holds for any clock in between. */
  from: number
  next: number
}

const remembered = new Map<string, Answer>()

function compute(options: ResolvedOptions, row: PageRow, slot: Date, timezone: string, now: Date): Date {
  const input = {
    frequency: row.frequency,
    timezone,
    runAt: options.runAt,
    anchor: row.anchor_at ?? slot,
    now,
    onUnknownFrequency: (frequency: string | null | undefined) =>
      options.logger.warn(
        `Subscription ${row.subscription_id} has unknown frequency ${JSON.stringify(frequency)}; scheduling it daily. ` +
          "Use a built-in name ('daily', 'weekly', 'biweekly', 'monthly', 'quarterly', 'yearly') or add it to the `frequencies` option.",
      ),
  }
  const next = computeNextRunAt({ ...input, after: slot })
  const zone = requireZone(timezone)
  const sameDay = localDate(zone, next.getTime()).dayNumber === localDate(zone, slot.getTime()).dayNumber
  return sameDay ? computeNextRunAt({ ...input, after: next, onUnknownFrequency: undefined }) : next
}

/**
 * For a slot already past, the answer is the first slot after now, or the one after that when
 * the first falls on the slot's own local day: it depends on the slot's local day, not its time,
 * and on the anchor's local day (the cadence's phase). Once computed at clock reading `from`, it
 * is the answer for any clock reading from `from` until it: no other slot lies between (there is
 * at most one a day). A slot not yet past is its own key.
 */
export function nextSlot(options: ResolvedOptions, row: PageRow, slot: Date, timezone: string): Date {
  const now = options.clock.now()
  // An unknown cadence is computed each time, so that each such row gets its warning.
  if (!isKnownFrequency(row.frequency)) return compute(options, row, slot, timezone, now)
  const zone = requireZone(timezone)
  const at = now.getTime()
  const slotKey = slot.getTime() < at ? `d${localDate(zone, slot.getTime()).dayNumber}` : `t${slot.getTime()}`
  const anchorDay = localDate(zone, (row.anchor_at ?? slot).getTime()).dayNumber
  const key = `${row.frequency}|${timezone}|${options.runAt}|${anchorDay}|${slotKey}`
  const hit = remembered.get(key)
  if (hit && hit.from <= at && at < hit.next) return new Date(hit.next)
  const next = compute(options, row, slot, timezone, now)
  if (remembered.size >= MAX_REMEMBERED) remembered.clear()
  remembered.set(key, { from: at, next: next.getTime() })
  return next
}
