/**
 * The shared rate clock of `maxCallsPerSecond` with its row locked by another transaction, so
 * that reservations wait for it: how racing or delayed reservations are tested.
 */
import type pg from 'pg'
import { configureLimits } from '../../src/process/configure-limits.js'
import { createGlobalLimits } from '../../src/process/global-limits.js'
import type { GlobalLimits } from '../../src/process/global-limits.js'
import { captureLogger } from '../../src/testing.js'

/** Global limits of `perSecond` calls a second on `scope`, their clock's row held until `release()`. */
export async function heldRateClock(pool: pg.Pool, scope: string, perSecond: number): Promise<{ global: GlobalLimits; release: () => Promise<void> }> {
  const limits = { maxConcurrentCalls: null, maxCallsPerSecond: perSecond }
  await configureLimits(pool, scope, limits)
  const global = createGlobalLimits(pool, { scope, limits, holdSeconds: 60, logger: captureLogger() })!
  const holder = await pool.connect()
  await holder.query('BEGIN')
  await holder.query(`SELECT 1 FROM subscription_scheduler.call_rates WHERE scope = $1 FOR UPDATE`, [scope])
  return {
    global,
    release: async () => {
      await holder.query('COMMIT')
      holder.release()
    },
  }
}
