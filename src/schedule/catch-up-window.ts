/**
 * `catchUpWindowDays`: with `catchUp: 'all'`, how far back a subscription's missed slots are
 * replayed. A slot older than the window is skipped; the subscription goes on from the first slot
 * of its cadence at or after the window's start, in the phase it had (Temporal's
 * `catchupWindow`). Two places ask: the sweep, for rows left behind by an outage, a pause or an
 * inactive spell (sweep/catch-up-window.ts), and the settle, for a row whose next slot fell out
 * of the window while its call waited (a retry after a long backoff).
 */
import { DAY_MS } from './local-time.js'
import { slotAfter } from './row-schedule.js'
import type { RowSchedule, ScheduleOptions } from './row-schedule.js'

/** The oldest instant still replayed at `now`; null when every missed slot is (no window, or `catchUp: 'latest'`). */
export function catchUpWindowStart(options: Pick<ScheduleOptions, 'catchUp' | 'catchUpWindowDays'>, now: Date): Date | null {
  const days = options.catchUpWindowDays
  if (options.catchUp !== 'all' || days === null || days === undefined) return null
  return new Date(now.getTime() - Math.round(days * DAY_MS))
}

/**
 * `slot` when the window holds it; else the row's first slot at or after the window's start,
 * phased from `slot` when the row has no anchor (a weekly row stays on its weekday), or null when
 * the row's end comes first. A slot after the start, or any slot with no window, is returned as is.
 */
export function withinCatchUpWindow(options: ScheduleOptions, row: RowSchedule, slot: Date, now: Date): Date | null {
  const start = catchUpWindowStart(options, now)
  if (start === null || slot >= start) return slot
  return slotAfter(options, { ...row, anchor_at: row.anchor_at ?? slot }, new Date(start.getTime() - 1), true)
}
