/**
 * Creates or upgrades the library's tables with the SQL in `drizzle/`, compiled into the package
 * (migrations.generated.ts) so nothing is read from disk and drizzle-orm is not needed. Safe to
 * call from many instances at once (an advisory lock serialises them) and on a database that
 * already holds its own `subscription_processing` table, from the original scheduler design (it is
 * adopted in place; no row is touched).
 */
import type { Pool, PoolClient } from 'pg'
import { LOCK_WAIT_MS, quoteIdent, withAdvisoryLock } from './executor.js'
import { methodOptions } from '../config/method-options.js'
import { ConfigurationError, MigrationError } from '../errors.js'
import { shown } from '../error-text.js'
import { assertPool } from './pool-shape.js'
import { readMigrationFolder } from './migration-files.js'
import { describeJournalDivergence } from './journal-divergence.js'
import type { Migration } from './migration-files.js'
import { MIGRATIONS } from './migrations.generated.js'
import { adoptedTableTooNew, assertAdoptable } from './adoptable.js'
import { assertHostTable } from './host-table.js'
import { assertOneOnSearchPath } from './session-checks.js'
import { SCHEDULER_SCHEMA, TABLES } from './names.js'
import { missingTable, pendingMigrations, PROCESSING_MISSING, processingOffPath } from './missing-tables.js'
import { restoreHostForeignKey } from './host-foreign-key.js'
import { isPermissionDenied, migrationPrivilegeError } from './privileges.js'
import { isLockTimeout, migrationLockWaitError, tableLockAdvice, tableLockHolders } from './lock-waits.js'
import { seconds } from '../error-text.js'
import { checkBossSchema } from '../config/resolve-options.js'
import { prepareBossSchema } from '../runtime/boss-install.js'
import { assertNoOtherInstallation } from './other-installation.js'

/** Arbitrary but fixed: every copy of the library takes the same lock. */
const MIGRATION_LOCK_KEY = 7_311_402_915_338_211_001n
const MIGRATIONS_TABLE = '__drizzle_migrations'

/** What `start()` and the CLI's `migrate` say when `migrate()` adopted the MVP's table. */
export const ADOPTED_NOTE = 'Adopted the existing subscription_processing table in place; no row was changed.'

export interface MigrateOptions {
  /**
   * A drizzle-kit folder (its SQL files and `meta/_journal.json`) to apply instead of the
   * library's own migrations, which are compiled into the package.
   * @default the package's own migrations (the SQL in its `drizzle/` folder)
   */
  migrationsFolder?: string | undefined
  /**
   * Also install pg-boss's schema under this name, or upgrade it to this version's, as the CLI's
   * `migrate` does: a deploy step run as the database's owner (a bundle, with no CLI), so that
   * instances connecting as a role that may not create find nothing to do. Give the scheduler's
   * `bossSchema` (`'pgboss'` by default).
   * @default none: pg-boss's schema is left to the first `start()`
   */
  bossSchema?: string | undefined
}

export interface MigrateResult {
  /** The migrations this call applied, by tag (`0007_lateness_max`), oldest first; empty when up to date. */
  applied: string[]
  /** True when this call adopted an existing `subscription_processing` (the MVP's) in place, every row kept. */
  adopted: boolean
  /**
   * What this call put back that had gone since the migrations ran, a sentence each, for the log:
   * the foreign key to `subscriptions` (a drizzle-kit `push` shown the table drops it). Usually empty.
   */
  restored: string[]
  /** How long this call waited for another instance's migration (the lock it holds), in ms. */
  waitedMs: number
  /** How long the migrations this call applied took, in ms (0 when none). */
  tookMs: number
}

/** A wait for another instance's migration shorter than this goes unsaid. */
const NOTED_WAIT_MS = 1000

/**
 * What a start says of its migration, or null when there is nothing to say: what it applied and
 * how long that took (writes to the table wait meanwhile), or how long it waited for another
 * instance's, which started it that much later.
 */
