/**
 * A row's own window, `starts_at` to `ends_at`, holds every slot it is called for. Enrolment,
 * `reschedule()` and each next slot keep inside it, but the columns are the host's to write by
 * hand: an end set to cancel a subscription, a start moved later, a new row inserted with a
 * start ahead and no next slot (its first claim takes the sweep's time). A row its job finds
 * outside its window is not called: it moves on to its first slot inside it, or ends when none
 * is left, and counts skipped in its run.
 */
import type { ResolvedOptions } from '../config/options.js'
import type { PageRow } from '../settle/outcome.js'
import type { Leftover } from '../settle/settle-chunk.js'
import { nextSlotInWindow } from './outcome.js'

/** How many rows a job's log line names; the rest are counted. */
const NAMED = 3

const instant = (value: unknown): value is Date => value instanceof Date && Number.isFinite(value.getTime())

/**
 * Whether the row's slot lies before its start or after its end (an end exactly at the slot
 * keeps it). Cheap enough for every row a job reads; a value that is no instant (`infinity`) is
 * the schedule's check to refuse, not this one's.
 */
export function outsideWindow(row: PageRow): boolean {
  const slot = row.scheduled_for.getTime()
  return (instant(row.starts_at) && slot < row.starts_at.getTime()) || (instant(row.ends_at) && slot > row.ends_at.getTime())
}

/**
 * The rows to let go of without a call, each with the slot it moves to (null: it ends), as the
 * job's leftovers; says so in one line per job, since only a hand-made change leads here.
 */
export function movesOutOfWindow(options: ResolvedOptions, jobId: string, rows: PageRow[]): Leftover[] {
  if (rows.length === 0) return []
  const moves = rows.map((row) => ({ row, nextRunAt: nextSlotInWindow(options, row) }))
  const named = moves.slice(0, NAMED).map(({ row, nextRunAt }) => {
    const window = [row.starts_at ? `starts_at ${iso(row.starts_at)}` : null, row.ends_at ? `ends_at ${iso(row.ends_at)}` : null].filter(Boolean).join(', ')
    return `${row.subscription_id} (slot ${iso(row.scheduled_for)}; ${window}; ${nextRunAt ? `next slot ${iso(nextRunAt)}` : 'ended'})`
  })
  const more = moves.length > NAMED ? ` and ${moves.length - NAMED} more` : ''
  options.logger.info(
    `Job ${jobId}: not calling ${moves.length} subscription${moves.length === 1 ? '' : 's'} whose slot lies outside ` +
      `its own starts_at/ends_at (changed by hand since it was scheduled?): ${named.join('; ')}${more}. Each moves to its first slot inside them, or ends.`,
  )
  return moves.map(({ row, nextRunAt }) => ({ id: row.id, jobId, runId: row.run_id, outside: { nextRunAt } }))
}

function iso(date: Date): string {
  return Number.isFinite(date.getTime()) ? date.toISOString() : String(date)
}
