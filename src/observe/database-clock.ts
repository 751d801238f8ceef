/**
 * The scheduler's default clock: the host's, corrected to the database server's. Every instance
 * decides which subscriptions are due, and writes leases and run times, by its clock; replicas
 * whose clocks disagree would call slots early (a clock a day ahead runs tomorrow's today) or
 * late. The database's clock is the one they share, so each instance reads it at start and every
 * minute, and goes by it (saying so when its own is a second or more off: a host 0.9 s fast went
 * uncorrected, and called slots 0.7 s early). Between two readings,
 * a step of the host's clock (NTP, a VM resumed) is told from the monotonic clock, which no step
 * moves: it is undone at once, and the database read again. A clock passed as the `clock` option
 * (a test's) is taken as it is.
 */
import { performance } from 'node:perf_hooks'
import type { Pool } from 'pg'
import { isFakedDate } from './clock.js'
import type { Clock } from './clock.js'
import type { Logger } from './logger.js'

/**
 * Differences from this size are said (smaller ones are corrected without a word: NTP keeps
 * hosts within milliseconds), and a jump of the host's clock this large between two readings is
 * taken for a step of it.
 */
const SAID_FROM_MS = 1_000
/** Readings per check: the one with the shortest round trip is kept. */
const READINGS = 3
const CHECK_EVERY_MS = 60_000
const RETRY_STEP_CHECK_MS = 5_000

/**
 * What a corrected clock knows of the database's: its offset, when it last looked (by the host's
 * clock and by the monotonic one), what it said, and whom to tell of a step.
 */
interface Correction {
  offsetMs: number
  checkedAt: number
  monotonicAt: number
  warnedMs: number | null
  onStep: (() => void) | null
  /** The reading under way: one at a time, whoever asks (a method, the minute's timer, a step). */
  reading: Promise<void> | null
}

/** How far the host's clock stepped since the last reading: what it moved less what time passed. */
function steppedMs(c: Correction): number {
  const moved = Date.now() - c.checkedAt
  return Number.isFinite(moved) ? moved - (performance.now() - c.monotonicAt) : 0
}

const corrections = new WeakMap<Clock, Correction>()

export interface DatabaseClock extends Clock {
  /** Milliseconds added to the host's clock: the database's minus the host's, as last read. */
  readonly offsetMs: number
}

/** The host's clock plus the offset the last check found (none before the first). */
export function createDatabaseClock(): DatabaseClock {
  const correction: Correction = { offsetMs: 0, checkedAt: -Infinity, monotonicAt: 0, warnedMs: null, onStep: null, reading: null }
  const clock = {
    now: () => new Date(Date.now() + clock.offsetMs),
    get offsetMs() {
      const stepped = steppedMs(correction)
      if (Math.abs(stepped) < SAID_FROM_MS) return correction.offsetMs
      correction.onStep?.()
      return correction.offsetMs - stepped
    },
  }
  corrections.set(clock, correction)
  return clock
}

export function isDatabaseClock(clock: Clock): clock is DatabaseClock {
  return corrections.has(clock)
}

/**
 * The scheduler's time, in ms, when the host's clock read `hostNowMs`: the database's, for the
 * default clock (the host's corrected by its offset, with no reading of its own); a clock the host
 * chose (a test's manual one), as it reads.
 */
export function schedulerNowMs(clock: Clock, hostNowMs: number): number {
  return isDatabaseClock(clock) ? hostNowMs + clock.offsetMs : clock.now().getTime()
}

/**
 * An instant the host's clock read, `hostMs`, as the scheduler's clock tells it: moved by the
 * database's offset for the default clock; as it is beside a clock the host chose (a test's
 * manual one, which says nothing of past instants).
 */
export function onSchedulerClock(clock: Clock, hostMs: number): Date {
  return new Date(isDatabaseClock(clock) ? hostMs + clock.offsetMs : hostMs)
}

