/**
 * This instance's row in the instances table (records/instances.ts), for operators: written when
 * it starts, touched every 15 s with its circuit breaker's state and its calls, marked stopped by `stop()`. A
 * report that fails (the database away for a moment) is said once and tried again at the next
 * tick: it never stops the instance, whose work does not depend on it.
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import type { Breaker } from '../process/breaker.js'
import type { CallGate } from '../process/call-gate.js'
import { INSTANCE_REPORT_MS, markInstanceStopped, reportInstance } from '../records/instances.js'

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
    id: randomUUID(), scope: options.queuePrefix, host: hostname(), pid: process.pid, version,
    schedules: options.schedule, works: options.work, concurrency: options.concurrency,
    maxConcurrentCalls: options.maxConcurrentCalls, maxCallsPerSecond: options.maxCallsPerSecond,
  }
  const report = () => ({ breaker: processor.breaker?.health() ?? null, calls: options.work ? processor.gate.load() : null })
  await reportInstance(pool, me, report())
  let failing = false
  const timer = setInterval(() => {
    reportInstance(pool, me, report()).then(
      () => { failing = false },
      (error: Error) => {
        if (!failing) logger.warn(`Could not report this instance in the instances table (it goes on working; tried again every ${INSTANCE_REPORT_MS / 1000} s): ${error.message}`)
        failing = true
      },
    )
  }, INSTANCE_REPORT_MS)
  timer.unref()
  return {
    id: me.id,
    async stop() {
      clearInterval(timer)
      await markInstanceStopped(pool, me.id).catch((error: Error) => logger.warn(`Could not mark this instance stopped in the instances table: ${error.message}`))
    },
  }
}
