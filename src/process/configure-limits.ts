/**
 * Setting the call limits as an instance starts (`maxConcurrentCalls`, `maxCallsPerSecond`): the
 * last instance to start with each sets it for every instance that has one. What it changes for
 * the others, and the instances its limits do not hold, are said at its start: a fleet whose
 * instances disagree keeps none of the limits it was given.
 */
import type { Pool } from 'pg'
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import type { Logger } from '../observe/logger.js'
import { RUNNING_INSTANCE } from '../records/instances.js'
import type { CallLimits } from './global-limits.js'

/**
 * Writes the limits this instance was started with; the last instance to start sets them, and
 * says so when it changes a limit the others were held to (a rolling deploy, or a mistake), when
 * it calls the worker and was started without one the others have, and when instances running
 * now were started without one it sets.
 */
export async function configureLimits(pool: Pool, scope: string, limits: CallLimits, logger?: Logger, { callsWorker = true } = {}): Promise<void> {
  // What the others were held to: one read serves every warning below.
  const before = await readStoredLimits(pool, scope)
  if (callsWorker && logger) warnUnheld(before, scope, limits, logger)
  if (logger) await warnOthersUnheld(pool, scope, limits, logger)
  if (limits.maxConcurrentCalls !== null) {
    if (before.maxConcurrentCalls !== null && before.maxConcurrentCalls !== limits.maxConcurrentCalls) {
      logger?.warn(
        `maxConcurrentCalls changes from ${before.maxConcurrentCalls} to ${limits.maxConcurrentCalls} for every instance on queuePrefix '${scope}' ` +
          '(the last instance to start sets it): give every instance the same value.',
      )
    }
    await pool.query(
      `INSERT INTO ${TABLES.callPermits} (scope, slot)
       SELECT $1, slot FROM generate_series(0, $2 - 1) AS slot
       ON CONFLICT DO NOTHING`,
      [scope, limits.maxConcurrentCalls],
    )
    await pool.query(`DELETE FROM ${TABLES.callPermits} WHERE scope = $1 AND slot >= $2`, [scope, limits.maxConcurrentCalls])
  }
  if (limits.maxCallsPerSecond !== null) {
    await pool.query(
      `INSERT INTO ${TABLES.callRates} (scope, per_second) VALUES ($1, $2)
       ON CONFLICT (scope) DO UPDATE SET per_second = EXCLUDED.per_second`,
      [scope, limits.maxCallsPerSecond],
    )
    // A row written by an older version has no rate: nothing to say it changed from.
    if (before.maxCallsPerSecond !== null && before.maxCallsPerSecond !== limits.maxCallsPerSecond) {
      logger?.warn(
        `maxCallsPerSecond changes from ${before.maxCallsPerSecond} to ${limits.maxCallsPerSecond} on queuePrefix '${scope}': every instance spaces ` +
          'its calls by the value it was started with, so until they all have the same one the fleet keeps neither rate exactly: give every instance the same value.',
      )
    }
  }
}

/**
 * Says so when instances calling the worker run without a limit this one sets: their calls
 * count against no cap, or keep no rate, until they restart with it (the rolling deploy that adds
 * a limit, or an instance deployed without it). Only instances that report their limits (this
 * version's) are counted: an older one's are unknown.
 */
async function warnOthersUnheld(db: Executor, scope: string, limits: CallLimits, logger: Logger): Promise<void> {
  if (limits.maxConcurrentCalls === null && limits.maxCallsPerSecond === null) return
  const { rows } = await db.query<{ host: string; pid: number; cap: number | null; rate: number | null }>(
    `SELECT host, pid, max_concurrent_calls AS cap, max_calls_per_second AS rate FROM ${TABLES.instances}
      WHERE scope = $1 AND works AND calls IS NOT NULL AND ${RUNNING_INSTANCE}
      ORDER BY started_at`,
    [scope],
  )
  const without = (limit: 'cap' | 'rate', name: keyof CallLimits) => {
    const unheld = limits[name] === null ? [] : rows.filter((row) => row[limit] === null)
    return unheld.length === 0 ? null : `${unheld.length} without ${name} (${unheld.map((row) => `${row.host}:${row.pid}`).join(', ')})`
  }
  const unheld = [without('cap', 'maxConcurrentCalls'), without('rate', 'maxCallsPerSecond')].filter((part) => part !== null)
  if (unheld.length === 0) return
  logger.warn(
    `Instances calling the worker on queuePrefix '${scope}' run without limits this one sets: ${unheld.join('; ')}. ` +
      'Their calls are not held to them, so the fleet may make more calls than they allow until those instances restart with the same limits.',
  )
}

/**
 * The limits stored for `scope`, as the last instances started with each set them; null where
 * none did (or, for the rate, where a version before migration 0013 did: it stored no value).
 */
export async function readStoredLimits(db: Executor, scope: string): Promise<CallLimits> {
  // The rate's row as JSON: a database an older version migrated has no per_second column.
  const { rows } = await db.query<{ cap: number; rate: { per_second?: number | null } | null }>(
    `SELECT (SELECT count(*)::int FROM ${TABLES.callPermits} WHERE scope = $1) AS cap,
            (SELECT to_jsonb(r) FROM ${TABLES.callRates} r WHERE scope = $1) AS rate`,
    [scope],
  )
  const row = rows[0]
  return { maxConcurrentCalls: row && row.cap > 0 ? row.cap : null, maxCallsPerSecond: row?.rate?.per_second ?? null }
}

/**
 * Says so when this instance starts without a limit the others are held to (as the last one
 * started with it set it): its calls count against no cap, or keep no rate, so the fleet's calls
 * may exceed what the limit promises. Started without it everywhere, the stored limit holds no one.
 */
function warnUnheld(stored: CallLimits, scope: string, limits: CallLimits, logger: Logger): void {
  const unheld = [
    limits.maxConcurrentCalls === null && stored.maxConcurrentCalls !== null ? `maxConcurrentCalls ${stored.maxConcurrentCalls}` : null,
    limits.maxCallsPerSecond === null && stored.maxCallsPerSecond !== null ? `maxCallsPerSecond ${stored.maxCallsPerSecond}` : null,
  ].filter((limit) => limit !== null)
  if (unheld.length === 0) return
  logger.warn(
    `This instance was started without ${unheld.join(' and ')}, which instances on queuePrefix '${scope}' set for the others: ` +
      'the calls it makes are not held to it, so the fleet may make more than it allows. Give every instance the same limits.',
  )
}
