/**
 * What to check when the database could not be reached at all: a wrong host or port, a database
 * name that does not exist, a user or password refused. Said by `start()` (in the host's log) and
 * by the CLI, which otherwise show only the driver's bare message.
 */
import type { Logger } from '../observe/logger.js'
import { codesOf, isTransientDbError } from './transient.js'

/**
 * What to check when a connection could not be had, for someone who set the connection up
 * (`where`: "DATABASE_URL", "the pool's connection settings"); null for any other error.
 */
export function connectionHint(error: unknown, where: string): string | null {
  const codes = codesOf(error)
  if (codes.has('3D000')) return `the database named does not exist: check the database name in ${where}, or create it`
  if (codes.has('28P01') || codes.has('28000')) return `the server refused the user or its password: check them in ${where} (and the server's pg_hba.conf)`
  // It answered, and refused one more connection: the role's CONNECTION LIMIT, or max_connections.
  if (codes.has('53300')) return "the server is up, but refused one more connection (the role's CONNECTION LIMIT or the server's max_connections is reached): lower the pools' max of the instances, or raise the limit"
  if (isTransientDbError(error)) return `the database did not answer, or went away: check ${where} (host and port) and that PostgreSQL is up`
  return null
}

/**
 * Runs `start()`'s work, and when it fails for want of a connection (a wrong host, port, database
 * or password, met first as the driver's bare message), logs what to check before it rethrows.
 */
export async function saidIfUnreachable<T>(logger: Logger, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    const hint = connectionHint(error, "the pool's connection settings")
    if (hint) logger.error(`start() could not use the database (${(error as Error).message}): ${hint}. Nothing was started.`)
    throw error
  }
}
