/**
 * A database user without a privilege the scheduler needs gets Postgres's bare `permission denied
 * for …` (SQLSTATE 42501). These turn it into a MigrationError that names the user, the database
 * and the fix: migrate as the owner, and grant the runtime role what the README's "Database
 * privileges" section lists.
 */
import type { Executor } from './executor.js'
import { MigrationError } from '../errors.js'
import { isSchedulerError } from '../error-guards.js'
import { DEFAULTS } from '../config/options.js'

const INSUFFICIENT_PRIVILEGE = '42501'

export const PRIVILEGES_SECTION = `the README's "Database privileges" section`

export function isPermissionDenied(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code
  return code === INSUFFICIENT_PRIVILEGE || cause === INSUFFICIENT_PRIVILEGE
}

/** Who is connected, for the message; `null` where even that cannot be read. */
async function whoAmI(db: Executor): Promise<{ user: string; database: string } | null> {
  try {
    const { rows } = await db.query<{ user: string; database: string }>('SELECT current_user AS user, current_database() AS database')
    return rows[0] ?? null
  } catch {
    return null
  }
}

/**
 * The error for a migration (the scheduler's tables, or pg-boss's schema) refused for want of
 * CREATE: run it as the owner, then start this user without it.
 */
export async function migrationPrivilegeError(db: Executor, error: unknown, what: string, bossSchema?: string): Promise<MigrationError> {
  const who = await whoAmI(db)
  const user = who ? `the database user "${who.user}"` : 'this database user'
  const refusal = (error as Error).message
  // Only a refused CREATE SCHEMA is cured by CREATE on the database; a table another user owns
  // ("must be owner of table …") or a missing grant is not.
  const grant = /permission denied for database/.test(refusal)
    ? ` Or let this user create: ${who ? `GRANT CREATE ON DATABASE "${who.database}" TO "${who.user}"` : 'GRANT CREATE ON DATABASE <database> TO <user>'}.`
    : ''
  // migrate() installs pg-boss's schema only when given it; the CLI's migrate does both.
  const env = bossSchema && bossSchema !== DEFAULTS.bossSchema ? `SUBSCRIPTION_BOSS_SCHEMA=${bossSchema} ` : ''
  if (bossSchema) {
    return new MigrationError(
      `${what} failed: ${user} may not create it (${refusal}). Install it as the owner of the database: ` +
        `\`${env}pg-subscription-scheduler migrate\` as a deploy step, or migrate(pool, { bossSchema: '${bossSchema}' }) on a pool ` +
        "of the owner, or one start() as the owner; this user then starts with nothing left to install, and needs only " +
        `the grants in ${PRIVILEGES_SECTION}.${grant}`,
      { cause: error },
    )
  }
  return new MigrationError(
    `${what} failed: ${user} may not do what migrating needs here (${refusal}). Run the migrations as the owner of the ` +
      "database and of the scheduler's tables (the CLI's `pg-subscription-scheduler migrate` as a deploy step, or migrate() on " +
      'a pool of the owner); this user then starts with nothing left to apply, with migrate: false or the default, and needs ' +
      `only the grants in ${PRIVILEGES_SECTION}.${grant}`,
    { cause: error },
  )
}

/**
 * The error for a start whose user may not connect to the database (CONNECT revoked from PUBLIC),
 * or may not read or write the scheduler's or pg-boss's (`bossSchema`) tables.
 */
export async function runtimePrivilegeError(db: Executor, error: unknown, bossSchema: string = DEFAULTS.bossSchema): Promise<MigrationError> {
  const refusal = (error as Error).message
  // CONNECT refused at login quotes the name; a refused CREATE (aclcheck) does not.
  const database = /^permission denied for database "(.+)"$/.exec(refusal)?.[1]
  if (database !== undefined) {
    return new MigrationError(
      `Starting the scheduler failed: this database user may not connect to the database "${database}" (${refusal}): CONNECT on it was ` +
        `revoked from PUBLIC, and not granted to this user. As its owner: GRANT CONNECT ON DATABASE "${database}" TO <this user>; then the ` +
        `grants in ${PRIVILEGES_SECTION}.`,
      { cause: error },
    )
  }
  const who = await whoAmI(db)
  const user = who ? `the database user "${who.user}"` : 'this database user'
  return new MigrationError(
    `Starting the scheduler failed: ${user} lacks a privilege on the scheduler's or pg-boss's tables (${refusal}). ` +
      `Grant it the runtime privileges listed in ${PRIVILEGES_SECTION} (usage on the schemas subscription_scheduler and ` +
      `${bossSchema}, read and write on their tables, sequences and pg-boss functions; read, insert and update on subscription_processing; read on subscriptions), ` +
      "after the owner has run the migrations.",
    { cause: error },
  )
}

/**
 * Runs `fn` (a start); a bare `permission denied` from it becomes {@link runtimePrivilegeError}.
 * The library's own errors pass as they are: they say what to fix already.
 */
export async function explainingPrivileges<T>(db: Executor, fn: () => Promise<T>, bossSchema?: string): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (isSchedulerError(error) || !isPermissionDenied(error)) throw error
    throw await runtimePrivilegeError(db, error, bossSchema)
  }
}
