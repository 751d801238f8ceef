/**
 * A database the library has not migrated answers with a raw `relation … does not exist`, or,
 * where only the MVP's `subscription_processing` is there, `column sp.… does not exist` or an
 * ON CONFLICT with no unique index to match. Every public call that reads or writes the
 * scheduler's tables turns such an error into a {@link NotMigratedError}, which says what is
 * missing and how to create or update it. What is missing is looked up only once a statement
 * has failed.
 */
import type { Executor } from './executor.js'
import { NotFoundError, NotMigratedError } from '../errors.js'
import { MIGRATIONS } from './migrations.generated.js'
import { hostTableElsewhere } from './host-table.js'
import { HOST_TABLE_SHAPE, SCHEDULER_SCHEMA, TABLES } from './names.js'

const HOST_TABLE =
  'the host table subscriptions does not exist on the connection\'s search_path; the scheduler reads ' +
  `${HOST_TABLE_SHAPE}, and migrate() needs it: create it first`

/**
 * Errors a statement gets from a schema other than the one it was written for: a relation,
 * column, schema or constraint missing (SQLSTATE class 42, "syntax error or access rule
 * violation", and 3F000, no such schema).
 */
function isSchemaError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('42') || code === '3F000')
}

export const PROCESSING_MISSING = 'subscription_processing does not exist'

/** Which of the tables the scheduler needs is missing (the host's first), if any. */
export async function missingTable(db: Executor): Promise<string | null> {
  const { rows } = await db.query<{ host: string | null; processing: string | null; runs: string | null; journal: string | null }>(
    `SELECT to_regclass('subscriptions')::text AS host, to_regclass('subscription_processing')::text AS processing,
            to_regclass('${TABLES.runs}')::text AS runs, to_regclass('${TABLES.migrations}')::text AS journal`,
  )
  const found = rows[0]
  if (!found?.host) return HOST_TABLE
  if (!found.processing) return PROCESSING_MISSING
  if (!found.runs || !found.journal) return `${TABLES.runs} does not exist`
  return null
}

/**
 * subscription_processing missing from the search_path but in another schema of the database:
 * another installation's (a test suite with a schema per file, say). The scheduler's own schema,
 * its migrations journal with it, is one per database, so the journal says migrated for that one,
 * and neither dropping the scheduler's schema nor migrating again would help.
 */
export async function processingOffPath(db: Executor): Promise<string | null> {
  const { rows } = await db.query<{ schemas: string[] | null; path: string }>(
    `SELECT array_agg(n.nspname::text ORDER BY n.nspname) AS schemas, current_setting('search_path') AS path
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = 'subscription_processing' AND c.relkind IN ('r', 'p') AND n.nspname <> ALL(current_schemas(true))`,
  )
  const found = rows[0]
  if (!found?.schemas?.length) return null
  const where = found.schemas.join(', ')
  return `subscription_processing is not in a schema of the connection's search_path (${found.path}) but in ${where}, another ` +
    `installation's. The scheduler's own schema ${SCHEDULER_SCHEMA} (its migrations journal and run history) is one per database, so a ` +
    `database holds one installation. Another application (another product, another test file) needs a database of its own (for tests, ` +
    `CREATE DATABASE … TEMPLATE a migrated one takes a fraction of a second); pointed at ${where}, it would sweep that installation's ` +
    `subscriptions and call its own worker with them. Only if this is that installation's application, its connections' search_path ` +
    `leaving ${where} out, set the search_path to include it. Do not drop ${SCHEDULER_SCHEMA}: the installation in ${where} uses it`
}

/** What keeps this database from being the one this version's statements were written for, if anything. */
async function whatIsMissing(db: Executor): Promise<string | null> {
  const missing = await missingTable(db)
  if (missing === PROCESSING_MISSING) return (await processingOffPath(db)) ?? missing
  if (missing === HOST_TABLE) {
    const elsewhere = await hostTableElsewhere(db)
    if (elsewhere) return `the host table subscriptions is not on the connection's search_path: ${elsewhere}`
  }
  if (missing) return missing
  const pending = await pendingMigrations(db)
  return pending.length > 0 ? `${pending.length} of this version's migrations not applied: ${pending.join(', ')}` : null
}

/** This version's migrations (or those given) the journal does not record yet, by tag (`0025_kept_next_run_at`). */
export async function pendingMigrations(db: Executor, migrations: readonly { tag: string; folderMillis: number }[] = MIGRATIONS): Promise<string[]> {
  const { rows: applied } = await db.query<{ last: string | null }>(`SELECT max(created_at)::text AS last FROM ${TABLES.migrations}`)
  const last = Number(applied[0]?.last ?? 0)
  return migrations.filter((m) => m.folderMillis > last).map((m) => m.tag)
}

/**
 * How many migrations the journal records that this version does not know: applied by a newer
 * version (a rolling deploy, or a rollback of the code), or by a host's own `migrationsFolder`.
 */
export async function unknownMigrations(db: Executor): Promise<number> {
  const newest = Math.max(0, ...MIGRATIONS.map((m) => m.folderMillis))
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${TABLES.migrations} WHERE created_at > $1`,
    [newest],
  )
  return rows[0]?.n ?? 0
}

/** What the start and the CLI say of {@link unknownMigrations}: how many, and where they come from. */
export function describeUnknownMigrations(count: number): string {
  return `${count} migration${count === 1 ? '' : 's'} this version does not know, applied by a newer version of ` +
    'pg-subscription-scheduler (or from a migrationsFolder of your own)'
}

/**
 * Runs `fn`. A statement failing for want of a table, column or constraint, on a database this
 * version has not migrated (missing, the MVP's table, or migrated by an older version), becomes a
 * NotMigratedError saying what is missing, as does a NotFoundError there; any other error is
 * thrown as it is.
 */
export async function explainingMissingTables<T>(db: Executor, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    // Not found, on a database not migrated (the MVP's table has none of the rows enrolled since):
    // the missing migration is the news.
    if (!isSchemaError(error) && !(error instanceof NotFoundError)) throw error
    const missing = await whatIsMissing(db).catch(() => null)
    throw missing ? new NotMigratedError(missing, { cause: error }) : error
  }
}

/**
 * Throws a NotMigratedError unless this version's tables are all there (a start with
 * `migrate: false`): missing tables, the MVP's table, or migrations not yet applied.
 */
export async function assertMigrated(db: Executor): Promise<void> {
  const missing = await whatIsMissing(db)
  if (missing) throw new NotMigratedError(`${missing}, and this scheduler was started with migrate: false`)
}

/** Undefined column or table: a database an older version migrated (a rolling deploy's start). */
const OLDER_TABLES = new Set(['42703', '42P01'])

/** Whether `error` is a query's failure on tables an older version migrated (a column or table this one adds). */
export function isOlderTablesError(error: unknown): boolean {
  return OLDER_TABLES.has((error as { code?: string } | null)?.code ?? '')
}
