/**
 * What `migrate()` checks of an existing `subscription_processing` before it changes anything
 * (the host's own table is checked in host-table.ts): that one it adopts (the MVP's, or one a
 * host made) can take the unique index and the cascading foreign key the scheduler relies on.
 * Rows in the way are named, never deleted: they may hold data the host wants to keep.
 */
import type { PoolClient } from 'pg'
import { MigrationError } from '../errors.js'
import { constraintsInTheWay } from './adopted-constraints.js'
import { hasHostForeignKey } from './host-foreign-key.js'
import { RELATION_KINDS } from './host-table.js'
import { SCHEDULER_SCHEMA, SUBSCRIPTION_STATUSES, TABLES } from './names.js'

/** How many rows an error lists before it summarises. */
const MAX_LISTED = 20

/** The rows an error names (a query asked for one more than it lists), a line each. */
function listed<T>(rows: T[], line: (row: T) => string): string {
  const more = rows.length > MAX_LISTED ? '\n  …and more' : ''
  return rows.slice(0, MAX_LISTED).map((row) => `  ${line(row)}`).join('\n') + more
}

/**
 * The unique index on `subscription_id` cannot be built over duplicate rows. Deleting one would
 * lose data the host may need, so the migration stops and names them instead.
 */
async function duplicateSubscriptions(client: PoolClient): Promise<string | null> {
  const { rows: exists } = await client.query<{ index: string | null }>(
    `SELECT to_regclass('subscription_processing_subscription_id_key')::text AS index`,
  )
  if (exists[0]?.index) return null
  const { rows } = await client.query<{ subscription_id: string; ids: string[] }>(
    `SELECT subscription_id::text, array_agg(id::text ORDER BY created_at NULLS LAST, id) AS ids
       FROM subscription_processing
      GROUP BY subscription_id
     HAVING count(*) > 1
      ORDER BY subscription_id
      LIMIT ${MAX_LISTED + 1}`,
  )
  if (rows.length === 0) return null
  return (
    'subscription_processing holds more than one row for the same subscription_id, so the unique index ' +
      'the scheduler needs cannot be created. No row was changed. Keep one row per subscription ' +
      `(delete or merge the others), then run migrate again:\n${listed(rows, (r) => `subscription_id ${r.subscription_id}: rows ${r.ids.join(', ')}`)}`
  )
}

/**
 * Rows whose subscription does not exist, where the cascading foreign key is missing (an adopted
 * table without it, or a key dropped since): migration 0006, or its restoring, cannot add the key
 * over them.
 */
async function orphanRows(client: PoolClient): Promise<string | null> {
  if (await hasHostForeignKey(client)) return null
  const { rows } = await client.query<{ id: string; subscription_id: string }>(
    `SELECT sp.id::text, sp.subscription_id::text
       FROM subscription_processing sp
      WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = sp.subscription_id)
      ORDER BY sp.subscription_id, sp.id
      LIMIT ${MAX_LISTED + 1}`,
  )
  if (rows.length === 0) return null
  return (
    'subscription_processing has rows whose subscription_id is not in subscriptions, so the foreign key the ' +
      'scheduler needs (ON DELETE CASCADE, so that a deleted subscription takes its row along) cannot be added. ' +
      'No row was changed. Delete those rows (DELETE FROM subscription_processing sp WHERE NOT EXISTS ' +
      `(SELECT 1 FROM subscriptions s WHERE s.id = sp.subscription_id)), or restore their subscriptions, then run migrate again:\n` +
      listed(rows, (r) => `row ${r.id}: subscription_id ${r.subscription_id}`)
  )
}

/** The MVP's instants: the scheduler's indexes and comparisons need them with a time zone. */
const INSTANT_COLUMNS = ['next_run_at', 'last_run_at', 'created_at', 'updated_at']

/**
 * Instants kept as `timestamp` (without time zone), as a hand-made or Drizzle-made table may have
 * them: the due index cannot be built over them, and what zone they were written in only the host
 * knows, so they are named with the statement that converts them, not converted.
 */
