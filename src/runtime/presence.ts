/**
 * This instance's row in the instances table (records/instances.ts), for operators: written when
 * it starts, touched every 15 s with its circuit breaker's state and its calls (within 5 s when
 * those change, within a second when call slots free up with nothing waiting: a busy peer's
 * share-out reads them), marked stopped by `stop()`. A report that fails (the database away for a
 * moment) is said once and tried again every 5 s: it never stops the instance, whose work
 * does not depend on it. Its reports are how the instance finds the database back after an
 * outage (observe/outage.ts).
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { performance } from 'node:perf_hooks'
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import type { Breaker } from '../process/breaker.js'
import type { CallGate, CallLoad } from '../process/call-gate.js'
import { INSTANCE_REPORT_MS, markInstanceStopped, reportInstance } from '../records/instances.js'
import { isTransientDbError } from '../db/transient.js'
import { outageOf } from '../observe/outage.js'

/** How soon a change in what it reports (its calls, its breaker) is written. */
const CHANGED_REPORT_MS = 5_000
/**
 * How soon call slots that free up with nothing waiting are written: a peer with calls waiting
 * hands them to slots it reads free (process/share-out.ts), and a run's last seconds are where
 * 5 s of lag left an instance idle beside a busy one (a trial's replicas, with 1–3 s calls).
 */
const FREED_REPORT_MS = 1_000

/** A period as the ticks, one every {@link FREED_REPORT_MS}, meet it: at the tick nearest its end. */
const early = (ms: number) => ms - FREED_REPORT_MS / 2

/** Call slots free with nothing waiting, as a peer's share-out counts them (records/instances.ts). */
function freeSlots(calls: CallLoad | null, concurrency: number): number {
  return calls === null || calls.waiting > 0 ? 0 : Math.max(0, concurrency - calls.inFlight)
}

export interface Presence {
  /** This instance's id, as `listInstances()` and `health()` give it. */
  readonly id: string
  /** Stops reporting, and marks the row stopped. */
  stop(): Promise<void>
}

export async function startPresence(
  pool: Pool,
  options: ResolvedOptions,
  processor: { breaker: Breaker | null; gate: CallGate },
  version: string,
): Promise<Presence> {
  const { logger } = options
  const me = {
    id: randomUUID(), queuePrefix: options.queuePrefix, bossSchema: options.bossSchema, host: hostname(), pid: process.pid, version,
    schedules: options.schedule, works: options.work, concurrency: options.concurrency,
    maxConcurrentCalls: options.maxConcurrentCalls, maxCallsPerSecond: options.maxCallsPerSecond,
  }
  const report = () => ({ breaker: processor.breaker?.health() ?? null, calls: options.work ? processor.gate.load() : null })
  const first = report()
  let last = JSON.stringify(first)
  let lastFree = freeSlots(first.calls, me.concurrency)
  let lastAt = performance.now()
  let triedAt = lastAt
  await reportInstance(pool, me, first)
  let failing = false
  let reporting = false
  // Every 15 s, and sooner while what it reports changes (calls come and go): a run shorter than
  // 15 s is seen while it runs, at the cost of a write every 5 s only while busy, and one a second
  // while its last calls end.
  const timer = setInterval(() => {
    const now = report()
    const text = JSON.stringify(now)
    const at = performance.now()
    const free = freeSlots(now.calls, me.concurrency)
    const due = (text !== last && (free > lastFree || at - lastAt >= early(CHANGED_REPORT_MS))) || at - lastAt >= early(INSTANCE_REPORT_MS) || outageOf(options).out()
    // After a failed report, and while the database is out of reach, tried every 5 s, not at
    // every tick: the first report through says the database is back.
    const held = (failing || outageOf(options).out()) && at - triedAt < early(CHANGED_REPORT_MS)
    if (reporting || !due || held) return
    reporting = true
    triedAt = at
    reportInstance(pool, me, now).then(
      () => {
        failing = false
        last = text
        lastFree = free
        lastAt = performance.now()
        outageOf(options).reached()
      },
      (error: Error) => {
        if (isTransientDbError(error)) outageOf(options).unreachable(error)
        if (!failing) logger.warn(`Could not report this instance in the instances table (it goes on working, and tries again within ${INSTANCE_REPORT_MS / 1000} s): ${error.message}`)
        failing = true
      },
    ).finally(() => (reporting = false))
  }, FREED_REPORT_MS)
  timer.unref()
  return {
    id: me.id,
    async stop() {
      clearInterval(timer)
      await markInstanceStopped(pool, me.id).catch((error: Error) => logger.warn(`Could not mark this instance stopped in the instances table: ${error.message}`))
    },
  }
}
