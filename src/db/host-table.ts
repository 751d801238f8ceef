/**
 * The host's `subscriptions`, as the scheduler needs it: a table (its rows reference it with a
 * foreign key) with the columns the sweeps read, of types they can use, found on the search_path
 * of the scheduler's connections. Checked by `migrate()` before it changes anything, so a table of
 * another shape, or one the connection cannot see, is named with its fix.
 */
import { MigrationError } from '../errors.js'
import type { Executor } from './executor.js'
import { HOST_TABLE_SHAPE } from './names.js'

/** The host columns the scheduler reads, and the base type each must have (null: any type). */
const HOST_COLUMNS: Record<string, { type: string | null; fix: string }> = {
  id: { type: 'uuid', fix: 'id uuid PRIMARY KEY' },
  user_id: { type: null, fix: 'user_id uuid' },
  frequency: { type: null, fix: "frequency text NOT NULL DEFAULT 'daily'" },
  active: { type: 'boolean', fix: 'active boolean NOT NULL DEFAULT true' },
}

export const RELATION_KINDS: Record<string, string> = { v: 'a view', m: 'a materialized view', f: 'a foreign table', S: 'a sequence', i: 'an index', c: 'a composite type' }

/**
 * The host's `subscriptions` must exist, be a table (the scheduler's rows reference it with a
 * foreign key), and have the columns the sweeps read, of types they can use. Checked before
 * anything is created, so a host table of another shape is named with its fix, not met later
 * as a raw SQL error in every sweep.
 */
export async function assertHostTable(client: Executor): Promise<void> {
  const { rows } = await client.query<{ table: string | null; kind: string | null; columns: Record<string, string> | null; id_unique: boolean }>(
    `SELECT c.oid::regclass::text AS table, c.relkind::text AS kind,
            EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = 'id'
                     WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL AND i.indnkeyatts = 1
                       AND i.indkey[0] = a.attnum) AS id_unique,
            (SELECT json_object_agg(a.attname, format_type(COALESCE(NULLIF(t.typbasetype, 0), t.oid), NULL))
               FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
       FROM pg_class c WHERE c.oid = to_regclass('subscriptions')`,
  )
  const host = rows[0]
  if (!host?.table) {
    throw new MigrationError(
      'The host table `subscriptions` does not exist (looked it up on the connection\'s search_path). ' +
        `pg-subscription-scheduler reads \`${HOST_TABLE_SHAPE}\` and never creates it: ` +
        ((await hostTableElsewhere(client)) ?? 'create it in your own migrations first, or set search_path so it is visible.'),
    )
  }
  const kind = RELATION_KINDS[host.kind ?? '']
  if (kind) {
    throw new MigrationError(
      `The host relation \`subscriptions\` is ${kind}: the scheduler's rows reference it with a foreign key, so it must be ` +
        `a table (plain or partitioned) with ${HOST_TABLE_SHAPE}.`,
    )
  }
  const columns = host.columns ?? {}
  const missing = Object.keys(HOST_COLUMNS).filter((name) => !(name in columns))
  if (missing.length > 0) {
    const plural = missing.length > 1
    throw new MigrationError(
      `The host table \`subscriptions\` lacks the column${plural ? 's' : ''} ${missing.map((m) => `\`${m}\``).join(', ')}, which the ` +
        `scheduler reads (${HOST_TABLE_SHAPE}): add ${plural ? 'them' : 'it'}: ${missing.map((m) => `\`${HOST_COLUMNS[m]!.fix}\``).join(', ')}.`,
    )
  }
  for (const [name, { type, fix }] of Object.entries(HOST_COLUMNS)) {
    if (type === null || columns[name] === type) continue
    const why = name === 'id' ? `and the scheduler's rows reference it as ${type}` : `not ${type}`
    throw new MigrationError(
      `\`subscriptions.${name}\` is ${columns[name]}, ${why}: the scheduler needs \`${fix}\`` +
        (name === 'id' ? ', or at least a uuid column named id with a unique index of its own (a key of another type then goes by another name).' : '.'),
    )
  }
  if (!host.id_unique) {
    throw new MigrationError(
      '`subscriptions.id` has no unique index of its own (a primary key, or a UNIQUE constraint on id alone), and the ' +
        "scheduler's rows reference it with a foreign key, which needs one: make it the primary key, or add UNIQUE (id).",
    )
  }
}

/**
 * Where a `subscriptions` the search_path does not show is, when there is one: in a schema this
 * user may not use (a role given the README's grants, with the host's tables in a schema of their
 * own), or in one that is not on the search_path. Null when there is none: it is to be created.
 */
export async function hostTableElsewhere(db: Executor): Promise<string | null> {
  const { rows } = await db.query<{ schema: string; usable: boolean; path: string; who: string }>(
    `SELECT quote_ident(n.nspname) AS schema, has_schema_privilege(n.oid, 'USAGE') AS usable,
            current_setting('search_path') AS path, quote_ident(current_user) AS who
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = 'subscriptions' AND c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 2, n.nspname`,
  )
  const found = rows[0]
  if (!found) return null
  const schema = found.schema
  if (!found.usable) {
    return `there is one in the schema ${schema}, which the user ${found.who} may not use: as its owner, ` +
      `GRANT USAGE ON SCHEMA ${schema} TO ${found.who} (and GRANT SELECT ON ${schema}.subscriptions TO ${found.who}), ` +
      `and keep ${schema} on this user's search_path (now ${found.path}).`
  }
  return `there is one in the schema ${schema}, which is not on the connection's search_path (${found.path}): put it there ` +
    `(ALTER ROLE ${found.who} SET search_path = ${schema}, public; or the pool's \`options: '-c search_path=${schema},public'\`).`
}

