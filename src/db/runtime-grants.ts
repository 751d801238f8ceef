/**
 * What a running scheduler reads and writes, checked at `start()`: a user missing one grant would
 * otherwise start, then fail at its first sweep or settle, where an outcome it cannot record sends
 * its job back to call the worker again. Each missing privilege is named with the GRANT that gives
 * it (the README's "Database privileges" lists them all).
 */
import type { Executor } from './executor.js'
import { quoteIdent } from './executor.js'
import { MigrationError } from '../errors.js'
import { SCHEDULER_SCHEMA, TABLES } from './names.js'
import { assertNoOtherInstallation } from './other-installation.js'

/** The columns of the host's `subscriptions` the scheduler reads: SELECT on these alone is enough. */
export const HOST_COLUMNS = ['id', 'user_id', 'frequency', 'active'] as const

/** At most this many GRANTs are written out; the README's list covers the rest. */
const LISTED = 12

interface Missing {
  /** The statement that gives it, as the owner would run it (without `TO <user>`). */
  grant: string
}

/**
 * Every privilege the user lacks: USAGE on the two schemas; read and write on their tables and the
 * sequences behind their ids; read, insert and update on `subscription_processing`; read on
 * `subscriptions` (or on its columns the scheduler reads); EXECUTE on pg-boss's functions.
 */
async function missingPrivileges(db: Executor, bossSchema: string): Promise<Missing[]> {
  const { rows } = await db.query<{ grant: string }>(
    `WITH schemas AS (SELECT unnest($1::text[]) AS name),
     relations AS (
       SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name, c.relkind
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        -- Partitions are reached through their parent, whose privileges Postgres checks: a queue
        -- partitioned later (by the host's own pg-boss queues, say) asks for no grant of its own.
        WHERE n.nspname IN (SELECT name FROM schemas) AND c.relkind IN ('r', 'p', 'S') AND NOT c.relispartition
       UNION ALL SELECT to_regclass('subscription_processing'), 'subscription_processing', 'r'
     ),
     wanted AS (
       SELECT r.oid, r.name, r.relkind, p.priv
         FROM relations r
        -- subscription_processing's rows are never deleted by the scheduler: a host's deleted
        -- subscription takes its row along by the foreign key, which acts as the table's owner.
        CROSS JOIN LATERAL unnest(CASE WHEN r.relkind = 'S' THEN ARRAY['USAGE', 'SELECT']
                                       WHEN r.name = 'subscription_processing' THEN ARRAY['SELECT', 'INSERT', 'UPDATE']
                                       ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'] END) AS p(priv)
        -- The migrations' journal is only read at run time (to find migrations left to apply).
        WHERE r.oid IS NOT NULL AND r.name <> '${TABLES.migrations}_id_seq' AND (r.name <> '${TABLES.migrations}' OR p.priv = 'SELECT')
       UNION ALL SELECT to_regclass('subscriptions'), 'subscriptions', 'r', 'SELECT'
     )
     SELECT format('GRANT USAGE ON SCHEMA %I', s.name) AS grant, 0 AS rank, s.name AS name
       FROM schemas s WHERE to_regnamespace(s.name) IS NOT NULL AND NOT has_schema_privilege(s.name, 'USAGE')
     UNION ALL
     SELECT format('GRANT %s ON %s%s', string_agg(w.priv, ', ' ORDER BY array_position(ARRAY['USAGE', 'SELECT', 'INSERT', 'UPDATE', 'DELETE'], w.priv)), CASE WHEN w.relkind = 'S' THEN 'SEQUENCE ' ELSE '' END, w.name),
            CASE WHEN w.name LIKE quote_ident($2) || '.%' THEN 2 ELSE 1 END, w.name
       FROM wanted w
      WHERE w.oid IS NOT NULL AND NOT CASE WHEN w.relkind = 'S' THEN has_sequence_privilege(w.oid, w.priv)
                                           -- The host's table: the columns the scheduler reads will do (its others may hold a card token).
                                           WHEN w.name = 'subscriptions' THEN has_table_privilege(w.oid, 'SELECT') OR (
                                             SELECT count(*) FROM pg_attribute a
                                              WHERE a.attrelid = w.oid AND a.attname IN (${HOST_COLUMNS.map((c) => `'${c}'`).join(', ')}) AND NOT a.attisdropped
                                                AND has_column_privilege(w.oid, a.attnum, 'SELECT')) = ${HOST_COLUMNS.length}
                                           ELSE has_table_privilege(w.oid, w.priv) END
      GROUP BY w.name, w.relkind
     UNION ALL
     SELECT format('GRANT EXECUTE ON FUNCTION %I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), 3, p.proname
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $2 AND NOT has_function_privilege(p.oid, 'EXECUTE')
     ORDER BY 2, 3 -- the schemas, then the scheduler's own tables, then pg-boss's`,
    [[SCHEDULER_SCHEMA, bossSchema], bossSchema],
  )
  return rows
}

/**
 * @throws {MigrationError} naming the user, each privilege it lacks as a GRANT, and the README's
 * list, when the user cannot read or write all that a running scheduler does.
 */
export async function assertRuntimeGrants(db: Executor, bossSchema: string): Promise<void> {
  const missing = await missingPrivileges(db, bossSchema)
  if (missing.length === 0) return
  // Not grants on another application's history: a database of its own.
  await assertNoOtherInstallation(db)
  const { rows } = await db.query<{ user: string; unmigrated: boolean; no_boss: boolean; creates: boolean }>(
    `SELECT current_user AS user, to_regnamespace($1) IS NULL AS unmigrated, to_regnamespace($2) IS NULL AS no_boss,
            has_database_privilege(current_database(), 'CREATE') AS creates`,
    [SCHEDULER_SCHEMA, bossSchema],
  )
  const name = rows[0]?.user ?? 'current_user'
  const user = /^[a-z_][a-z0-9_]*$/.test(name) ? name : quoteIdent(name)
  const listed = missing.slice(0, LISTED).map((m) => `  ${m.grant} TO ${user};`)
  if (missing.length > LISTED) listed.push(`  … and ${missing.length - LISTED} more, which the README's grants cover.`)
  // The README's grants name pg-boss's schema: they fail as a whole until it is there.
  const bossFirst = rows[0]?.no_boss && !rows[0].unmigrated && !rows[0].creates
    ? `pg-boss's schema ${bossSchema} is not in this database yet, and this user may not create it: install it first, as the owner ` +
      `(pg-subscription-scheduler migrate, or migrate(pool, { bossSchema: '${bossSchema}' }); a migrate() without bossSchema installs ` +
      "the scheduler's tables only). The README's grants name that schema, and fail as a whole until it exists. Then: "
    : ''
  throw new MigrationError(
    `${bossFirst}The database user ${user} lacks ${missing.length} privilege${missing.length === 1 ? '' : 's'} a running scheduler needs ` +
      "(it would start, then fail to claim or record work). As the tables' owner, grant them (the README's \"Database " +
      `privileges\" section has the full list, which also covers tables a later version adds):\n${listed.join('\n')}` +
      // Before the first migration the list holds only the host's tables: the scheduler's come with it.
      (rows[0]?.unmigrated && !rows[0].creates
        ? "\nThe scheduler's tables are not in this database yet, and this user may not create them: run the migrations as the owner " +
          "first (pg-subscription-scheduler migrate), then grant the README's list, which covers the tables they create."
        : ''),
  )
}