/** The database's clock minus the host's, read over one connection, at the shortest round trip. */
async function readSkewMs(pool: Pool): Promise<number> {
  const client = await pool.connect()
  try {
    let best = { roundTripMs: Infinity, skewMs: 0 }
    for (let i = 0; i < READINGS; i++) {
      const sent = Date.now()
      const { rows } = await client.query<{ ms: number }>(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`)
      const received = Date.now()
      if (received - sent < best.roundTripMs) best = { roundTripMs: received - sent, skewMs: rows[0]!.ms - (sent + received) / 2 }
    }
    return best.skewMs
  } finally {
    client.release()
  }
}

function describeSkew(skewMs: number): string {
  return `${(Math.abs(skewMs) / 1000).toFixed(1)} s ${skewMs > 0 ? 'behind' : 'ahead of'}`
}

/**
 * Reads the database's clock, sets the correction, and warns when one begins or moves by a second
 * or more. A check asked for while one is under way waits for that one.
 */
function check(pool: Pool, correction: Correction, logger: Logger): Promise<void> {
  correction.reading ??= read(pool, correction, logger).finally(() => (correction.reading = null))
  return correction.reading
}

async function read(pool: Pool, correction: Correction, logger: Logger): Promise<void> {
  const skewMs = await readSkewMs(pool)
  const next = Math.abs(skewMs) >= SAID_FROM_MS ? Math.round(skewMs) : 0
  if (next !== 0 && (correction.warnedMs === null || Math.abs(next - correction.warnedMs) >= SAID_FROM_MS)) {
    logger.warn(
      isFakedDate()
        ? `This process's Date is a test runner's fake (vi.useFakeTimers({ toFake: ['Date'] })), ${describeSkew(next)} the database ` +
            "server's clock. The scheduler goes by the database's time, so the fake does not move it: give the scheduler " +
            'createManualClock() (the `clock` option) to move its time.'
        : `This host's clock is ${describeSkew(next)} the database server's. The scheduler goes by the database's time (which ` +
            "subscriptions are due, leases, run times), and checks again every minute; fix the host's time sync (NTP), as other " +
            "software on it may not correct it. If every instance says the same, the database server's clock is the one off: fix its time sync.",
    )
    correction.warnedMs = next
  } else if (next === 0 && correction.warnedMs !== null) {
    logger.info("This host's clock agrees with the database server's again (within a second).")
    correction.warnedMs = null
  }
  // Within the reading's error: half the shortest round trip of three.
  correction.offsetMs = Math.round(skewMs)
  correction.checkedAt = Date.now()
  correction.monotonicAt = performance.now()
}

/**
 * For a method called without start() (the CLI's, say): checks the clock unless it was checked
 * within the last minute.
 */
export async function checkClockOnce(pool: Pool, clock: Clock, logger: Logger): Promise<void> {
  const correction = corrections.get(clock)
  if (!correction) return
  const stale = !(Math.abs(Date.now() - correction.checkedAt) < CHECK_EVERY_MS)
  if (stale || Math.abs(steppedMs(correction)) >= SAID_FROM_MS) await check(pool, correction, logger)
}

/**
 * Checks the clock against the database's now and then every minute, until the returned stop is
 * called (a check under way then just ends). A check that fails keeps the last correction (a
 * database out of reach is said elsewhere).
 */
export async function keepClockInSync(pool: Pool, clock: Clock, logger: Logger): Promise<() => void> {
  const correction = corrections.get(clock)
  if (!correction) return () => {}
  await check(pool, correction, logger)
  // One check at a time: through an outage, a check waits for a connection for as long as it must.
  let lastTry = -Infinity
  const checkNow = () => {
    // A step seen while the database is out of reach asks on every reading: once in a while.
    if (correction.reading || performance.now() - lastTry < RETRY_STEP_CHECK_MS) return
    lastTry = performance.now()
    check(pool, correction, logger).catch(() => {})
  }
  const timer = setInterval(checkNow, CHECK_EVERY_MS)
  timer.unref()
  // A step seen between readings is undone at once (offsetMs), and read again at once.
  correction.onStep = checkNow
  return () => {
    clearInterval(timer)
    correction.onStep = null
  }
}
