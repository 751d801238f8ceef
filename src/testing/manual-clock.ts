/** A clock that moves only when told: for testing slots, DST days and leases deterministically. */
import type { Clock } from '../observe/clock.js'

export interface ManualClock extends Clock {
  set(instant: Date | string): void
  advance(ms: number): void
}

export function createManualClock(start: Date | string = new Date()): ManualClock {
  let current = new Date(start).getTime()
  return {
    now: () => new Date(current),
    set(instant) {
      current = new Date(instant).getTime()
    },
    advance(ms) {
      current += ms
    },
  }
}