async function instantsWithoutZones(client: PoolClient): Promise<string | null> {
  const { rows } = await client.query<{ column_name: string }>(
    `SELECT a.attname AS column_name FROM pg_attribute a
      WHERE a.attrelid = 'subscription_processing'::regclass AND a.attname = ANY($1::text[]) AND NOT a.attisdropped
        AND a.atttypid = 'timestamp'::regtype
      ORDER BY array_position($1::text[], a.attname::text)`,
    [INSTANT_COLUMNS],
  )
  if (rows.length === 0) return null
  const names = rows.map((r) => r.column_name)
  const fixes = names.map((name) => `ALTER TABLE subscription_processing ALTER COLUMN ${name} TYPE timestamptz USING ${name} AT TIME ZONE 'UTC'`)
  return (
    `subscription_processing keeps ${names.join(', ')} as timestamp without time zone; the scheduler needs timestamptz ` +
      '(its due index and every comparison of instants). No row was changed. Convert them, naming the zone their values ' +
      `were written in ('UTC' below), then run migrate again:\n  ${fixes.join(';\n  ')};`
  )
}

/**
 * Rows an adopted table holds in no status the scheduler knows (NULL, or a word of the host's
 * own): no sweep would ever pick them, and nothing would say so. Checked while adopting only (no
 * journal yet): the scheduler writes none itself.
 */
async function unknownStatuses(client: PoolClient): Promise<string | null> {
  const known = SUBSCRIPTION_STATUSES.map((s) => `'${s}'`).join(', ')
  const { rows } = await client.query<{ id: string; subscription_id: string | null; status: string | null }>(
    `SELECT id::text, subscription_id::text, status::text FROM subscription_processing
      WHERE status IS NULL OR status::text NOT IN (${known})
      ORDER BY subscription_id, id
      LIMIT ${MAX_LISTED + 1}`,
  )
  if (rows.length === 0) return null
  return (
    `subscription_processing has rows in no status the scheduler knows (${SUBSCRIPTION_STATUSES.join(', ')}), which no sweep ` +
      `would ever pick. No row was changed. Give them one (UPDATE subscription_processing SET status = 'pending' WHERE ` +
      `status IS NULL OR status NOT IN (${known}) makes them due at the next sweep), then run migrate again:\n` +
      listed(rows, (r) => `row ${r.id}: subscription_id ${r.subscription_id}, status ${r.status === null ? 'NULL' : JSON.stringify(r.status)}`)
  )
}

/**
 * `completed` rows with no `next_run_at`: the original design's sweep never took them, nor does
 * the scheduler's (a completion is due again at its next slot), so they would wait for good, in
 * silence. Checked while adopting only: the scheduler writes none itself (a row with no slot
 * left is `ended`).
 */
async function unscheduledCompletions(client: PoolClient): Promise<string | null> {
  const { rows } = await client.query<{ id: string; subscription_id: string | null }>(
    `SELECT id::text, subscription_id::text FROM subscription_processing WHERE status = 'completed' AND next_run_at IS NULL
      ORDER BY subscription_id, id LIMIT ${MAX_LISTED + 1}`,
  )
  if (rows.length === 0) return null
  return (
    "subscription_processing has rows 'completed' with no next_run_at, which no sweep would ever pick (nor did the original " +
      "design's). No row was changed. Give them a next run (UPDATE subscription_processing SET next_run_at = now() WHERE " +
      "status = 'completed' AND next_run_at IS NULL makes them due at the next sweep), or end them (SET status = 'ended', " +
      `which a reschedule() undoes), then run migrate again:\n${listed(rows, (r) => `row ${r.id}: subscription_id ${r.subscription_id}`)}`
  )
}

/**
 * A `subscription_processing` that is no table, or has no `subscription_id`, is neither the
 * scheduler's nor the MVP's: another table of that name (a schema of the host's own, first on the
 * search_path). Named with where it was found, not met as a raw "column does not exist".
 */