export function migrationNote({ applied, waitedMs, tookMs }: Pick<MigrateResult, 'applied' | 'waitedMs' | 'tookMs'>): string | null {
  if (applied.length > 0) return `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'} to the scheduler's tables ${migrationTiming({ waitedMs, tookMs })}: ${applied.join(', ')}.`
  if (waitedMs >= NOTED_WAIT_MS) return `Waited ${seconds(waitedMs)} for another instance's migration of the scheduler's tables; nothing was left to apply.`
  return null
}

/** How long applied migrations took, and the wait for another instance's before them when it was long enough to say: "in 4.2 s, after waiting …". */
export function migrationTiming({ waitedMs, tookMs }: Pick<MigrateResult, 'waitedMs' | 'tookMs'>): string {
  return `in ${seconds(tookMs)}${waitedMs >= NOTED_WAIT_MS ? `, after waiting ${seconds(waitedMs)} for another instance's migration` : ''}`
}

/**
 * What drizzle-orm's node-postgres migrator does, to the letter (same journal table, hashes and
 * timestamps, so `drizzle-kit migrate` and this agree on what is applied), without drizzle-orm,
 * an optional peer that a scheduler would otherwise carry for its life.
 */
async function applyMigrations(client: PoolClient, migrations: readonly Migration[]): Promise<string[]> {
  const table = `${quoteIdent(SCHEDULER_SCHEMA)}.${quoteIdent(MIGRATIONS_TABLE)}`
  // Only when missing: CREATE … IF NOT EXISTS checks the privilege to create first, and a
  // runtime user with no CREATE must find an up-to-date database with nothing to do.
  const { rows: journal } = await client.query<{ name: string | null }>('SELECT to_regclass($1)::text AS name', [table])
  if (!journal[0]?.name) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(SCHEDULER_SCHEMA)}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`)
  }
  const { rows } = await client.query<{ created_at: string | null }>(`SELECT created_at FROM ${table} ORDER BY created_at DESC LIMIT 1`)
  const last = rows[0]
  const pending = migrations.filter((m) => !last || Number(last.created_at) < m.folderMillis)
  if (pending.length === 0) return []
  for (const migration of pending) {
    for (const statement of migration.sql) await client.query(statement)
    await client.query(`INSERT INTO ${table} (hash, created_at) VALUES ($1, $2)`, [migration.hash, migration.folderMillis])
  }
  return pending.map((m) => m.tag)
}

/**
 * Applies every pending migration, and says which. `start()` calls it unless `migrate: false`
 * is set.
 *
 * @example
 * const { applied } = await migrate(pool)
 */
export async function migrate(pool: Pool, options: MigrateOptions = {}): Promise<MigrateResult> {
  return await migrateWaiting(pool, options, LOCK_WAIT_MS)
}

/** migrate(), waiting `lockWaitMs` for each lock (another's migration, a table) before it fails: tests wait less than a minute. */
export async function migrateWaiting(pool: Pool, options: MigrateOptions, lockWaitMs: number): Promise<MigrateResult> {
  assertPool(pool, 'migrate()')
  // A typo (`bosSchema`) would otherwise skip pg-boss's schema without a word.
  methodOptions('migrate', options as MigrateOptions | undefined, ['migrationsFolder', 'bossSchema'])
  const folder = (options as MigrateOptions | null | undefined)?.migrationsFolder
  if (folder !== undefined && typeof folder !== 'string') {
    throw new ConfigurationError('migrationsFolder', `expected the path of a drizzle-kit migrations folder (a string), or nothing for the package's own migrations, got ${shown(folder)}.`)
  }
  const bossSchema = options.bossSchema === undefined ? undefined : checkBossSchema(options.bossSchema)
  // A custom folder is read before the lock, so a bad path fails without touching the database.
  const migrations = options.migrationsFolder === undefined ? MIGRATIONS : readMigrationFolder(options.migrationsFolder)
  const result = await migrateTables(pool, migrations, lockWaitMs)
  if (bossSchema !== undefined) await prepareBossSchema(pool, bossSchema)
  return result
}

