/**
 * The clock seam. Every "now" the scheduler uses (which rows are due, the next slot, leases)
 * comes from here, so a test can move time by hand. The default is the host's clock corrected to
 * the database's (database-clock.ts). pg-boss keeps its own clock.
 */
import { setTimeout as wait } from 'node:timers/promises'

export interface Clock {
  now(): Date
}

const clocksOf = new WeakMap<object, Clock>()

/** Remembers `owner`'s clock, for the parts given only the owner (the admin handler, a scheduler). */
export function rememberClock(owner: object, clock: Clock): void {
  clocksOf.set(owner, clock)
}

/** The clock remembered for `owner`; the host's for an object no one remembered one for. */
export function clockOf(owner: object): Clock {
  return clocksOf.get(owner) ?? { now: () => new Date() }
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects): for waits a stop may cut short. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await wait(ms, undefined, { signal }).catch(() => {})
}
