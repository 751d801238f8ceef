/**
 * The pool every public entry point takes, checked by shape (a second copy of `pg` has classes of
 * its own): the library runs statements on it at once and checks clients out, so a `pg.Client`
 * or a connection string fails here, naming the fix, not deep inside as `client.release is not a
 * function` with a connection left open.
 */
import type { Pool } from 'pg'
import { ConfigurationError } from '../errors.js'

/** Whether `value` has a pool's shape (see the module's comment). */
export function isPool(value: unknown): value is Pool {
  const candidate = value as Partial<Pool> | null | undefined
  return typeof candidate?.query === 'function' && typeof candidate.connect === 'function' && typeof candidate.totalCount === 'number'
}

export function assertPool(pool: unknown, owner = 'the scheduler'): asserts pool is Pool {
  if (isPool(pool)) return
  const candidate = pool as Partial<Pool> | null | undefined
  const got = pool === null || pool === undefined ? String(pool)
    : typeof pool === 'string' ? 'a string (a connection string?)'
      : typeof candidate?.query === 'function' ? 'an object with query() but not a pool (a pg.Client?)'
        : typeof pool
  throw new ConfigurationError('pool', `expected a pg.Pool, got ${got}. Pass \`new pg.Pool({ connectionString: process.env.DATABASE_URL })\` (${owner} never closes it).`)
}

/** pg-pool's refusal of a pool whose `end()` has been called. */
const ENDED_POOL = 'Cannot use a pool after calling end on the pool'

/** Whether `error` is a pool's refusal after its `end()`: nothing reaches the database through it again. */
export function isEndedPoolError(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message
  return typeof message === 'string' && message.startsWith(ENDED_POOL)
}

/** Whether the pool's `end()` has been called (pg-pool's `ending`). */
export function isEndedPool(pool: Pool): boolean {
  return (pool as Pool & { ending?: unknown }).ending === true
}

/** Said once when the host ends the pool under a running scheduler. */
export const POOL_ENDED_WHILE_RUNNING =
  'The pg.Pool given to the scheduler was ended (pool.end()) while the scheduler runs: it reaches the database no more, and processes nothing. ' +
  'Call `await scheduler.stop()` first, then `pool.end()`.'

/** Said by a stop() that found the pool ended before it was done. */
export const POOL_ENDED_BEFORE_STOPPED =
  'The pg.Pool given to the scheduler was ended before stop() had finished: what stop() records (this instance stopped, its last outcomes) may not have been written. ' +
  'End the pool once `await scheduler.stop()` has resolved.'
