/**
 * The database seam. Everything the library runs goes through {@link Executor}: one method,
 * `query(text, values)`, which a `pg.Pool`, a `pg.PoolClient` (inside the host's transaction)
 * and a Drizzle database or transaction all satisfy through {@link toExecutor}.
 */
import type { Pool, PoolClient } from 'pg'
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'

export interface QueryResultLike<Row> {
  rows: Row[]
  rowCount?: number | null | undefined
}

/** Anything that runs parameterised SQL: a `pg.Pool`, a `pg.PoolClient`, or an adapter. */
export interface Executor {
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResultLike<Row>>
}

/** A Drizzle `NodePgDatabase` or transaction, matched by shape so Drizzle stays optional. */
export interface DrizzleLike {
  execute(query: unknown): Promise<unknown>
  $client?: unknown
  session?: { client?: unknown } | undefined
}

/**
 * What a host may pass as `db` to run a write inside its own transaction: a `pg` client it
 * checked out and began a transaction on, or a Drizzle transaction over node-postgres.
 */
export type HostDb = Executor | DrizzleLike

function isExecutor(db: unknown): db is Executor {
  return typeof (db as Executor | undefined)?.query === 'function'
}

/**
 * Turns a host handle into an {@link Executor}. A Drizzle node-postgres transaction keeps its
 * checked-out `pg` client on `session.client`; statements sent there join that transaction.
 */
export function toExecutor(db: HostDb): Executor {
  if (isExecutor(db)) return db
  const client = (db as DrizzleLike).session?.client ?? (db as DrizzleLike).$client
  if (isExecutor(client)) return client
  throw new ConfigurationError(
    'db',
    `expected a pg Pool, a pg PoolClient in a transaction you began, or a Drizzle node-postgres database or transaction; got ${shown(db)}. Leave it out to run on the scheduler's pool.`,
  )
}

/**
 * pg-boss's database seam over an executor: a job inserted through it is written by the same
 * client, so it commits (or not) with the caller's transaction.
 */
export function bossDb(db: Executor): { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> } {
  return { executeSql: async (text, values) => await db.query(text, values) }
}

/** Runs `fn` in a transaction on one client checked out of `pool`, and always releases it. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken = false
  // pg-pool listens for errors only while a client is idle: a connection dropped while we hold
  // it would be an unhandled 'error' event, and crash the host. The failed query reports it.
  const onError = () => {
    broken = true
  }
  client.on('error', onError)
  try {
    // A lock_timeout the host sets for its role or database is for its own queries: here it failed
    // a settle waiting on a run's counter row another instance was writing, or on a row the host
    // held for a moment, and every failed settle calls the worker again. These transactions wait
    // (boundedWait and withAdvisoryLock set their own bound after this).
    await client.query('BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = 0')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    try {
      await client.query('ROLLBACK')
    } catch {
      // The connection itself is gone; don't hand it back to the pool.
      broken = true
    }
    throw error
  } finally {
    client.off('error', onError)
    client.release(broken)
  }
}

/** How long a migration or install waits for another's to finish (and for each lock it takes) before it fails. */
export const LOCK_WAIT_MS = 60_000

/** One statement, as `pool.query` runs it. */
export type Query = <R extends object>(sql: string, params?: unknown[]) => Promise<{ rows: R[]; rowCount: number | null }>

/** One statement in a transaction of its own that gives up (55P03) after `lockWaitMs` on a lock. */
export function boundedWait(pool: Pool, lockWaitMs: number): Query {
  return (sql, params) =>
    withTransaction(pool, async (client) => {
      await client.query(`SET LOCAL lock_timeout = ${Math.round(lockWaitMs)}`)
      return await client.query(sql, params)
    })
}

/**
 * Runs `fn` in one transaction that first takes the advisory lock `key`, held until it commits or
 * rolls back. A transaction's lock, not a session's: behind PgBouncer in transaction mode each
 * statement outside a transaction may go to another server connection, so a session lock
 * serialized nothing, and its unlock could miss it and leave it held for good. `fn` must not end
 * the transaction.
 */
export async function withAdvisoryLock<T>(pool: Pool, key: bigint, fn: (client: PoolClient) => Promise<T>, lockWaitMs = LOCK_WAIT_MS): Promise<T> {
  return await withTransaction(pool, async (client) => {
    // A host's lock_timeout or statement_timeout (set per database or role, for its own queries)
    // would fail a replica waiting for another's install, or a long migration: this transaction
    // waits for the lock up to a minute, and its statements as long as they take.
    await client.query(`SET LOCAL lock_timeout = ${Math.round(lockWaitMs)}; SET LOCAL statement_timeout = 0`)
    await client.query('SELECT pg_advisory_xact_lock($1)', [key.toString()])
    // The lock may have waited for a holder that created schemas or tables. A name this
    // connection looked up before could still read as missing from its catalog cache, until it
    // takes in the changes, as it does on taking a lock on a table: on the catalogs, here.
    await client.query('LOCK TABLE pg_catalog.pg_namespace, pg_catalog.pg_class IN ACCESS SHARE MODE')
    return await fn(client)
  })
}

/** Postgres names its tables in a fixed, quoted form. Used only with the library's own names. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/**
 * Whether pg-boss's table `table` exists in schema `bossSchema`: it does not before pg-boss's
 * first start (after `migrate()` alone, say). Asked, not caught: inside a transaction, a statement
 * that failed on the missing table would abort it.
 */
export async function bossTableInstalled(db: Executor, bossSchema: string, table: string): Promise<boolean> {
  const { rows } = await db.query<{ installed: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS installed`, [`${quoteIdent(bossSchema)}.${quoteIdent(table)}`])
  return rows[0]?.installed === true
}
