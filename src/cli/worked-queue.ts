/**
 * A command that only enqueues (`--no-wait`) leaves the calls to running instances. Pointed at a
 * queue prefix or pg-boss schema no instance uses (a typo in SUBSCRIPTION_QUEUE_PREFIX or
 * SUBSCRIPTION_BOSS_SCHEMA), it would claim rows into a queue nobody works, stranded for the
 * claim's lease, and install a pg-boss schema nobody reads. It is refused instead, before it
 * touches anything.
 */
import type pg from 'pg'
import type { Logger } from '../observe/logger.js'
import { isOlderTablesError } from '../db/missing-tables.js'
import { SILENT_AFTER_SECONDS, someInstanceWorks } from '../records/instances.js'
import type { InstanceScope } from '../records/instances.js'
import type { SchedulerOptions } from '../index.js'
import { bossTableInstalled, quoteIdent } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import { queueNames } from '../runtime/boss.js'
import { resolvedQuietly, UsageError } from './context.js'

/**
 * @throws {UsageError} when no instance has ever started with the options' queue prefix and
 * pg-boss schema. When some did but none that calls the worker runs now, says so: what the
 * command enqueues waits until one starts (a deploy in progress, or a fleet that is down).
 */
export async function assertWorkedQueue(pool: pg.Pool, options: SchedulerOptions, flag: string): Promise<void> {
  const { queuePrefix, bossSchema } = resolvedQuietly(options)
  const queue = queueNames(queuePrefix).process
  const worked = (await bossTableInstalled(pool, bossSchema, 'queue')) &&
    ((await pool.query(`SELECT 1 FROM ${quoteIdent(bossSchema)}.queue WHERE name = $1`, [queue])).rowCount ?? 0) > 0
  if (worked) return await warnIfNoneRunning(pool, { queuePrefix, bossSchema }, flag, options.logger)
  throw new UsageError(
    `No instance has started with queue prefix '${queuePrefix}' and pg-boss schema '${bossSchema}' on this database, and ${flag} ` +
      'leaves the calls to running instances: nothing would make them. Set SUBSCRIPTION_QUEUE_PREFIX and SUBSCRIPTION_BOSS_SCHEMA ' +
      "to the instances' queuePrefix and bossSchema, start an instance first, or leave out " + `${flag} to make the calls from here.`,
  )
}

async function warnIfNoneRunning(pool: pg.Pool, scope: InstanceScope, flag: string, logger: Logger | undefined): Promise<void> {
  try {
    if (await someInstanceWorks(pool, scope, SILENT_AFTER_SECONDS)) return
  } catch (error) {
    if (isOlderTablesError(error)) return // tables older than the instances' (0012, 0017): instances are not known
    throw error
  }
  logger?.warn(
    `No instance that calls the worker is running on queue prefix '${scope.queuePrefix}' and pg-boss schema '${scope.bossSchema}' now: what this command enqueues with ${flag} ` +
      'waits, queued, until one starts. Leave out ' + `${flag} to make the calls from here.`,
  )
}

/**
 * The queue prefixes other schedulers have used on this database: those of instances that reported
 * (their rows are kept a day after they stop), of published settings, and of pg-boss's queues in
 * `bossSchema`. Empty when none but `queuePrefix`.
 */
export async function otherPrefixes(pool: pg.Pool, { queuePrefix, bossSchema }: InstanceScope): Promise<string[]> {
  const queues = (await bossTableInstalled(pool, bossSchema, 'queue'))
    ? `UNION SELECT left(name, -length('.process')) FROM ${quoteIdent(bossSchema)}.queue WHERE name LIKE '%.process'`
    : ''
  const { rows } = await pool.query<{ scope: string }>(
    `SELECT scope FROM (SELECT scope FROM ${TABLES.instances} UNION SELECT scope FROM ${TABLES.settings} ${queues}) known
      WHERE scope <> $1 ORDER BY scope`,
    [queuePrefix],
  )
  return rows.map((row) => row.scope)
}

/** Whether a scheduler of this queue prefix has been here: an instance, its settings, a pause of its calls, or a queue of its own. */
async function prefixUsed(pool: pg.Pool, { queuePrefix, bossSchema }: InstanceScope): Promise<boolean> {
  const queue = (await bossTableInstalled(pool, bossSchema, 'queue'))
    ? `UNION ALL SELECT 1 FROM ${quoteIdent(bossSchema)}.queue WHERE name = $2`
    : ''
  const { rows } = await pool.query(
    `SELECT 1 FROM ${TABLES.instances} WHERE scope = $1 UNION ALL SELECT 1 FROM ${TABLES.settings} WHERE scope = $1
     UNION ALL SELECT 1 FROM ${TABLES.callsPause} WHERE scope = $1 ${queue} LIMIT 1`,
    queue ? [queuePrefix, queueNames(queuePrefix).process] : [queuePrefix],
  )
  return rows.length > 0
}

/**
 * @throws {UsageError} when the options' queue prefix is none that a scheduler has used on this
 * database, and others are (a SUBSCRIPTION_QUEUE_PREFIX left out, or mistyped): `command` would act
 * on a prefix no instance obeys. A trial's `pause-calls` said "Calls are paused on every instance"
 * while its fleet, under another prefix, went on calling the worker.
 */
export async function assertPrefixInUse(pool: pg.Pool, options: SchedulerOptions, command: string): Promise<void> {
  const scope = resolvedQuietly(options)
  let others: string[]
  try {
    if (await prefixUsed(pool, scope)) return
    others = await otherPrefixes(pool, scope)
  } catch (error) {
    if (isOlderTablesError(error)) return // tables from before instances reported (0012) or calls paused (0022)
    throw error
  }
  if (others.length === 0) return // nothing has run here yet: a pause before the first start holds for it
  throw new UsageError(
    `No scheduler has used queue prefix '${scope.queuePrefix}' on this database, and ${command} acts on that prefix's instances only; ` +
      `instances here have used ${others.map((p) => `'${p}'`).join(', ')}. Set SUBSCRIPTION_QUEUE_PREFIX (and SUBSCRIPTION_BOSS_SCHEMA) to your instances' queuePrefix and bossSchema.`,
  )
}