async function assertProcessingShape(client: PoolClient): Promise<void> {
  const { rows } = await client.query<{ name: string; kind: string; keyed: boolean; path: string }>(
    `SELECT n.nspname || '.' || c.relname AS name, c.relkind::text AS kind, current_setting('search_path') AS path,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'subscription_id' AND NOT a.attisdropped) AS keyed
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass('subscription_processing')`,
  )
  const found = rows[0]
  if (!found || (!RELATION_KINDS[found.kind] && found.keyed)) return
  const what = RELATION_KINDS[found.kind] ?? 'a table with no column subscription_id'
  throw new MigrationError(
    `subscription_processing, found on the search_path (${found.path}) as ${found.name}, is ${what}: neither the scheduler's ` +
      `table nor the MVP's, so it cannot be adopted, and nothing was changed. Rename it, or set the search_path of the ` +
      `scheduler's connections so that the schema meant for its table comes first.`,
  )
}

/**
 * Checks an existing `subscription_processing`, and says whether `migrate()` adopts it: it is
 * there and the scheduler's journal is not.
 *
 * @throws {MigrationError} naming the rows or columns of an existing `subscription_processing` in the migration's way.
 */
export async function assertAdoptable(client: PoolClient): Promise<boolean> {
  const { rows } = await client.query<{ processing: string | null; journal: string | null }>(
    `SELECT to_regclass('subscription_processing')::text AS processing, to_regclass($1)::text AS journal`,
    [TABLES.migrations],
  )
  if (!rows[0]?.processing) return false
  await assertProcessingShape(client)
  const adopting = !rows[0].journal
  // Every problem at once: one round of fixes, not one migrate() per problem.
  const problems: string[] = []
  for (const check of [instantsWithoutZones, duplicateSubscriptions, orphanRows, ...(adopting ? [unknownStatuses, unscheduledCompletions, constraintsInTheWay] : [])]) {
    const problem = await check(client)
    if (problem) problems.push(problem)
  }
  if (problems.length === 1) throw new MigrationError(problems[0]!)
  if (problems.length > 1) {
    throw new MigrationError(
      `${problems.length} problems keep subscription_processing from being migrated, each with its fix below; no row was changed. ` +
        `Fix them all, then run migrate again.\n\n${problems.map((problem, i) => `${i + 1}. ${problem}`).join('\n\n')}`,
      { problems },
    )
  }
  return adopting
}

/** Postgres's codes for a column, relation (table or index) or constraint that already exists. */
const ALREADY_THERE = new Set(['42701', '42P07', '42710'])

/** Columns the scheduler's migrations add, which neither the MVP's table nor a host's has. */
const SCHEDULER_COLUMNS = ['scheduled_for', 'lease_expires_at', 'job_id', 'last_completed_for']

/**
 * Why adopting a `subscription_processing` failed on something a migration adds that is there
 * already, when the table has the scheduler's own columns: it was made from the scheduler's
 * Drizzle tables, not by its migrations nor as the MVP's (a drizzle-kit migration of the host's,
 * generated from a schema file that lists them), or the scheduler's schema was dropped after
 * they ran. Null for any other failure.
 */
export async function adoptedTableTooNew(client: PoolClient, error: unknown): Promise<string | null> {
  const code = (((error as { cause?: unknown }).cause ?? error) as { code?: unknown }).code
  if (typeof code !== 'string' || !ALREADY_THERE.has(code)) return null
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_attribute
      WHERE attrelid = to_regclass('subscription_processing') AND attname = ANY($1::text[]) AND NOT attisdropped`,
    [SCHEDULER_COLUMNS],
  )
  if (rows[0]?.n !== SCHEDULER_COLUMNS.length) return null
  return (
    "subscription_processing already has what the scheduler's migrations add to it, but their journal is missing: " +
    "it is not the MVP's table, and they did not make it. It comes from the scheduler's own Drizzle tables: a drizzle-kit " +
    "migration of yours generated from a schema file that lists them (`export … from 'pg-subscription-scheduler/schema'`; " +
    '`tablesFilter` keeps `push` away from them, not `generate`), or the schema ' +
    `${SCHEDULER_SCHEMA} was dropped after the migrations ran. Keep the scheduler's tables out of the files drizzle-kit ` +
    'reads (import them where you query), take their CREATE TABLE out of your migration, then drop subscription_processing ' +
    '(rename it aside first if it holds rows you want) and migrate again.'
  )
}