async function migrateTables(pool: Pool, migrations: readonly Migration[], lockWaitMs: number): Promise<MigrateResult> {
  try {
    return await migrateUnderLock(pool, migrations, lockWaitMs)
  } catch (error) {
    // Not one of this migration's statements (those say so themselves): the wait for the lock.
    if (!(error instanceof MigrationError) && isLockTimeout(error)) throw migrationLockWaitError(error, lockWaitMs)
    throw error
  }
}

async function migrateUnderLock(pool: Pool, migrations: readonly Migration[], lockWaitMs: number): Promise<MigrateResult> {
  const asked = performance.now()
  return await withAdvisoryLock(pool, MIGRATION_LOCK_KEY, async (client) => {
    const locked = performance.now()
    await assertOneOnSearchPath(client)
    await assertHostTable(client)
    await assertNoOtherInstallation(client)
    const adopting = await assertAdoptable(client)
    let applied: string[]
    // Everything here is one transaction (the lock's): a failure rolls it all back, and the
    // savepoint lets the error be explained on the same connection first.
    await client.query('SAVEPOINT migrating')
    try {
      applied = await applyMigrations(client, migrations)
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT migrating').catch(() => {})
      if (isPermissionDenied(error)) {
        // Named, for the DBA who decides whether to run them (a migration's file says what it does).
        // Under a savepoint: a journal this user may not read would abort the transaction the
        // explanation's own queries run in.
        await client.query('SAVEPOINT naming')
        const pending = await pendingMigrations(client, migrations).catch(() => null)
        await client.query(pending === null ? 'ROLLBACK TO SAVEPOINT naming' : 'RELEASE SAVEPOINT naming')
        throw await migrationPrivilegeError(client, error, `Migrating the scheduler's tables${pending?.length ? ` (applying ${pending.join(', ')})` : ''}`)
      }
      // Postgres puts what would help (the types that differ, say) in the error's detail and hint.
      const failure = ((error as { cause?: unknown }).cause ?? error) as { message?: string | undefined; detail?: string | undefined; hint?: string | undefined }
      let reason = [failure.message, failure.detail, failure.hint].filter(Boolean).join(' ')
      if (isLockTimeout(error)) reason += `. ${tableLockAdvice(await tableLockHolders(client).catch(() => null), lockWaitMs)}`
      // A database another build migrated fails on what that build did: the journal says why.
      // One with no journal, whose table another tool made from the scheduler's, says so.
      const divergence = adopting
        ? await adoptedTableTooNew(client, error).catch(() => null)
        : await describeJournalDivergence(client, migrations).catch(() => null)
      throw new MigrationError(`Migrating the scheduler's tables failed and was rolled back: ${reason}${divergence ? `. ${divergence}` : ''}`, {
        cause: error,
      })
    }
    // The journal says what was applied, not what is still there: a table dropped since (by a
    // host's drizzle-kit push, say) is not created again, and every later call would fail.
    const missing = await missingTable(client)
    const offPath = missing === PROCESSING_MISSING ? await processingOffPath(client) : null
    if (offPath) throw new MigrationError(`The journal ${TABLES.migrations} records the scheduler's migrations as applied, for another installation: ${offPath}.`)
    if (missing) {
      throw new MigrationError(
        `The journal ${TABLES.migrations} records the scheduler's migrations as applied, but ${missing}: it was dropped ` +
          `since (by a drizzle-kit push not kept away from it, or a drizzle-kit generate migration that drops it, say; see the README's Schema section). Restore it ` +
          `from a backup, or drop the schema ${SCHEDULER_SCHEMA} (its run history with it) and migrate again.`,
      )
    }
    let restored: string | null
    try {
      restored = await restoreHostForeignKey(client)
    } catch (error) {
      if (isPermissionDenied(error)) throw await migrationPrivilegeError(client, error, 'Restoring the foreign key of subscription_processing')
      throw error
    }
    return {
      applied,
      adopted: adopting && applied.length > 0,
      restored: restored ? [restored] : [],
      waitedMs: Math.round(locked - asked),
      tookMs: applied.length > 0 ? Math.round(performance.now() - locked) : 0,
    }
  }, lockWaitMs)
}
