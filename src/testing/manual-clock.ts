/** A clock that moves only when told: for testing slots, DST days and leases deterministically. */
import type { Clock } from '../observe/clock.js'
import { shown } from '../error-text.js'

export interface ManualClock extends Clock {
  /** Moves the clock to an instant (a Date, or a string `new Date()` reads). */
  set(instant: Date | string): void
  /** Moves the clock by `ms` milliseconds, back when negative. */
  advance(ms: number): void
}

/** The instant's milliseconds; a TypeError naming the method for anything that is not one. */
function instantOf(method: string, instant: unknown): number {
  const ms = instant instanceof Date || typeof instant === 'string' ? new Date(instant).getTime() : Number.NaN
  if (Number.isNaN(ms)) {
    throw new TypeError(`createManualClock().${method}: expected a Date or an ISO 8601 string such as '2027-03-01T08:00:00Z', got ${shown(instant)}.`)
  }
  return ms
}

export function createManualClock(start: Date | string = new Date()): ManualClock {
  let current = instantOf('start', start)
  return {
    now: () => new Date(current),
    set(instant) {
      current = instantOf('set', instant)
    },
    advance(ms) {
      if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new TypeError(`createManualClock().advance: expected a finite number of milliseconds, got ${shown(ms)}.`)
      current += ms
    },
  }
}
