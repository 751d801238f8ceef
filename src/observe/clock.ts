/**
 * The clock seam. Every "now" the scheduler uses (which rows are due, the next slot, leases)
 * comes from here, so a test can move time by hand. The default is the host's clock corrected to
 * the database's (database-clock.ts). pg-boss keeps its own clock.
 */
import { setTimeout as wait } from 'node:timers/promises'

export interface Clock {
  now(): Date
}

/** A clock remembered for its owner, and a way to have it read against the database first. */
export interface OwnedClock extends Clock {
  /**
   * Resolves once the clock has been read (at once for one that needs no reading, and for good
   * once read), or after `waitMs` if the reading takes longer; never rejects.
   */
  ready(waitMs: number): Promise<void>
}

const clocksOf = new WeakMap<object, OwnedClock>()

/**
 * Remembers `owner`'s clock, for the parts given only the owner (the admin handler, given a
 * scheduler), with `read`, which reads it against the database's (a failed reading is tried again
 * by the next `ready()`).
 */
export function rememberClock(owner: object, clock: Clock, read: () => Promise<void>): void {
  let done = false
  let reading: Promise<void> | null = null
  const readOnce = () => (reading ??= read().then(() => void (done = true), () => void (reading = null)))
  clocksOf.set(owner, {
    now: () => clock.now(),
    async ready(waitMs) {
      if (done) return
      let timer: NodeJS.Timeout | undefined
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)).unref())
      await Promise.race([readOnce(), waited])
      clearTimeout(timer)
    },
  })
}

/** The clock remembered for `owner`; the host's for an object no one remembered one for. */
export function clockOf(owner: object): OwnedClock {
  return clocksOf.get(owner) ?? { now: () => new Date(), ready: async () => {} }
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects): for waits a stop may cut short. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await wait(ms, undefined, { signal }).catch(() => {})
}

/**
 * What `start()` says when the process's timers are a test runner's fakes (`vi.useFakeTimers()`,
 * Jest's modern timers: both mark each faked function with its `clock`): pg-boss's polls and the
 * scheduler's waits then never fire unless the test advances them, and `runNow()` never resolves.
 * Null with the real timers (or only `Date` faked).
 */
export function fakedTimersWarning(): string | null {
  const faked = [setTimeout, setInterval].some((fn) => (fn as unknown as { clock?: unknown }).clock !== undefined)
  if (!faked) return null
  return (
    "This process's setTimeout is a test runner's fake (vi.useFakeTimers()): pg-boss's polls and the scheduler's waits fire only " +
    'when the test advances them, so a run may never finish. Move the scheduler\'s time with createManualClock() (the `clock` option) ' +
    "instead. Faking only Date (vi.useFakeTimers({ toFake: ['Date'] })) keeps the timers real, but does not move the scheduler's " +
    "time either: it goes by the database server's clock."
  )
}

/**
 * Whether this process's Date is a test runner's fake (`vi.useFakeTimers({ toFake: ['Date'] })`,
 * Jest's modern timers: both mark it with its `clock`). The scheduler's default clock goes by the
 * database server's, so such a fake reads as a host clock far off, not as the scheduler's time.
 */
export function isFakedDate(): boolean {
  return (Date as unknown as { clock?: unknown }).clock !== undefined
}

/** How often a {@link everyOnClock} loop reads the clock: a check itself runs far less often. */
const CLOCK_TICK_MS = 1_000

/**
 * Runs `check` each time `everyMs` have passed on `clock` (the scheduler's, which a test moves by
 * hand) since the last check ended, one at a time, until it resolves true or the loop is stopped.
 * A check that rejects (the database away for a moment) runs again at the next tick. `signal`
 * aborts at `stop()`: a check in flight then says nothing. The loop never holds the process open.
 */
export function everyOnClock(clock: Clock, everyMs: number, check: (signal: AbortSignal) => Promise<boolean>): { stop(): void } {
  const stopped = new AbortController()
  let last = clock.now().getTime()
  let checking = false
  const timer = setInterval(() => {
    if (checking || clock.now().getTime() - last < everyMs) return
    checking = true
    check(stopped.signal).then(
      (done) => {
        last = clock.now().getTime()
        if (done) clearInterval(timer)
      },
      () => {},
    ).finally(() => (checking = false))
  }, CLOCK_TICK_MS)
  timer.unref()
  return {
    stop() {
      stopped.abort()
      clearInterval(timer)
    },
  }
}
