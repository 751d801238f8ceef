/**
 * Before a sweep claims: the subscriptions never run whose cadence names its days
 * (schedule/named-days.ts), swept on a day that is not one of them, are given their first slot
 * instead of being called at once, off their rule. Without such a cadence in the `frequencies`
 * option there is nothing to do, and no query at all. Rows are walked a page at a time in the
 * due index's order (the never-run rows come first in it), each page in its own transaction,
 * locked with SKIP LOCKED: two instances sweeping at once place each row once (the write is
 * guarded by the row still having no slot), and a row a claim holds is none of this step's business.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import { withTransaction } from '../db/executor.js'
import { LOWEST_UUID } from '../db/names.js'
import { START_END_COLUMNS } from '../records/instants.js'
import { cadencesNamingDays, firstSlotOnNamedDay } from '../schedule/named-days.js'
import type { RowSchedule } from '../schedule/row-schedule.js'
import { DUE_KEY } from './claim-sql.js'

const PAGE = 500

interface NewRow extends RowSchedule {
  id: string
}

const SELECT_NEW = `
  SELECT sp.id, sp.subscription_id, sp.timezone, sp.run_at, sp.anchor_at, ${START_END_COLUMNS}, s.frequency::text AS frequency
    FROM subscription_processing sp
    JOIN subscriptions s ON s.id = sp.subscription_id
   WHERE sp.status IN ('pending', 'failed', 'completed')
     AND ${DUE_KEY} = '-infinity'::timestamptz AND sp.id > $2::uuid
     AND sp.status = 'pending' AND sp.last_completed_for IS NULL AND sp.last_run_at IS NULL
     AND s.active IS TRUE AND s.frequency::text = ANY($1::text[])
   ORDER BY ${DUE_KEY}, sp.id
   LIMIT ${PAGE}
     FOR UPDATE OF sp SKIP LOCKED`

const PLACE = `
  UPDATE subscription_processing sp
     SET next_run_at = m.next_run_at,
         anchor_at = COALESCE(sp.anchor_at, m.anchor_at),
         status = CASE WHEN m.next_run_at IS NULL THEN 'ended' ELSE sp.status END,
         updated_at = $4
    FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS m(id, next_run_at, anchor_at)
   WHERE sp.id = m.id AND sp.status = 'pending' AND (sp.next_run_at IS NULL OR sp.next_run_at = '-infinity')`

/** Gives the never-run rows of cadences that name their days their first slot, when `now` is not one of those days; returns how many. */
export async function placeNamedDayFirstSlots(pool: Pool, options: ResolvedOptions, now: Date): Promise<number> {
  const names = cadencesNamingDays(options.frequencies)
  if (names.length === 0) return 0
  let cursor = LOWEST_UUID
  let placed = 0
  for (;;) {
    const page = await withTransaction(pool, async (tx) => {
      const { rows } = await tx.query<NewRow>(SELECT_NEW, [names, cursor])
      const places = rows.flatMap((row) => {
        const first = firstSlotOnNamedDay(options, row, now)
        return first ? [{ id: row.id, next: first.next, anchor: first.anchorAt }] : []
      })
      if (places.length === 0) return { rows, n: 0 }
      const result = await tx.query(PLACE, [places.map((p) => p.id), places.map((p) => p.next), places.map((p) => p.anchor), now])
      return { rows, n: result.rowCount ?? 0 }
    })
    placed += page.n
    const last = page.rows.at(-1)
    if (!last || page.rows.length < PAGE) break
    cursor = last.id
  }
  if (placed > 0) {
    options.logger.info(
      `Gave ${placed} new subscription${placed === 1 ? '' : 's'} ${placed === 1 ? 'its' : 'their'} first slot instead of calling ${placed === 1 ? 'it' : 'them'} now: ` +
        'a cadence that names its days (weekdays, monthDay, or the nth weekday) runs only on them, and today is not one.',
    )
  }
  return placed
}
