/**
 * What a migration that waited too long for a lock says: which sessions held it, so that an
 * operator can end or wait for them. Migrating waits up to a minute for each lock (executor.ts);
 * while it waits for the table, every query on the table queues behind it, so the message says
 * that too. A long transaction open on the table (a report, a psql session left idle) is the
 * usual holder.
 */
import type { PoolClient } from 'pg'
import { MigrationError } from '../errors.js'
import { seconds } from '../error-text.js'

/** lock_not_available: a lock_timeout ran out. */
const LOCK_NOT_AVAILABLE = '55P03'


export function isLockTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === LOCK_NOT_AVAILABLE
}

/** A session as pg_stat_activity shows it: the columns a lock's holder is described by. */
export interface Session {
  pid: number
  state: string | null
  open_seconds: number | null
  query: string | null
}

/** `pid 123 (idle in transaction, its transaction open 40 s, last query: "…"<more>)`. */
export function describeSession(s: Session, more = ''): string {
  return `pid ${s.pid} (${s.state ?? 'state unknown'}${s.open_seconds === null ? '' : `, its transaction open ${s.open_seconds} s`}${s.query ? `, last query: ${JSON.stringify(s.query)}` : ''}${more})`
}

/** The other sessions holding a lock granted on `subscription_processing` (as the search path finds it), described. */
export async function tableLockHolders(client: PoolClient): Promise<string | null> {
  const { rows } = await client.query<Session>(
    `SELECT a.pid, a.state, round(extract(epoch FROM now() - a.xact_start))::int AS open_seconds, left(a.query, 120) AS query
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      -- Of this database: a table's OID is per database, and databases made from one template share theirs.
      WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.relation = to_regclass('subscription_processing') AND l.granted AND l.pid <> pg_backend_pid()
      GROUP BY a.pid, a.state, a.xact_start, a.query
      ORDER BY a.xact_start
      LIMIT 5`,
  )
  if (rows.length === 0) return null
  return rows.map((h) => describeSession(h)).join('; ')
}

/** The reason a migration's own statement gave up waiting for the table: who held it, and what to do. */
export function tableLockAdvice(holders: string | null, lockWaitMs: number): string {
  return (
    `Migrating waited ${seconds(lockWaitMs)} for a lock on subscription_processing${holders ? ` held by ${holders}` : ' held by another transaction'}, ` +
    'and every query on the table waited behind it meanwhile. End that transaction (pg_terminate_backend(pid)) or let it finish, then migrate again.'
  )
}

/** The error of an instance that waited too long for the migration lock, another instance's migration holding it. */
export function migrationLockWaitError(error: unknown, lockWaitMs: number): MigrationError {
  return new MigrationError(
    `Waited ${seconds(lockWaitMs)} for the scheduler's migration lock: another instance (or \`migrate\`) holds it while it migrates, and is still at it, ` +
      'most likely waiting for a lock on subscription_processing itself (its error names the transaction holding it). Nothing was applied here; ' +
      'start again once that migration is done.',
    { cause: error },
  )
}
