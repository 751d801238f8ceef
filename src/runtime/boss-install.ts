/**
 * Installs pg-boss's schema under the library's own advisory lock, before pg-boss starts.
 *
 * pg-boss checks for its schema, then installs it in one transaction that first waits on an
 * advisory lock. When instances start together, a waiter whose connection has looked the schema
 * up before keeps the "no such schema" it cached: granting an advisory lock does not refresh the
 * catalog cache. Its `CREATE SCHEMA IF NOT EXISTS` then fails with `duplicate key …
 * pg_namespace_nspname_index`. Here the check and the install run in the lock's transaction,
 * after the cache has taken in what the lock's last holder created (db/executor.ts).
 */
import type { Pool } from 'pg'
import { getConstructionPlans } from 'pg-boss'
import { PgBoss } from 'pg-boss'
import { bossTableInstalled, withAdvisoryLock } from '../db/executor.js'
import { MigrationError } from '../errors.js'
import { isPermissionDenied, migrationPrivilegeError } from '../db/privileges.js'
import { poolAdapter } from './boss.js'

/** Arbitrary but fixed: every copy of the library takes the same lock for pg-boss's install. */
const BOSS_INSTALL_LOCK_KEY = 7_311_402_915_338_211_002n

/**
 * Creates pg-boss's schema once across every instance starting at the same moment. An existing
 * schema is left to pg-boss, which upgrades it on start. `schema` is a validated identifier.
 */
export async function installBossSchema(pool: Pool, schema: string): Promise<void> {
  await withAdvisoryLock(pool, BOSS_INSTALL_LOCK_KEY, async (client) => {
    if (await bossTableInstalled(client, schema, 'version')) return
    await client.query('SAVEPOINT installing')
    try {
      await client.query(withinTransaction(getConstructionPlans(schema)))
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT installing').catch(() => {})
      if (isPermissionDenied(error)) throw await migrationPrivilegeError(pool, error, `Installing pg-boss's schema "${schema}"`, schema)
      throw new MigrationError(
        `Installing pg-boss's schema "${schema}" failed: ${(error as Error).message}. ` +
          'Check that the database user may create schemas (CREATE on the database), then start again.',
        { cause: error },
      )
    }
  })
}

/**
 * pg-boss's plans as statements of the lock's transaction: without their own BEGIN and COMMIT,
 * whose COMMIT would end that transaction (and the lock) early.
 */
function withinTransaction(plans: string): string {
  const inner = /^\s*BEGIN;([\s\S]*)COMMIT;\s*$/.exec(plans)
  return inner ? inner[1]! : plans
}

/** SQLSTATEs of a catalog object created twice: never a raw error for a host to decode. */
const CATALOG_RACE_CODES = new Set(['23505', '42P06', '42P07', '42710', '42723'])

/** Starts pg-boss; a catalog collision (another installer at work) becomes a typed error. */
export async function startBoss(boss: PgBoss, schema: string): Promise<void> {
  try {
    await boss.start()
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ERR_ASSERTION' && /migrate pg-boss schema/.test((error as Error).message)) {
      throw new MigrationError(
        `pg-boss cannot start on its schema "${schema}": ${(error as Error).message} If that schema is another app's, ` +
          `give the scheduler one of its own (the \`bossSchema\` option, such as 'pss_boss').`,
        { cause: error },
      )
    }
    if (typeof code !== 'string' || !CATALOG_RACE_CODES.has(code)) throw error
    throw new MigrationError(
      `pg-boss found its schema "${schema}" half-made by another process (${(error as Error).message}). ` +
        'Something outside this library is installing pg-boss at the same time: start again once it is done.',
      { cause: error },
    )
  }
}

/**
 * Installs pg-boss's schema, or upgrades it to this version's, and leaves: the CLI's `migrate`,
 * run as the database's owner, so that instances connecting as a role that may not create find
 * nothing to do. Creates no queue and starts no worker.
 */
export async function prepareBossSchema(pool: Pool, schema: string): Promise<void> {
  await installBossSchema(pool, schema)
  const boss = new PgBoss({ db: poolAdapter(pool), schema, supervise: false, schedule: false })
  boss.on('error', () => {})
  await startBoss(boss, schema)
  await boss.stop({ graceful: false, close: false })
}
