/**
 * Limits on worker calls that hold across every instance of a scheduler, kept in Postgres:
 * `maxConcurrentCalls` (permits, one row each) and `maxCallsPerSecond` (a reservation clock,
 * call-rate.ts).
 * A batch asks for as many calls as it has jobs and is granted a wave: how many may start now,
 * and when each may start. Each permit goes back as soon as one of the wave's calls ends (a slow
 * call holds its own, not its wave's), and lapses on its own if the instance dies holding it
 * (call-permits.ts).
 */
import { randomUUID } from 'node:crypto'
import type { Pool } from 'pg'
import type { Logger } from '../observe/logger.js'
import { retryTransient } from '../db/transient.js'
import { sleep } from '../observe/clock.js'
import { createRateClock, waitForStart } from './call-rate.js'
import { givePermits, permitReturns, renewPermitLeases, takePermits } from './call-permits.js'

export interface CallLimits {
  maxConcurrentCalls: number | null
  maxCallsPerSecond: number | null
}

/** Calls that may start, the i-th once `waitTurn(i)` resolves; `releaseOne()` as each call ends gives back its permit. */
export interface Grant {
  count: number
  waitTurn: (i: number, signal: AbortSignal) => Promise<void>
  releaseOne: () => Promise<void>
}

export interface GlobalLimits {
  /** Waits until at least one call may start (or `signal` aborts: then grants all, undelayed). */
  acquire: (wanted: number, signal: AbortSignal) => Promise<Grant>
  /** Stops renewing the permits still held (the instance stops): they lapse within their lease. */
  close: () => void
}

const NO_PERMITS: Pick<Grant, 'releaseOne'> = { releaseOne: async () => {} }
const NOW: Pick<Grant, 'waitTurn'> = { waitTurn: async () => {} }
const MIN_WAIT_MS = 25
const MAX_WAIT_MS = 1_000

export function createGlobalLimits(
  pool: Pool,
  options: { scope: string; limits: CallLimits; holdSeconds: number; logger: Logger },
): GlobalLimits | null {
  const { scope, limits, holdSeconds, logger } = options
  const { maxConcurrentCalls: cap, maxCallsPerSecond: rate } = limits
  if (cap === null && rate === null) return null
  const retry = (what: string, signal: AbortSignal) => ({ logger, what, signal })
  const leases = cap === null ? null : renewPermitLeases(pool, scope, holdSeconds)
  const rateClock = rate === null ? null : createRateClock(pool, scope, rate, retry)
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
        if (signal.aborted) return { count: wanted, ...NOW, ...NO_PERMITS }
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
      if (rateClock === null) return { count, ...NOW, ...permits }
      const startsAt = await rateClock.reserve(count, signal)
      return { count, waitTurn: (i, aborted) => waitForStart(startsAt[i] ?? 0, rateClock, aborted), ...permits }
    },
    close: () => leases?.close(),
  }
}
