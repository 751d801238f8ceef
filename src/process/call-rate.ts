/**
 * `maxCallsPerSecond` as a reservation clock shared by every instance (one row of `call_rates`
 * per scope): a wave of calls reserves evenly spaced start times behind those already reserved.
 *
 * The times are the database's. Each instance places them on its own clock by the offset its
 * reservations measure, so a call starts at the time it reserved however late the answer came
 * back; a call that starts later than that all the same (its event loop stalled) takes a new time
 * behind the others. Started late where they stood, such calls bunched into the next wave's
 * second: 26 calls went out in one second at a rate of 20.
 */
import type { Pool } from 'pg'
import { TABLES } from '../db/names.js'
import { retryTransient } from '../db/transient.js'
import type { RetryTransientOptions } from '../db/transient.js'
import { sleep } from '../observe/clock.js'

/** A call starting later than this after its reserved time takes a new one. */
export const LATE_MS = 20
/**
 * New times a late call takes at most; then it starts, late. An event loop late all the time (a
 * host busy with other work) would otherwise never start a call.
 */
export const RETIMES = 2
/**
 * How far ahead of now start times may be reserved. Times reserved further ahead are lost when
 * their instance stops (its calls go to other instances, which reserve new times behind them):
 * a rate of 10/s with every waiting call reserved had runs idle for seconds after a stop.
 */
const RESERVE_AHEAD_S = 1
const MIN_WAIT_MS = 25
/** The lead a reservation leaves for its answer to come back, at most. */
const MAX_LEAD_MS = 250
/** A measured offset older than this gives way to the next one, whatever its round trip. */
const OFFSET_FRESH_MS = 30_000

export interface RateClock {
  /** Reserves start times for `count` calls, and resolves with them on this host's clock (ms since the epoch). */
  reserve(count: number, signal: AbortSignal): Promise<number[]>
}

type Retry = (what: string, signal: AbortSignal) => RetryTransientOptions

/**
 * The database's clock less this host's, from the reservations' own round trips: the one with
 * the shortest round trip counts (its error is at most half of it), until it is old; and how
 * long answers take to come back (smoothed), which each reservation leaves as its lead.
 */
function offsetTracker() {
  let best = { offsetMs: 0, errorMs: Infinity, at: -Infinity }
  let roundTripMs = 0
  return {
    sample(sentAt: number, receivedAt: number, databaseNowMs: number) {
      const trip = receivedAt - sentAt
      roundTripMs = roundTripMs === 0 ? trip : roundTripMs * 0.8 + trip * 0.2
      if (trip / 2 <= best.errorMs || receivedAt - best.at > OFFSET_FRESH_MS) {
        best = { offsetMs: databaseNowMs - (sentAt + receivedAt) / 2, errorMs: trip / 2, at: receivedAt }
      }
    },
    /** A time on the database's clock, on this host's: never earlier than it may be. */
    toHost: (databaseMs: number) => databaseMs - best.offsetMs + best.errorMs,
    leadMs: () => Math.min(MAX_LEAD_MS, Math.ceil(2 * roundTripMs)),
  }
}

export function createRateClock(pool: Pool, scope: string, perSecond: number, retry: Retry): RateClock {
  const offset = offsetTracker()
  const spacingMs = 1000 / perSecond

  /**
   * Reserves `count` evenly spaced start times, unless the times reserved already reach further
   * than RESERVE_AHEAD_S ahead: the first of them on the database's clock; or, when nothing was
   * reserved, how long until the reservations come within reach.
   */
  async function tryReserve(count: number): Promise<{ firstMs: number } | { waitMs: number }> {
    const sentAt = Date.now()
    // clock_timestamp(), not a time taken as the statement began: a reservation that waited for
    // another's lock on the row reserves from when it got it.
    const { rows } = await pool.query<{ reserved: boolean; next_ms: number; now_ms: number }>(
      `WITH reserved AS (
         UPDATE ${TABLES.callRates} r
            SET next_at = GREATEST(r.next_at, clock_timestamp() + make_interval(secs => $5::float8 / 1000))
                          + make_interval(secs => $2::float8 / $3::float8)
          WHERE r.scope = $1 AND r.next_at <= clock_timestamp() + make_interval(secs => $4::float8)
         RETURNING (extract(epoch FROM r.next_at) * 1000)::float8 AS next_ms, (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms
       )
       SELECT true AS reserved, next_ms, now_ms FROM reserved
       UNION ALL
       -- The statement's snapshot: a reservation that moved the clock while this one waited for
       -- it is not in it (the clock may even read -infinity, as it starts): how long to wait is a
       -- hint, and the next ask reads the clock anew.
       SELECT false, (extract(epoch FROM GREATEST(r.next_at, clock_timestamp())) * 1000)::float8, (extract(epoch FROM clock_timestamp()) * 1000)::float8
         FROM ${TABLES.callRates} r
        WHERE r.scope = $1 AND NOT EXISTS (SELECT 1 FROM reserved)`,
      [scope, count, perSecond, RESERVE_AHEAD_S, offset.leadMs()],
    )
    const row = rows[0]
    // No clock row (it is written as an instance starts): nothing to hold the calls to.
    if (!row) return { firstMs: Number.NEGATIVE_INFINITY }
    offset.sample(sentAt, Date.now(), row.now_ms)
    return row.reserved ? { firstMs: row.next_ms - count * spacingMs } : { waitMs: Math.max(0, row.next_ms - row.now_ms) }
  }

  return {
    async reserve(count, signal) {
      for (;;) {
        if (signal.aborted) return new Array<number>(count).fill(0)
        const got = await retryTransient(() => tryReserve(count), retry('reserving call times', signal))
        if ('firstMs' in got) {
          const first = Number.isFinite(got.firstMs) ? offset.toHost(got.firstMs) : 0
          return Array.from({ length: count }, (_, i) => first + i * spacingMs)
        }
        // Ask again once the reservations come within reach (other waiters ask too: jittered).
        await sleep(Math.max(MIN_WAIT_MS, got.waitMs - RESERVE_AHEAD_S * 1000) * (0.75 + Math.random() / 2), signal)
      }
    },
  }
}

/**
 * Waits until `startAt` (this host's clock, ms since the epoch); a wait that ends more than
 * LATE_MS after it takes a new time from `rate`, up to RETIMES times. Ends at once once `signal`
 * aborts.
 */
export async function waitForStart(startAt: number, rate: RateClock, signal: AbortSignal): Promise<void> {
  let at = startAt
  for (let retimes = 0; !signal.aborted; retimes += 1) {
    // Timers run on the event loop's clock, which may end a wait a millisecond early.
    for (let leftMs = at - Date.now(); leftMs > 0 && !signal.aborted; leftMs = at - Date.now()) await sleep(leftMs, signal)
    if (retimes >= RETIMES || Date.now() - at <= LATE_MS) return
    ;[at] = (await rate.reserve(1, signal)) as [number]
  }
}
