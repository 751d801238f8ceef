/**
 * Where worker calls wait their turn. A page job hands over all its calls at once; they start as
 * the limits allow: `concurrency` calls in flight in this instance (a semaphore shared by every
 * batch), and, when configured, the limits shared by all instances (global-limits.ts).
 */
import { performance } from 'node:perf_hooks'
import type { GlobalLimits, Grant } from './global-limits.js'
import type { Logger } from '../observe/logger.js'
import { sleep } from '../observe/clock.js'

/** At most `limit` slots taken at once; the rest wait in order. */
export class Semaphore {
  private running = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly limit: number) {}

  /** Takes up to `most` slots free now, without waiting (none while others wait): how many. */
  takeFree(most: number): number {
    const taken = Math.max(0, Math.min(most, this.limit - this.running))
    this.running += taken
    return taken
  }

  /** Waits for a slot, in order, and takes it. */
  async take(): Promise<void> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running += 1
  }

  /** Gives back `count` slots taken: each to the first waiting, or free. */
  give(count = 1): void {
    for (let i = 0; i < count; i++) {
      const next = this.waiting.shift()
      if (next) next()
      else this.running -= 1
    }
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    // A free slot starts `fn` in this same turn (awaiting take() would wait one).
    if (this.takeFree(1) === 0) await this.take()
    try {
      return await fn()
    } finally {
      this.give()
    }
  }
}

export interface CallGate {
  /**
   * Calls `call` once for every item, within the limits, each no earlier than its `startAt` (ms
   * since the epoch), and resolves once every call has ended. Once `signal` aborts, items still
   * waiting are called at once (a call made with an aborted signal ends without reaching the
   * worker), so every item gets its call.
   */
  runEach<T>(items: T[], call: (item: T) => Promise<void>, options: { signal: AbortSignal; startAt?: ((item: T) => number) | undefined }): Promise<void>
  /**
   * Resolves once fewer than `limit` calls are waiting for a slot (calls whose start is still
   * ahead, spread ones, do not count), or when `signal` aborts.
   */
  whenWaitingBelow(limit: number, signal: AbortSignal): Promise<void>
  /**
   * Calls in flight now, and calls ready to start but held back (by a slot, a permit or the rate),
   * less those set aside: passed over at their turn (their rows let go or handed to another job).
   */
  load(): CallLoad
  /** Counts `n` waiting calls as set aside (`load()` leaves them out) until their turn, or their runEach's end, gives them back with `-n`. */
  setAside(n: number): void
  /** Calls ended since the gate was made: their rate is how fast this instance works off what waits. */
  ended(): number
  /** How long the oldest call in flight has been running, in ms; null with none in flight. */
  oldestCallMs(): number | null
}

export interface CallLoad {
  inFlight: number
  waiting: number
}

export function createCallGate(concurrency: number, global: GlobalLimits | null, logger: Logger): CallGate {
  const local = new Semaphore(concurrency)
  // Calls ready to start but not started yet, across every runEach, and who waits for fewer.
  let waiting = 0
  // Of them, calls set aside: passed over at their turn.
  let aside = 0
  const waitingNow = () => waiting - aside
  const waiters = new Set<{ limit: number; resolve: () => void }>()
  const wakeWaiters = () => {
    for (const waiter of waiters) {
      if (waitingNow() < waiter.limit) {
        waiters.delete(waiter)
        waiter.resolve()
      }
    }
  }
  const lessWaiting = (n: number) => {
    waiting -= n
    wakeWaiters()
  }
  let inFlight = 0
  let ended = 0
  // When each call in flight began (performance.now()), in the order they began.
  const began = new Set<{ at: number }>()
  return {
    load: () => ({ inFlight, waiting: waitingNow() }),
    setAside(n) {
      aside += n
      wakeWaiters()
    },
    ended: () => ended,
    oldestCallMs() {
      for (const call of began) return performance.now() - call.at
      return null
    },
    whenWaitingBelow(limit, signal) {
      if (waitingNow() < limit || signal.aborted) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const waiter = { limit, resolve: () => (signal.removeEventListener('abort', done), resolve()) }
        const done = () => (waiters.delete(waiter), resolve())
        signal.addEventListener('abort', done, { once: true })
        waiters.add(waiter)
      })
    },
    async runEach<T>(items: T[], call: (item: T) => Promise<void>, { signal, startAt }: { signal: AbortSignal; startAt?: ((item: T) => number) | undefined }): Promise<void> {
      const queue = startAt ? [...items].sort((a, b) => startAt(a) - startAt(b)) : items
      const running: Promise<void>[] = []
      // Each wave, settled: a runEach cut short by an error still waits for the calls it began.
      const waves: Promise<unknown>[] = []
      // Of this queue: how many were counted as waiting, and how many of those have started.
      // Once it is over, those never started are no longer waiting (counted off once).
      let counted = 0
      let started = 0
      let over = false
      const begin = async (item: T) => {
        started += 1
        if (!over) lessWaiting(1)
        inFlight += 1
        const token = { at: performance.now() }
        began.add(token)
        try {
          await call(item)
        } finally {
          inFlight -= 1
          ended += 1
          began.delete(token)
        }
      }
      let next = 0
      try {
        while (next < queue.length) {
          // A spread call waits for its start outside the call slots, which other calls may use.
          let ready = queue.length - next
          if (startAt && !signal.aborted) {
            const first = startAt(queue[next]!)
            const waitMs = first - Date.now()
            if (waitMs > 0) await sleep(waitMs, signal)
            // Timers run on the event loop's clock, which lags Date.now(): the wait may end a
            // millisecond before `first`. Its call is ready all the same: a wave is never empty.
            const now = Math.max(Date.now(), first)
            ready = 0
            while (next + ready < queue.length && (signal.aborted || startAt(queue[next + ready]!) <= now)) ready += 1
          }
          if (next + ready > counted) {
            waiting += next + ready - counted
            counted = next + ready
          }
          if (!global) {
            for (const item of queue.slice(next, next + ready)) running.push(local.run(() => begin(item)))
            next += ready
            continue
          }
          // This instance's call slots first, then as many permits: a permit shared by every
          // instance is never held by a call waiting for a slot here (a dead instance's held
          // more than its concurrency, and the fleet's cap ran below its size).
          let slots = local.takeFree(ready)
          if (slots === 0) {
            await local.take()
            slots = 1 + local.takeFree(ready - 1)
          }
          let grant: Grant
          try {
            grant = await global.acquire(slots, signal)
          } catch (error) {
            local.give(slots)
            throw error
          }
          local.give(slots - grant.count)
          const giveBack = (error: unknown) => logger.warn(`Returning call permits failed (${(error as Error).message}); they expire on their own.`)
          const wave = queue.slice(next, next + grant.count).map(async (item, i) => {
            try {
              await grant.waitTurn(i, signal)
              await begin(item)
            } finally {
              local.give()
              // Its permit goes back as its call ends: a slow call keeps its own, not its wave's.
              await grant.releaseOne().catch(giveBack)
            }
          })
          next += grant.count
          running.push(...wave)
          waves.push(Promise.allSettled(wave))
        }
        await Promise.all(running)
      } finally {
        over = true
        lessWaiting(counted - started)
        await Promise.all(waves)
      }
    },
  }
}
