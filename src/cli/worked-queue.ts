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
