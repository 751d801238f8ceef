/**
 * The clock seam. Every "now" the scheduler uses (which rows are due, the next slot, leases)
 * comes from here, so a test can move time by hand. pg-boss keeps its own clock.
 */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = {
  now: () => new Date(),
}
