/**
 * Session settings a host may set per database or per role that would make the scheduler read
 * wrong data without an error: checked at `start()` (and by `migrate()` for the tables' names),
 * so that they are refused with their fix instead of met as stuck rows or a second call.
 *
 * - `DateStyle`: node-postgres reads timestamps in the ISO style only. In another style every
 *   instant it reads is null, and every job of a run fails on it until its lease runs out.
 * - `search_path`: the scheduler's `subscription_processing` and the host's `subscriptions` are
 *   named without a schema, so the first schema on the path that holds one is used. A second
 *   table of the same name earlier on the path (a staging copy, say) would be read and written
 *   instead, and every subscription called again with other keys.
 */
import { quoteIdent } from './executor.js'
import type { Executor } from './executor.js'
import { ConfigurationError } from '../errors.js'

/** The tables found through the search_path. */
const UNQUALIFIED = ['subscriptions', 'subscription_processing']

/**
 * @throws {ConfigurationError} when the connection's DateStyle is not ISO, naming the statements
 *   that set it.
 */
export async function assertIsoDates(db: Executor): Promise<void> {
  const { rows } = await db.query<{ style: string; db: string; role: string }>(
    `SELECT current_setting('DateStyle') AS style, current_database() AS db, current_user AS role`,
  )
  const { style, db: database, role } = rows[0]!
  if (/^\s*ISO\b/i.test(style)) return
  const order = /\b(DMY|YMD)\b/i.exec(style)?.[1]?.toUpperCase() ?? 'MDY'
  throw new ConfigurationError(
    'DateStyle',
    `the database sessions use DateStyle '${style}', and node-postgres reads timestamps in the ISO style only (it would read ` +
      `every instant as null, so no run could finish). Set the ISO style for the scheduler's connections: ` +
      `ALTER DATABASE ${quoteIdent(database)} SET DateStyle = 'ISO, ${order}' (or ALTER ROLE ${quoteIdent(role)} SET …), ` +
      `or give the pool \`options: '-c DateStyle=ISO'\` (PgBouncer does not pass that on: behind it, alter the database or role, then ` +
      `RECONNECT in its console so that its server connections take the new setting).`,
  )
}

/**
 * @throws {ConfigurationError} when a table the scheduler names without a schema is found in more
 *   than one schema of the search_path, naming the one it would use.
 */
export async function assertOneOnSearchPath(db: Executor): Promise<void> {
  const { rows } = await db.query<{ name: string; schemas: string[]; path: string }>(
    `SELECT c.relname AS name, array_agg(n.nspname::text ORDER BY array_position(current_schemas(false), n.nspname)) AS schemas,
            current_setting('search_path') AS path
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND n.nspname = ANY(current_schemas(false))
      GROUP BY c.relname HAVING count(*) > 1
      ORDER BY array_position($1::text[], c.relname::text)`,
    [UNQUALIFIED],
  )
  const twice = rows[0]
  if (!twice) return
  const [first, ...others] = twice.schemas.map((schema) => `${schema}.${twice.name}`)
  const lost = twice.name === 'subscriptions'
    ? `the subscriptions in ${others.join(', ')} would never be processed`
    : `the slots recorded in ${others.join(', ')} would go unseen, and their subscriptions be called again`
  throw new ConfigurationError(
    'search_path',
    `${twice.name} is in more than one schema of the search_path (${twice.path}): ${[first, ...others].join(', ')}. ` +
      `The scheduler names it without a schema, so it would use ${first}, and ${lost}. Keep one on the path: rename or move ` +
      `the other, or set the search_path of the scheduler's connections (ALTER ROLE … SET search_path, or the pool's ` +
      `\`options: '-c search_path=…'\`, which PgBouncer does not pass on) so that only the schema meant for it holds one.`,
  )
}
