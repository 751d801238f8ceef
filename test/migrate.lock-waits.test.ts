/**
 * A migration that waits too long for a lock. A trial upgraded a database of 1M rows while a
 * report's transaction stood open on subscription_processing: each replica's migration waited its
 * minute for the table, every query on the table queued behind it, and then failed with
 * "canceling statement due to lock timeout", naming nothing; a replica waiting for another's
 * migration failed with pg's own error, not a MigrationError. The waits are real, cut to 3 s here.
 */
import pg from 'pg'
import { expect, test } from 'vitest'
import { migrate, migrateWaiting, migrationNote } from '../src/db/migrate.js'
import { MigrationError } from '../src/errors.js'
import { createTestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'

const MIGRATION_LOCK_KEY = '7311402915338211001'
const SLOW_MS = 60_000
/** migrate()'s wait for each lock, cut from a minute. */
const LOCK_WAIT_MS = 3000

/** A session of its own on `url` that runs `statements` in a transaction and keeps it open until `end()`. */
async function openTransaction(url: string, statements: string): Promise<{ pid: number; end: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  await client.query('BEGIN')
  await client.query(statements)
  return { pid: rows[0]!.pid, end: async () => void (await client.query('ROLLBACK'), await client.end()) }
}

test('waiting out its minute for a lock, a migration names the transaction that held the table, or says another migration holds the lock', { timeout: SLOW_MS }, async () => {
  const [table, lock, elsewhere] = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()])
  // An upgrade left to apply: the last migration adds a column, which waits for the writer.
  const journal = 'subscription_scheduler.__drizzle_migrations'
  await table.pool.query(`DELETE FROM ${journal} WHERE id = (SELECT max(id) FROM ${journal})`)
  await table.pool.query('ALTER TABLE subscription_processing DROP COLUMN first_run_for')
  const writer = await openTransaction(table.url, `UPDATE subscription_processing SET updated_at = now() WHERE false`)
  const migrating = await openTransaction(lock.url, `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`)
  // Another database made from the same template: its table has the same OID, and its lock is none of this migration's.
  const other = await openTransaction(elsewhere.url, `LOCK TABLE subscription_processing IN ACCESS EXCLUSIVE MODE`)
  try {
    const [blocked, waiting] = await Promise.all([
      migrateWaiting(table.pool, {}, LOCK_WAIT_MS).catch((error: Error) => error),
      migrateWaiting(lock.pool, {}, LOCK_WAIT_MS).catch((error: Error) => error),
    ])

    expect(blocked).toBeInstanceOf(MigrationError)
    expect((blocked as Error).message).toContain('Migrating the scheduler\'s tables failed and was rolled back: canceling statement due to lock timeout')
    expect((blocked as Error).message).toContain(`Migrating waited 3.0 s for a lock on subscription_processing held by pid ${writer.pid} (idle in transaction, its transaction open `)
    expect((blocked as Error).message).toContain('last query: "UPDATE subscription_processing SET updated_at = now() WHERE false"')
    expect((blocked as Error).message).toContain('End that transaction (pg_terminate_backend(pid)) or let it finish, then migrate again.')
    expect((blocked as Error).message).not.toContain(`pid ${other.pid} `)

    expect(waiting).toBeInstanceOf(MigrationError)
    expect((waiting as Error).message).toMatch(/^Waited 3.0 s for the scheduler's migration lock: another instance \(or `migrate`\) holds it while it migrates/)
    expect((waiting as Error).message).toContain('Nothing was applied here')
  } finally {
    await writer.end()
    await migrating.end()
    await other.end()
  }
  // Nothing was applied meanwhile; once the transaction is gone, the migration goes through.
  const { rows } = await table.pool.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'subscription_processing' AND column_name = 'first_run_for'`)
  expect(rows).toHaveLength(0)
  expect((await migrate(table.pool)).applied).toHaveLength(1)
})

test('an instance that waited for another\'s migration says how long, and one that migrated says how long that took', { timeout: SLOW_MS }, async () => {
  const db = await createTestDatabase()
  const journal = 'subscription_scheduler.__drizzle_migrations'
  await db.pool.query(`DELETE FROM ${journal} WHERE id = (SELECT max(id) FROM ${journal})`)
  await db.pool.query('ALTER TABLE subscription_processing DROP COLUMN first_run_for')
  const other = await openTransaction(db.url, `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`)
  const waiting = migrate(db.pool)
  try {
    // Released once this call has waited a second and a half for it, as another's migration would be.
    await pollUntil(
      async () => (await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'advisory' AND datname = current_database() AND now() - query_start > interval '1.5 seconds'`)).rows.length === 1,
      { timeoutMs: 30_000, what: 'the migration waiting for the lock' },
    )
  } finally {
    await other.end()
  }
  const result = await waiting
  expect(result.applied).toHaveLength(1)
  expect(result.waitedMs).toBeGreaterThanOrEqual(1500)
  expect(migrationNote(result)).toMatch(/^Applied 1 migration to the scheduler's tables in \d+\.\d s, after waiting (1\.[5-9]|[2-9]\.\d|\d{2,}\.\d) s for another instance's migration: \d{4}_\w+\.$/)
  expect(migrationNote({ applied: [], waitedMs: 5300, tookMs: 0 })).toBe("Waited 5.3 s for another instance's migration of the scheduler's tables; nothing was left to apply.")
  expect(migrationNote({ applied: [], waitedMs: 12, tookMs: 0 })).toBeNull()
})
