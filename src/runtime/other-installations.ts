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
  /** Its instances running now, as host:pid. */
  instances: string[]
  /** Its last report, running or not. */
  last_seen: Date
}

/**
 * The schedulers other than (`scope`, `bossSchema`) with instances on this database: running, or
 * stopped or silent within the last day.
 */
async function otherSchedulers(db: Executor, scope: string, bossSchema: string): Promise<OtherScheduler[]> {
  const { rows } = await db.query<OtherScheduler>(
    `SELECT scope, boss_schema, max(seen_at) AS last_seen,
            coalesce(array_agg(host || ':' || pid ORDER BY started_at) FILTER (WHERE ${RUNNING_INSTANCE}), '{}') AS instances
       FROM ${TABLES.instances}
      -- A row an older version wrote names no schema: under this prefix, it is taken for this scheduler's.
      WHERE (scope <> $1 OR boss_schema <> $2) AND seen_at >= now() - interval '1 day'
      GROUP BY scope, boss_schema ORDER BY scope, boss_schema`,
    [scope, bossSchema],
  )
  return rows
}

function named(other: OtherScheduler, bossSchema: string): string {
  const schema = other.boss_schema !== null && other.boss_schema !== bossSchema ? `, bossSchema '${other.boss_schema}'` : ''
  return `queuePrefix '${other.scope}'${schema}`
}

function describe(other: OtherScheduler, bossSchema: string): string {
  const instances = other.instances.slice(0, NAMED).join(', ')
  const more = other.instances.length > NAMED ? ` and ${other.instances.length - NAMED} more` : ''
  return `${named(other, bossSchema)} (${instances}${more})`
}

const ONE_INSTALLATION =
  "A queuePrefix or bossSchema names queues, not data: every scheduler on a database sweeps the same subscription_processing table, so each " +
  "calls its own worker with the other's due subscriptions. One database holds one installation: give each job a database " +
  'of its own, or give every instance the same queuePrefix and bossSchema.'

/**
 * Warns when schedulers other than this one run on its database, or ran there within the last day
 * (stopped for a deploy, say: a trial's second prefix started while the first was down, and took
 * its subscriptions with nothing said). A failed read says nothing.
 */
export async function warnOtherSchedulers(db: Executor, scope: string, bossSchema: string, logger: Logger): Promise<void> {
  const others = await otherSchedulers(db, scope, bossSchema).catch(() => [])
  const running = others.filter((o) => o.instances.length > 0)
  if (running.length > 0) {
    logger.warn(`Instances of another scheduler run on this database: ${running.map((o) => describe(o, bossSchema)).join('; ')}. ${ONE_INSTALLATION}`)
    return
  }
  if (others.length === 0) return
  const recent = others.map((o) => `${named(o, bossSchema)} (last seen ${o.last_seen.toISOString()})`).join('; ')
  logger.warn(
    `Another scheduler ran on this database within the last day, none of its instances running now: ${recent}. If it starts again, ${ONE_INSTALLATION[0]!.toLowerCase()}${ONE_INSTALLATION.slice(1)} ` +
      '(If this queuePrefix or bossSchema replaces that one, nothing is wrong: this is said for a day after its last instance stopped.)',
  )
}
