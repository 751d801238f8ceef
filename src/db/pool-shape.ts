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
