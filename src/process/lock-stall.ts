/**
 * Outcomes whose recording waits on a lock: a transaction of the host's holding
 * `subscription_processing` (an ACCESS EXCLUSIVE lock, an ALTER, a long DELETE left open) stalls
 * every instance's settles, and calls with them, without an error. A trial's 30 s lock went by
 * without a line at any level, and an on-call engineer could not tell the stall from idleness.
 * A settle still pending after {@link STALL_MS} says so once, naming the sessions that block the
 * scheduler's statements (at most one line a minute per instance).
 */
import type { Pool } from 'pg'
import type { Logger } from '../observe/logger.js'
import { describeSession } from '../db/lock-waits.js'
import type { Session } from '../db/lock-waits.js'
import { seconds } from '../error-text.js'

/** How long a settle may take before it is said to wait. */
export const STALL_MS = 10_000
const SAID_EVERY_MS = 60_000

interface Blocker extends Session {
  waiting: number
}

/**
 * The sessions that block statements on the scheduler's tables in this database, with how many of
 * those statements each blocks; null when none does.
 */
async function blockers(pool: Pool): Promise<string | null> {
  const { rows } = await pool.query<Blocker>(
    `SELECT b.pid, b.state, round(extract(epoch FROM now() - b.xact_start))::int AS open_seconds, left(b.query, 120) AS query, count(*)::int AS waiting
       FROM pg_stat_activity w
       CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocking(pid)
       JOIN pg_stat_activity b ON b.pid = blocking.pid
      WHERE w.datname = current_database() AND w.wait_event_type = 'Lock' AND w.query LIKE '%subscription_processing%'
      GROUP BY b.pid, b.state, b.xact_start, b.query
      ORDER BY count(*) DESC, b.xact_start
      LIMIT 3`,
  )
  if (rows.length === 0) return null
  return rows.map((b) => describeSession(b, `; ${b.waiting} of the scheduler's statements wait on it`)).join('; ')
}

export interface StallWatch {
  /** Watches one settle: said once if it is still pending after {@link STALL_MS}. */
  watch<T>(settle: Promise<T>, outcomes: number): Promise<T>
}

export interface StallWatchOptions {
  /** How long a settle may take before it is said (tests shorten it). @default {@link STALL_MS} */
  afterMs?: number
  /** Aborted once a stop has given up: nothing is asked of the pool after it. */
  signal?: AbortSignal
}

export function createStallWatch(pool: Pool, logger: Logger, { afterMs = STALL_MS, signal }: StallWatchOptions = {}): StallWatch {
  let saidAt = Number.NEGATIVE_INFINITY
  const say = async (outcomes: number) => {
    if (signal?.aborted || Date.now() - saidAt < SAID_EVERY_MS) return
    saidAt = Date.now()
    const held = await blockers(pool).catch(() => null)
    // Not a lock (a slow disk, a server short of CPU): nothing to name.
    if (!held) return
    logger.warn(
      `Recording ${outcomes} outcome${outcomes === 1 ? '' : 's'} has waited ${seconds(afterMs)} on a lock: ${held}. ` +
        'Calls and outcomes wait behind it on every instance; end that transaction (pg_terminate_backend(pid)) or let it finish.',
    )
  }
  return {
    async watch(settle, outcomes) {
      const timer = setTimeout(() => void say(outcomes), afterMs)
      timer.unref()
      try {
        return await settle
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
