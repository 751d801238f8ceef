/**
 * A second application that shares a database with one already installed: the scheduler's schema
 * and table names are fixed, so a database holds one installation. Under separate roles the
 * second one met `permission denied for schema subscription_scheduler` (the first's schema, which
 * it may not use), and, once granted that, a list of grants on the first's run history and
 * failures: the fix it was pointed to was to let one application read the other's. Found by the
 * schema's owner and this user's own tables: the schema is there, this user may not use it, and
 * no `subscription_processing` stands beside this user's `subscriptions`.
 */
import type { Executor } from './executor.js'
import { MigrationError } from '../errors.js'
import { SCHEDULER_SCHEMA } from './names.js'

/**
 * @throws {MigrationError} when this database holds another installation's schema, which this
 *   user may not use, and none of this user's own: it needs a database of its own.
 */
export async function assertNoOtherInstallation(db: Executor): Promise<void> {
  const { rows } = await db.query<{ owner: string; me: string; path: string }>(
    `SELECT pg_get_userbyid(n.nspowner) AS owner, current_user AS me, current_setting('search_path') AS path
       FROM pg_namespace n
      WHERE n.nspname = $1 AND NOT has_schema_privilege(n.oid, 'USAGE') AND to_regclass('subscription_processing') IS NULL`,
    [SCHEDULER_SCHEMA],
  )
  const other = rows[0]
  if (!other) return
  throw new MigrationError(
    `This database holds another installation of the scheduler: its schema ${SCHEDULER_SCHEMA} belongs to the role "${other.owner}", which ` +
      `the database user "${other.me}" may not use, and no subscription_processing stands beside this user's subscriptions (search_path ${other.path}). ` +
      "A database holds one installation (the scheduler's schema and table names are fixed): give this application a database of its own. " +
      `If it is that same installation, run its migrations as "${other.owner}", then grant this user what the README's "Database privileges" section lists.`,
  )
}
