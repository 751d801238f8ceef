/**
 * A database the library has not migrated answers with a raw `relation … does not exist`. Every
 * public call that reads or writes the scheduler's tables turns that into a
 * {@link NotMigratedError}, which says how to create them.
 */
import type { Executor } from './executor.js'
import { NotMigratedError } from '../errors.js'
import { SCHEDULER_SCHEMA } from './names.js'

const OUR_RELATION = new RegExp(`(?:relation|schema) "((?:${SCHEDULER_SCHEMA}(?:\\.\\w+)?)|subscription_processing)" does not exist`)

/** The error to throw instead of `error`: a NotMigratedError when one of our tables is missing. */
export function explainMissingTables(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code
  const message = (error as { message?: unknown } | null)?.message
  if ((code !== '42P01' && code !== '3F000') || typeof message !== 'string') return error
  const match = OUR_RELATION.exec(message)
  return match ? new NotMigratedError(`${match[1]} does not exist`, { cause: error }) : error
}

/** Runs `fn`, explaining a missing table of ours. */
export async function explainingMissingTables<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    throw explainMissingTables(error)
  }
}

/** Throws a NotMigratedError unless the scheduler's tables exist (a start with `migrate: false`). */
export async function assertMigrated(db: Executor): Promise<void> {
  const { rows } = await db.query<{ processing: string | null; runs: string | null }>(
    `SELECT to_regclass('subscription_processing')::text AS processing, to_regclass('${SCHEDULER_SCHEMA}.runs')::text AS runs`,
  )
  const missing = !rows[0]?.processing ? 'subscription_processing' : !rows[0]?.runs ? `${SCHEDULER_SCHEMA}.runs` : null
  if (missing) throw new NotMigratedError(`${missing} does not exist, and this scheduler was started with migrate: false`)
}
