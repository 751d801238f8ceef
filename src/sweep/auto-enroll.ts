/**
 * Auto-enrolment: every host subscription gets its `subscription_processing` row before a sweep
 * claims, so a new adopter's existing subscriptions, and subscriptions added since the last
 * sweep, are due in that same sweep. Inactive ones are enrolled too: never picked while
 * inactive, due as soon as they are active again.
 *
 * Rows reference `subscriptions(id)` and are unique per subscription, so the two tables' row
 * counts are equal exactly when nobody is missing: one count per table answers the common case
 * without an anti-join over every subscription.
 */
import type { Pool } from 'pg'
import { boundedWait } from '../db/executor.js'
import type { Query } from '../db/executor.js'
import { LOWEST_UUID } from '../db/names.js'
import { isStatementTimeout, MIN_PAGE_SIZE, SHRINK } from '../db/transient.js'
import type { Logger } from '../observe/logger.js'
import { enrolAroundLocks } from './enrol-around-locks.js'

export interface EnrolmentResult {
  /** Rows created by this pass. */
  enrolled: number
  /** False when the gate judged the host table unchanged and skipped the pass. */
  checked: boolean
}

/** Missing rows at or below this are found by one anti-join; more are walked in keyset pages. */
const PAGE_SIZE = 5_000
/** A host row deleted between our read and our insert fails the foreign key: read again. */
const FK_RETRIES = 3
/**
 * How long a sweep's pass waits on a host transaction holding a lock enrolling needs: a row's
 * foreign key takes FOR KEY SHARE on its subscription, which waits for a `SELECT … FOR UPDATE`
 * or an uncommitted DELETE. Past it, the sweep enrols around the locked ones and goes on.
 */
export const ENROL_LOCK_WAIT_MS = 5_000

async function countMissing(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ missing: string }>(
    `SELECT (SELECT count(*) FROM subscriptions) - (SELECT count(*) FROM subscription_processing) AS missing`,
  )
  return Number(rows[0]?.missing ?? 0)
}

const INSERT_ALL_MISSING = `
  INSERT INTO subscription_processing (subscription_id)
  SELECT s.id FROM subscriptions s
   WHERE NOT EXISTS (SELECT 1 FROM subscription_processing sp WHERE sp.subscription_id = s.id)
  ON CONFLICT (subscription_id) DO NOTHING`

const INSERT_PAGE = `
  WITH page AS (
    SELECT s.id FROM subscriptions s WHERE s.id > $1::uuid ORDER BY s.id LIMIT $2
  ), inserted AS (
    INSERT INTO subscription_processing (subscription_id)
    SELECT p.id FROM page p
     WHERE NOT EXISTS (SELECT 1 FROM subscription_processing sp WHERE sp.subscription_id = p.id)
    ON CONFLICT (subscription_id) DO NOTHING
    RETURNING 1
  )
  SELECT (SELECT max(id::text) FROM page) AS last, (SELECT count(*) FROM page)::int AS seen,
         (SELECT count(*) FROM inserted)::int AS enrolled`

async function retryingForeignKey<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      if ((error as { code?: unknown }).code !== '23503' || attempt >= FK_RETRIES) throw error
    }
  }
}

// A page that hits the role's or database's `statement_timeout` (57014) is tried again a quarter
// its size, down to MIN_PAGE_SIZE: a trial with `statement_timeout=300ms` saw 20,000 new
// subscriptions never enrolled, every sweep's insert cancelled.

/** Enrols the missing rows, adding what it enrols to `tally` as each statement commits. */
async function enrolPasses(query: Query, missing: number, tally: { enrolled: number }): Promise<void> {
  if (missing <= PAGE_SIZE) {
    try {
      tally.enrolled += await retryingForeignKey(async () => (await query(INSERT_ALL_MISSING)).rowCount ?? 0)
      return
    } catch (error) {
      if (!isStatementTimeout(error)) throw error
    }
  }
  let after = LOWEST_UUID
  let size = PAGE_SIZE
  for (;;) {
    let page
    try {
      page = await retryingForeignKey(() => query<{ last: string | null; seen: number; enrolled: number }>(INSERT_PAGE, [after, size]))
    } catch (error) {
      if (!isStatementTimeout(error) || Math.floor(size / SHRINK) < MIN_PAGE_SIZE) throw error
      size = Math.floor(size / SHRINK)
      continue
    }
    const row = page.rows[0]!
    tally.enrolled += row.enrolled
    if (row.seen < size || row.last === null) return
    after = row.last
  }
}

