/**
 * The call limits as an operator needs to see them: the limits every instance shares, how much of
 * them is in use, and how many calls the instances hold back. A fleet held to its limits shows
 * every permit held, or start times booked ahead, while calls wait: the worker sees fewer calls
 * than the instances could make, on purpose.
 */
import type { Executor } from '../db/executor.js'
import { isOlderTablesError } from '../db/missing-tables.js'
import { TABLES } from '../db/names.js'
import { readStoredLimits } from '../process/configure-limits.js'
import type { CallLimits } from '../process/global-limits.js'
import { CALLS_COUNTED, RUNNING_INSTANCE } from './instances.js'

export interface CallLimitsStatus {
  /**
   * `maxConcurrentCalls`, as the last instance started with one set it for every instance that
   * has one, while one calling the worker is held to it (limitsInForce()); null otherwise.
   */
  maxConcurrentCalls: number | null
  /**
   * Its permits held now, across instances: calls in flight under the cap, and, under
   * `maxCallsPerSecond` too, calls holding one while they wait their turn (up to about 2 s). A
   * dead instance's are held until their lease lapses, within 15 s.
   */
  permitsHeld: number
  /** `maxCallsPerSecond`, as the last instance started with one set it, while one is held to it; null otherwise. */
  maxCallsPerSecond: number | null
  /** How far ahead of now call start times are booked under the rate, in ms: above 0, the rate is holding calls back. */
  bookedAheadMs: number
  /**
   * Across the running instances, at their last reports (every 15 s, within 5 s of a change):
   * calls in flight, and calls ready but held back (waiting for an instance's `concurrency` slot,
   * a permit, or their turn under the rate). Spread calls whose start is still ahead are not
   * counted, nor instances of versions that do not report them, nor an instance whose last report
   * is older than 30 s (killed: its calls are gone, though it counts as running for a minute).
   */
  callsInFlight: number
  callsWaiting: number
}

/**
 * The call limits of the scheduler on `scope` (its queue prefix), as they stand; null while the
 * database's tables are older than this version's (an older version migrated it).
 */
export async function readCallLimits(db: Executor, scope: string): Promise<CallLimitsStatus | null> {
  try {
    const [inUse, inForce] = await Promise.all([read(db, scope), limitsInForce(db, scope)])
    const { permitsHeld, bookedAheadMs, callsInFlight, callsWaiting } = inUse
    return { maxConcurrentCalls: inForce.maxConcurrentCalls, permitsHeld, maxCallsPerSecond: inForce.maxCallsPerSecond, bookedAheadMs, callsInFlight, callsWaiting }
  } catch (error) {
    if (isOlderTablesError(error)) return null
    throw error
  }
}

/** What is in use of the limits, and the calls the running instances report; the limits themselves come from limitsInForce(). */
async function read(db: Executor, scope: string): Promise<Omit<CallLimitsStatus, keyof CallLimits>> {
  const { rows } = await db.query<{
    held: number
    ahead_ms: number | null
    in_flight: number
    waiting: number
  }>(
    `SELECT (SELECT count(*)::int FROM ${TABLES.callPermits} WHERE scope = $1 AND expires_at > clock_timestamp()) AS held,
            -- next_at may be -infinity: compared first, never subtracted.
            CASE WHEN r.next_at > clock_timestamp() THEN extract(epoch FROM r.next_at - clock_timestamp()) * 1000 ELSE 0 END::float8 AS ahead_ms,
            coalesce(i.in_flight, 0)::int AS in_flight, coalesce(i.waiting, 0)::int AS waiting
       FROM (SELECT 1) AS one
       LEFT JOIN ${TABLES.callRates} r ON r.scope = $1
       LEFT JOIN (
         SELECT sum((calls ->> 'inFlight')::int) AS in_flight, sum((calls ->> 'waiting')::int) AS waiting
           FROM ${TABLES.instances}
          WHERE scope = $1 AND ${CALLS_COUNTED}
       ) AS i ON true`,
    [scope],
  )
  const row = rows[0]!
  return {
    permitsHeld: row.held,
    bookedAheadMs: Math.round(row.ahead_ms ?? 0),
    callsInFlight: row.in_flight,
    callsWaiting: row.waiting,
  }
}

/**
 * The limits a process with no options for them (the CLI's `run-now`, `backfill`, `worker`)
 * holds its calls to: each stored limit while an instance calling the worker is held to it. That
 * is, with instances running, while one of them is (or one of a version that does not say, which
 * may be); with none running, while the last one started was. A limit stays stored when a deploy
 * drops it (deleting its permits could strand an instance still using them): this is how a
 * fleet that dropped it stops holding the CLI to it.
 */
export async function limitsInForce(db: Executor, scope: string): Promise<CallLimits> {
  const stored = await readStoredLimits(db, scope)
  if (stored.maxConcurrentCalls === null && stored.maxCallsPerSecond === null) return stored
  let rows: Array<{ cap: number | null; rate: number | null; says: boolean; running: boolean }>
  try {
    ;({ rows } = await db.query(
      `SELECT max_concurrent_calls AS cap, max_calls_per_second AS rate, calls IS NOT NULL AS says,
              ${RUNNING_INSTANCE} AS running
         FROM ${TABLES.instances} WHERE scope = $1 AND works ORDER BY started_at DESC LIMIT 1000`,
      [scope],
    ))
  } catch (error) {
    if (isOlderTablesError(error)) return stored
    throw error
  }
  const running = rows.filter((r) => r.running)
  // No instance of a version that says its limits: the stored ones are all there is to go by.
  const deciding = running.length > 0 ? running : rows.slice(0, 1)
  const heldTo = (limit: 'cap' | 'rate') => deciding.length === 0 || deciding.some((r) => !r.says || r[limit] !== null)
  return {
    maxConcurrentCalls: heldTo('cap') ? stored.maxConcurrentCalls : null,
    maxCallsPerSecond: heldTo('rate') ? stored.maxCallsPerSecond : null,
  }
}
