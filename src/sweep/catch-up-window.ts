/**
 * Before a sweep claims, with `catchUp: 'all'` and `catchUpWindowDays`: the due rows whose next
 * slot is older than the window move up to their first slot inside it (schedule/catch-up-window.ts),
 * each with a `skipped` history entry naming the slots it skipped. A failed row is not moved: its
 * slot was called, not missed, and is tried again until it succeeds (or is paused); the slot after
 * that success is kept inside the window by the settle. The claim then takes them for
 * that slot, and the settle chains through the rest of the window, oldest first, as it does for
 * any row behind. Rows are walked a page at a time in the due index's order, each page in its own
 * transaction, locked with SKIP LOCKED: two instances sweeping at once move each row once (the
 * write is guarded by the slot read), and a row a claim holds is none of this step's business.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import { withTransaction } from '../db/executor.js'
import { LOWEST_UUID } from '../db/names.js'
import { HISTORY_INSERT } from '../records/history.js'
import { START_END_COLUMNS } from '../records/instants.js'
import { catchUpWindowStart, withinCatchUpWindow } from '../schedule/catch-up-window.js'
import type { RowSchedule } from '../schedule/row-schedule.js'
import { DUE_KEY } from './claim-sql.js'

const PAGE = 500

interface BehindRow extends RowSchedule {
  id: string
  next_run_at: Date
}

/** What one row's move writes: its new next slot (null when its end came first) and the history line. */
interface Move {
  id: string
  from: Date
  to: Date | null
  detail: string
}

const SELECT_BEHIND = `
  SELECT sp.id, sp.subscription_id, sp.next_run_at, sp.timezone, sp.run_at, sp.anchor_at, ${START_END_COLUMNS}, s.frequency::text AS frequency
    FROM subscription_processing sp
    JOIN subscriptions s ON s.id = sp.subscription_id
   WHERE sp.status IN ('pending', 'completed')
     AND ${DUE_KEY} > '-infinity'::timestamptz AND ${DUE_KEY} < $1
     AND (${DUE_KEY}, sp.id) > ($2::timestamptz, $3::uuid)
     AND s.active IS TRUE
     AND ($4::uuid[] IS NULL OR sp.subscription_id = ANY($4::uuid[]))
   ORDER BY ${DUE_KEY}, sp.id
   LIMIT ${PAGE}
     FOR UPDATE OF sp SKIP LOCKED`

const MOVE = `
  WITH moved AS (
    UPDATE subscription_processing sp
       SET next_run_at = m.next_run_at,
           status = CASE WHEN m.next_run_at IS NULL THEN 'ended' ELSE sp.status END,
           updated_at = $5
      FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::text[]) AS m(id, from_slot, next_run_at, detail)
     WHERE sp.id = m.id AND sp.next_run_at = m.from_slot
    RETURNING sp.subscription_id, m.from_slot, m.detail
  ), logged AS (
    ${HISTORY_INSERT} SELECT subscription_id, 'skipped', from_slot, detail, $5 FROM moved
  )
  SELECT count(*)::int AS n FROM moved`

/** The move of one row, or null when its schedule cannot be read (a bad zone set by hand): its call reports that. */
function moveOf(options: ResolvedOptions, row: BehindRow, now: Date, windowText: string): Move | null {
  let to: Date | null
  try {
    to = withinCatchUpWindow(options, row, row.next_run_at, now)
  } catch {
    return null
  }
  const skipped = `the missed slots from ${row.next_run_at.toISOString()}`
  const detail = to === null ? `${skipped} on, older than the catch-up window (${windowText}); its end came before the window's first slot` : `${skipped} up to (not including) ${to.toISOString()}, older than the catch-up window (${windowText}); ${to.toISOString()} is called next`
  return { id: row.id, from: row.next_run_at, to, detail }
}

/**
 * Moves the due rows behind the window (of `subscriptionIds` only, when given) up to it; returns
 * how many moved. Nothing to do without a window, and then no query at all.
 */
export async function skipBeyondCatchUpWindow(pool: Pool, options: ResolvedOptions, now: Date, subscriptionIds: readonly string[] | null = null): Promise<number> {
  const start = catchUpWindowStart(options, now)
  if (start === null) return 0
  const windowText = `${options.catchUpWindowDays} day${options.catchUpWindowDays === 1 ? '' : 's'}`
  let cursor: [Date | string, string] = ['-infinity', LOWEST_UUID]
  let moved = 0
  for (;;) {
    const page = await withTransaction(pool, async (tx) => {
      const { rows } = await tx.query<BehindRow>(SELECT_BEHIND, [start, cursor[0], cursor[1], subscriptionIds])
      const moves = rows.map((row) => moveOf(options, row, now, windowText)).filter((move) => move !== null)
      if (moves.length === 0) return { rows, n: 0 }
      const result = await tx.query<{ n: number }>(MOVE, [moves.map((m) => m.id), moves.map((m) => m.from), moves.map((m) => m.to), moves.map((m) => m.detail), now])
      return { rows, n: result.rows[0]?.n ?? 0 }
    })
    moved += page.n
    const last = page.rows.at(-1)
    if (!last || page.rows.length < PAGE) break
    cursor = [last.next_run_at, last.id]
  }
  if (moved > 0) {
    options.logger.info(
      `Skipped the missed slots older than the catch-up window (${windowText}) of ${moved} subscription${moved === 1 ? '' : 's'}: ` +
        'each goes on from its first slot inside the window, oldest first, and its history lists what was skipped.',
    )
  }
  return moved
}
