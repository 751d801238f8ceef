/**
 * This instance's row in the instances table (records/instances.ts), for operators: written when
 * it starts, touched every 15 s with its circuit breaker's state and its calls (within 5 s when
 * those change), marked stopped by `stop()`. A report that fails (the database away for a
 * moment) is said once and tried again at the next tick: it never stops the instance, whose work
 * does not depend on it. Its reports are how the instance finds the database back after an
 * outage (observe/outage.ts).
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { performance } from 'node:perf_hooks'
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import type { Breaker } from '../process/breaker.js'
import type { CallGate } from '../process/call-gate.js'
import { INSTANCE_REPORT_MS, markInstanceStopped, reportInstance } from '../records/instances.js'
import { isTransientDbError } from '../db/transient.js'
import { outageOf } from '../observe/outage.js'

/** How soon a change in what it reports (its calls, its breaker) is written. */
const CHANGED_REPORT_MS = 5_000

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
  let lastAt = performance.now()
  await reportInstance(pool, me, first)
  let failing = false
  let reporting = false
  // Every 15 s, and sooner while what it reports changes (calls come and go): a run shorter than
  // 15 s is seen while it runs, at the cost of a write every 5 s only while busy.
  const timer = setInterval(() => {
    const now = report()
    const text = JSON.stringify(now)
    // While the database is out of reach, every tick: the first report through says it is back.
    const due = text !== last || outageOf(options).out() || performance.now() - lastAt >= INSTANCE_REPORT_MS - CHANGED_REPORT_MS / 2
    if (reporting || !due) return
    reporting = true
    reportInstance(pool, me, now).then(
      () => {
        failing = false
        last = text
        lastAt = performance.now()
        outageOf(options).reached()
      },
      (error: Error) => {
        if (isTransientDbError(error)) outageOf(options).unreachable(error)
        if (!failing) logger.warn(`Could not report this instance in the instances table (it goes on working, and tries again within ${INSTANCE_REPORT_MS / 1000} s): ${error.message}`)
        failing = true
      },
    ).finally(() => (reporting = false))
  }, CHANGED_REPORT_MS)
  timer.unref()
  return {
    id: me.id,
    async stop() {
      clearInterval(timer)
      await markInstanceStopped(pool, me.id).catch((error: Error) => logger.warn(`Could not mark this instance stopped in the instances table: ${error.message}`))
    },
  }
}
