/**
 * Enrolling around subscriptions another transaction holds locked. A row's foreign key takes a
 * FOR KEY SHARE lock on its subscription, which waits for a host's `SELECT … FOR UPDATE` or an
 * uncommitted DELETE; once a sweep's pass has waited its bound, it enrols the other missing
 * subscriptions here and leaves the locked ones to the next pass.
 *
 * `FOR KEY SHARE SKIP LOCKED` would find them at once, but a locking clause needs the UPDATE
 * privilege on `subscriptions`, which the application's user need not have (README, Database
 * privileges): chunks are inserted under a short lock timeout instead, and a chunk that waits
 * past it is split in halves until the locked rows stand alone. A chunk whose subscription was
 * deleted meanwhile (the foreign key fails) is split the same way.
 */
import type { Pool } from 'pg'
import { boundedWait } from '../db/executor.js'
import { LOWEST_UUID } from '../db/names.js'

/** Rows inserted per statement. */
const CHUNK = 256
/** How long one chunk may wait on a lock before it is split. */
const CHUNK_LOCK_WAIT_MS = 200
/** The whole pass's budget: what is not enrolled by then waits for the next pass. */
const BUDGET_MS = 10_000
/** Missing ids read per keyset page. */
const READ_PAGE = 5_000

const READ_MISSING = `
  SELECT s.id::text AS id FROM subscriptions s
   WHERE s.id > $1::uuid
     AND NOT EXISTS (SELECT 1 FROM subscription_processing sp WHERE sp.subscription_id = s.id)
   ORDER BY s.id LIMIT $2`

const INSERT_IDS = `
  INSERT INTO subscription_processing (subscription_id)
  SELECT id FROM unnest($1::uuid[]) AS id
  ON CONFLICT (subscription_id) DO NOTHING`

/** A lock waited on past the timeout (55P03), or a subscription deleted since it was read (23503). */
const splittable = (error: unknown) => {
  const code = (error as { code?: unknown }).code
  return code === '55P03' || code === '23503'
}

function chunks(ids: string[], size: number): string[][] {
  const out: string[][] = []
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size))
  return out
}

export interface AroundLocks {
  enrolled: number
  /** False when the budget ran out before every missing subscription was tried. */
  finished: boolean
}

/**
 * Enrols every missing subscription it can reach within its budget without waiting on a lock
 * for more than a moment.
 */
export async function enrolAroundLocks(pool: Pool, budgetMs = BUDGET_MS): Promise<AroundLocks> {
  const deadline = Date.now() + budgetMs
  const query = boundedWait(pool, CHUNK_LOCK_WAIT_MS)
  let enrolled = 0
  let after = LOWEST_UUID
  while (Date.now() < deadline) {
    const { rows } = await pool.query<{ id: string }>(READ_MISSING, [after, READ_PAGE])
    if (rows.length === 0) return { enrolled, finished: true }
    after = rows[rows.length - 1]!.id
    const pending = chunks(rows.map((r) => r.id), CHUNK).reverse()
    while (pending.length > 0 && Date.now() < deadline) {
      const part = pending.pop()!
      try {
        enrolled += (await query(INSERT_IDS, [part])).rowCount ?? 0
      } catch (error) {
        if (!splittable(error)) throw error
        // A lone row that waited is the locked (or deleted) one: it is left for the next pass.
        if (part.length > 1) pending.push(part.slice(part.length >> 1), part.slice(0, part.length >> 1))
      }
    }
    if (pending.length > 0) return { enrolled, finished: false }
    if (rows.length < READ_PAGE) return { enrolled, finished: true }
  }
  return { enrolled, finished: false }
}
