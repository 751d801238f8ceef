/**
 * Limits on worker calls that hold across every instance of a scheduler, kept in Postgres:
 * `maxConcurrentCalls` (permits, one row each) and `maxCallsPerSecond` (a reservation clock).
 * A batch asks for as many calls as it has jobs and is granted a wave: how many may start now,
 * and when each may start. Each permit goes back as soon as one of the wave's calls ends (a slow
 * call holds its own, not its wave's), and lapses on its own if the instance dies holding it
 * (call-permits.ts).
 */
import { randomUUID } from 'node:crypto'
import type { Pool } from 'pg'
import { TABLES } from '../db/names.js'
import type { Logger } from '../observe/logger.js'
import { retryTransient } from '../db/transient.js'
import { sleep } from '../observe/clock.js'
import { givePermits, permitReturns, renewPermitLeases, takePermits } from './call-permits.js'

export interface CallLimits {
  maxConcurrentCalls: number | null
  maxCallsPerSecond: number | null
}

/** Calls that may start, `delaysMs[i]` from now for the i-th; `releaseOne()` as each call ends gives back its permit. */
export interface Grant {
  count: number
  delaysMs: number[]
  releaseOne: () => Promise<void>
}

export interface GlobalLimits {
  /** Waits until at least one call may start (or `signal` aborts: then grants all, undelayed). */
  acquire: (wanted: number, signal: AbortSignal) => Promise<Grant>
  /** Stops renewing the permits still held (the instance stops): they lapse within their lease. */
  close: () => void
}

const NO_PERMITS: Pick<Grant, 'releaseOne'> = { releaseOne: async () => {} }
const MIN_WAIT_MS = 25
const MAX_WAIT_MS = 1_000

/**
 * How far ahead of now start times may be reserved. Times reserved further ahead are lost when
 * their instance stops (its calls go to other instances, which reserve new times behind them):
 * a rate of 10/s with every waiting call reserved had runs idle for seconds after a stop.
 */
const RESERVE_AHEAD_S = 1

/**
 * Reserves `count` evenly spaced start times, unless the times reserved already reach further
 * than RESERVE_AHEAD_S ahead. Returns how long until the first reserved one, in ms; or, when
 * nothing was reserved, how long until the reservations end.
 */
async function reserveRate(pool: Pool, scope: string, count: number, perSecond: number): Promise<{ reserved: boolean; waitMs: number }> {
  const { rows } = await pool.query<{ reserved: boolean; wait_ms: number }>(
    `WITH now AS (SELECT clock_timestamp() AS t), reserved AS (
       UPDATE ${TABLES.callRates} r
          SET next_at = GREATEST(r.next_at, now.t) + make_interval(secs => $2::float8 / $3::float8)
         FROM now
        WHERE r.scope = $1 AND r.next_at <= now.t + make_interval(secs => $4::float8)
       -- RETURNING sees the new next_at: the first call starts where this wave's share begins.
       RETURNING GREATEST(0, extract(epoch FROM GREATEST(r.next_at, now.t) - make_interval(secs => $2::float8 / $3::float8) - now.t) * 1000)::float8 AS wait_ms
     )
     SELECT true AS reserved, wait_ms FROM reserved
     UNION ALL
     -- The statement's snapshot: a reservation that moved the clock while this one waited for it
     -- is not in it (the clock may even read -infinity, as it starts): how long to wait is a
     -- hint, and the next ask reads the clock anew.
     SELECT false, GREATEST(0, extract(epoch FROM GREATEST(r.next_at, now.t) - now.t) * 1000)::float8 FROM ${TABLES.callRates} r, now
      WHERE r.scope = $1 AND NOT EXISTS (SELECT 1 FROM reserved)`,
    [scope, count, perSecond, RESERVE_AHEAD_S],
  )
  return rows[0] ? { reserved: rows[0].reserved, waitMs: rows[0].wait_ms } : { reserved: true, waitMs: 0 }
}

export function createGlobalLimits(
  pool: Pool,
  options: { scope: string; limits: CallLimits; holdSeconds: number; logger: Logger },
): GlobalLimits | null {
  const { scope, limits, holdSeconds, logger } = options
  const { maxConcurrentCalls: cap, maxCallsPerSecond: rate } = limits
  if (cap === null && rate === null) return null
  const retry = (what: string, signal: AbortSignal) => ({ logger, what, signal })
  const leases = cap === null ? null : renewPermitLeases(pool, scope, holdSeconds)
  // Waits for a permit end early when one of this instance's comes back (another instance's
  // are seen at the next ask, within MAX_WAIT_MS).
  const wakers = new Set<() => void>()
  const freed = () => {
    for (const wake of wakers) wake()
    wakers.clear()
  }
  const napFor = async (ms: number, signal: AbortSignal) => {
    const nap = new AbortController()
    const wake = () => nap.abort()
    signal.addEventListener('abort', wake, { once: true })
    wakers.add(wake)
    try {
      await sleep(ms, nap.signal)
    } finally {
      signal.removeEventListener('abort', wake)
      wakers.delete(wake)
    }
  }

  return {
    async acquire(wanted, signal) {
      // No permit is ever free for none: such a wait would never end.
      if (!(wanted >= 1)) throw new RangeError(`acquire() needs at least one call, got ${wanted}.`)
      // At most a second's worth of calls per wave, so a wave never waits long for its turn.
      let count = rate === null ? wanted : Math.min(wanted, Math.max(1, Math.floor(rate)))
      const holder = randomUUID()
      let slots: number[] = []
      for (let waitMs = MIN_WAIT_MS; cap !== null; waitMs = Math.min(MAX_WAIT_MS, waitMs * 2)) {
        if (signal.aborted) return { count: wanted, delaysMs: new Array<number>(wanted).fill(0), ...NO_PERMITS }
        const taken = await retryTransient(() => takePermits(pool, scope, holder, count, holdSeconds), retry('taking call permits', signal))
        if (taken.length > 0) {
          count = taken.length
          slots = taken
          break
        }
        await napFor(waitMs * (0.5 + Math.random()), signal)
      }
      const give = (given: number[]) => retryTransient(() => givePermits(pool, scope, holder, given), retry('returning call permits', signal))
      if (leases && slots.length > 0) leases.keep(holder)
      const permits = !leases ? NO_PERMITS : permitReturns(give, slots, { freed, done: () => leases.drop(holder) })
      if (rate === null) return { count, delaysMs: new Array<number>(count).fill(0), ...permits }
      for (;;) {
        if (signal.aborted) return { count, delaysMs: new Array<number>(count).fill(0), ...permits }
        const { reserved, waitMs } = await retryTransient(() => reserveRate(pool, scope, count, rate), retry('reserving call times', signal))
        if (reserved) return { count, delaysMs: Array.from({ length: count }, (_, i) => waitMs + (i * 1000) / rate), ...permits }
        // Ask again once the reservations come within reach (other waiters ask too: jittered).
        await sleep(Math.max(MIN_WAIT_MS, waitMs - RESERVE_AHEAD_S * 1000) * (0.75 + Math.random() / 2), signal)
      }
    },
    close: () => leases?.close(),
  }
}