export interface EnrolmentPass {
  enrolled: number
  /** Subscriptions still without a row after the pass: another transaction held them locked. */
  lockedOut: number
  /** False when the pass around the locks ran out of time: some of `lockedOut` were not tried. */
  finished: boolean
}

/**
 * Enrols every host subscription that has no row. Without `lockWaitMs` (`enrollMissing()`), a
 * subscription another transaction holds locked is waited for; with it, the pass waits that long,
 * then enrols around the locked ones (enrol-around-locks.ts) and says how many it left.
 */
export async function enrolMissingRows(pool: Pool, lockWaitMs?: number): Promise<EnrolmentPass> {
  const missing = await countMissing(pool)
  if (missing <= 0) return { enrolled: 0, lockedOut: 0, finished: true }
  const tally = { enrolled: 0 }
  if (lockWaitMs === undefined) {
    // Waits as long as a lock is held, whatever lock_timeout the role or database sets.
    await enrolPasses(boundedWait(pool, 0), missing, tally)
    return { enrolled: tally.enrolled, lockedOut: 0, finished: true }
  }
  try {
    await enrolPasses(boundedWait(pool, lockWaitMs), missing, tally)
    return { enrolled: tally.enrolled, lockedOut: 0, finished: true }
  } catch (error) {
    if ((error as { code?: unknown }).code !== '55P03') throw error
  }
  const around = await enrolAroundLocks(pool)
  tally.enrolled += around.enrolled
  return { enrolled: tally.enrolled, lockedOut: Math.max(0, await countMissing(pool)), finished: around.finished }
}

/** Enrols every host subscription that has no row. Returns how many rows it created. */
export async function enrollMissing(pool: Pool): Promise<number> {
  return (await enrolMissingRows(pool)).enrolled
}

export interface EnrolmentGate {
  /**
   * Enrols what is missing. With `exact: false`, a pass is skipped while the host table has
   * seen no insert since the last pass and that pass is recent: an idle sweep then costs one
   * read of a statistics counter instead of two counts over every subscription.
   */
  run(pool: Pool, options: { exact: boolean }): Promise<EnrolmentResult>
}

/**
 * Statistics counters lag commits by up to about a second, and on older servers can drop an
 * update, so the gate trusts an unchanged counter only for this long after an exact pass.
 */
const TRUST_MS = 5 * 60_000

export function createEnrolmentGate(logger: Logger): EnrolmentGate {
  let last: { inserts: string; at: number } | null = null
  return {
    async run(pool, { exact }) {
      const { rows } = await pool.query<{ inserts: string | null; tracked: boolean }>(
        // A partitioned table counts its inserts on its partitions, so the sum over its tree
        // (empty for a plain table, which counts its own).
        `SELECT (SELECT sum(pg_stat_get_tuples_inserted(t.relid))::text
                   FROM (SELECT to_regclass('subscriptions') AS relid
                          UNION SELECT relid FROM pg_partition_tree(to_regclass('subscriptions'))) t) AS inserts,
                current_setting('track_counts') = 'on' AS tracked`,
      )
      const inserts = rows[0]?.tracked ? (rows[0].inserts ?? null) : null
      // Real time, not the scheduler's clock: what ages is the statistics counter.
      const now = Date.now()
      if (!exact && inserts !== null && last && last.inserts === inserts && now - last.at < TRUST_MS) {
        return { enrolled: 0, checked: false }
      }
      const { enrolled, lockedOut, finished } = await enrolMissingRows(pool, ENROL_LOCK_WAIT_MS)
      // The counter read before the pass: an insert racing with it is looked at next time. Rows
      // left locked are missing still, whatever the counter says: the next pass looks again.
      last = inserts === null || lockedOut > 0 ? null : { inserts, at: now }
      if (enrolled > 0) logger.info(`Enrolled ${enrolled} subscription${enrolled === 1 ? '' : 's'} that had no subscription_processing row.`)
      if (lockedOut > 0) {
        const one = lockedOut === 1
        logger.warn(
          `${lockedOut} subscription${one ? ' is' : 's are'} not enrolled: another transaction has held ${one ? 'its row' : 'their rows'} in subscriptions locked ` +
            `(a SELECT … FOR UPDATE, or a DELETE not yet committed) for over ${ENROL_LOCK_WAIT_MS / 1000} s. This sweep goes on without ${one ? 'it' : 'them'}; ` +
            'the next one enrols what is free by then (runNow() or enrollMissing() does it sooner). Keep transactions that lock subscriptions short.' +
            (finished ? '' : ' (The pass around the locked rows stopped at its time limit: some of these were not tried, and may not be locked.)'),
        )
      }
      return { enrolled, checked: true }
    },
  }
}
