/**
 * What `migrate()` checks before it changes anything: that the host's table is there, and that a
 * `subscription_processing` it adopts (the MVP's, or one a host made) can take the unique index
 * and the cascading foreign key the scheduler relies on. Rows in the way are named, never
 * deleted: they may hold data the host wants to keep.
 */
import type { PoolClient } from 'pg'
import { MigrationError } from '../errors.js'
import { HOST_TABLE_SHAPE } from './names.js'

/** How many rows an error lists before it summarises. */
const MAX_LISTED = 20

/** The rows an error names (a query asked for one more than it lists), a line each. */
function listed<T>(rows: T[], line: (row: T) => string): string {
  const more = rows.length > MAX_LISTED ? '\n  …and more' : ''
  return rows.slice(0, MAX_LISTED).map((row) => `  ${line(row)}`).join('\n') + more
}

export async function assertHostTable(client: PoolClient): Promise<void> {
  const { rows } = await client.query<{ table: string | null }>(`SELECT to_regclass('subscriptions')::text AS table`)
  if (rows[0]?.table) return
  throw new MigrationError(
    'The host table `subscriptions` does not exist (looked it up on the connection\'s search_path). ' +
      `pg-subscription-scheduler reads \`${HOST_TABLE_SHAPE}\` and never creates it: ` +
      'create it in your own migrations first, or set search_path so it is visible.',
  )
}

/**
 * The unique index on `subscription_id` cannot be built over duplicate rows. Deleting one would
 * lose data the host may need, so the migration stops and names them instead.
 */
async function assertNoDuplicateSubscriptions(client: PoolClient): Promise<void> {
  const { rows: exists } = await client.query<{ index: string | null }>(
    `SELECT to_regclass('subscription_processing_subscription_id_key')::text AS index`,
  )
  if (exists[0]?.index) return
  const { rows } = await client.query<{ subscription_id: string; ids: string[] }>(
    `SELECT subscription_id::text, array_agg(id::text ORDER BY created_at NULLS LAST, id) AS ids
       FROM subscription_processing
      GROUP BY subscription_id
     HAVING count(*) > 1
      ORDER BY subscription_id
      LIMIT ${MAX_LISTED + 1}`,
  )
  if (rows.length === 0) return
  throw new MigrationError(
    'subscription_processing holds more than one row for the same subscription_id, so the unique index ' +
      'the scheduler needs cannot be created. No row was changed. Keep one row per subscription ' +
      `(delete or merge the others), then run migrate again:\n${listed(rows, (r) => `subscription_id ${r.subscription_id}: rows ${r.ids.join(', ')}`)}`,
  )
}

/**
 * Rows whose subscription does not exist, where the cascading foreign key is missing (an adopted
 * table without it): migration 0006 cannot add the key over them.
 */
async function assertNoOrphanRows(client: PoolClient): Promise<void> {
  const { rows: keyed } = await client.query<{ keyed: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = 'subscription_id'
        WHERE c.conrelid = 'subscription_processing'::regclass AND c.contype = 'f' AND c.confdeltype = 'c'
          AND c.confrelid = 'subscriptions'::regclass AND c.conkey = ARRAY[a.attnum]
     ) AS keyed`,
  )
  if (keyed[0]?.keyed) return
  const { rows } = await client.query<{ id: string; subscription_id: string }>(
    `SELECT sp.id::text, sp.subscription_id::text
       FROM subscription_processing sp
      WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = sp.subscription_id)
      ORDER BY sp.subscription_id, sp.id
      LIMIT ${MAX_LISTED + 1}`,
  )
  if (rows.length === 0) return
  throw new MigrationError(
    'subscription_processing has rows whose subscription_id is not in subscriptions, so the foreign key the ' +
      'scheduler needs (ON DELETE CASCADE, so that a deleted subscription takes its row along) cannot be added. ' +
      'No row was changed. Delete those rows (DELETE FROM subscription_processing sp WHERE NOT EXISTS ' +
      `(SELECT 1 FROM subscriptions s WHERE s.id = sp.subscription_id)), or restore their subscriptions, then run migrate again:\n` +
      listed(rows, (r) => `row ${r.id}: subscription_id ${r.subscription_id}`),
  )
}

/** The MVP's instants: the scheduler's indexes and comparisons need them with a time zone. */
const INSTANT_COLUMNS = ['next_run_at', 'last_run_at', 'created_at', 'updated_at']

/**
 * Instants kept as `timestamp` (without time zone), as a hand-made or Drizzle-made table may have
 * them: the due index cannot be built over them, and what zone they were written in only the host
 * knows, so they are named with the statement that converts them, not converted.
 */
async function assertInstantsHaveZones(client: PoolClient): Promise<void> {
  const { rows } = await client.query<{ column_name: string }>(
    `SELECT a.attname AS column_name FROM pg_attribute a
      WHERE a.attrelid = 'subscription_processing'::regclass AND a.attname = ANY($1::text[]) AND NOT a.attisdropped
        AND a.atttypid = 'timestamp'::regtype
      ORDER BY array_position($1::text[], a.attname::text)`,
    [INSTANT_COLUMNS],
  )
  if (rows.length === 0) return
  const names = rows.map((r) => r.column_name)
  const fixes = names.map((name) => `ALTER TABLE subscription_processing ALTER COLUMN ${name} TYPE timestamptz USING ${name} AT TIME ZONE 'UTC'`)
  throw new MigrationError(
    `subscription_processing keeps ${names.join(', ')} as timestamp without time zone; the scheduler needs timestamptz ` +
      '(its due index and every comparison of instants). No row was changed. Convert them, naming the zone their values ' +
      `were written in ('UTC' below), then run migrate again:\n  ${fixes.join(';\n  ')};`,
  )
}

/** @throws {MigrationError} naming the rows or columns of an existing `subscription_processing` in the migration's way. */
export async function assertAdoptable(client: PoolClient): Promise<void> {
  const { rows } = await client.query<{ table: string | null }>(`SELECT to_regclass('subscription_processing')::text AS table`)
  if (!rows[0]?.table) return
  await assertInstantsHaveZones(client)
  await assertNoDuplicateSubscriptions(client)
  await assertNoOrphanRows(client)
}
