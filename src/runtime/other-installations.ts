/**
 * Says so as an instance starts when instances of another scheduler run on the same database:
 * another `queuePrefix`, or another `bossSchema`. Those name queues, not data: every scheduler on
 * a database sweeps the one `subscription_processing` table, so each takes the other's due
 * subscriptions and calls its own worker with them. A trial ran two jobs (digests and syncs) on
 * one database under two prefixes, and another trial's test files, each with its own prefix on
 * one database, lost their subscriptions to each other's sweeps, with nothing said.
 */
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import type { Logger } from '../observe/logger.js'
import { RUNNING_INSTANCE } from '../records/instances.js'

/** Instances named per scheduler, at most; the rest are counted. */
const NAMED = 3

interface OtherScheduler {
  scope: string
  boss_schema: string | null
  instances: string[]
}

/** The schedulers other than (`scope`, `bossSchema`) with instances running on this database. */
async function otherSchedulers(db: Executor, scope: string, bossSchema: string): Promise<OtherScheduler[]> {
  const { rows } = await db.query<OtherScheduler>(
    `SELECT scope, boss_schema, array_agg(host || ':' || pid ORDER BY started_at) AS instances
       FROM ${TABLES.instances}
      -- A row an older version wrote names no schema: under this prefix, it is taken for this scheduler's.
      WHERE ${RUNNING_INSTANCE} AND (scope <> $1 OR boss_schema <> $2)
      GROUP BY scope, boss_schema ORDER BY scope, boss_schema`,
    [scope, bossSchema],
  )
  return rows
}

function describe(other: OtherScheduler, bossSchema: string): string {
  const schema = other.boss_schema !== null && other.boss_schema !== bossSchema ? `, bossSchema '${other.boss_schema}'` : ''
  const named = other.instances.slice(0, NAMED).join(', ')
  const more = other.instances.length > NAMED ? ` and ${other.instances.length - NAMED} more` : ''
  return `queuePrefix '${other.scope}'${schema} (${named}${more})`
}

/** Warns when schedulers other than this one run on its database; a failed read says nothing. */
export async function warnOtherSchedulers(db: Executor, scope: string, bossSchema: string, logger: Logger): Promise<void> {
  const others = await otherSchedulers(db, scope, bossSchema).catch(() => [])
  if (others.length === 0) return
  logger.warn(
    `Instances of another scheduler run on this database: ${others.map((o) => describe(o, bossSchema)).join('; ')}. A queuePrefix or ` +
      "bossSchema names queues, not data: every scheduler on a database sweeps the same subscription_processing table, so each " +
      "calls its own worker with the other's due subscriptions. One database holds one installation: give each job a database " +
      'of its own, or give every instance the same queuePrefix and bossSchema.',
  )
}
