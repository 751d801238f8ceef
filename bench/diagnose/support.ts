/**
 * What every diagnosis script shares: its numeric flags, and a scratch database (a clone of a
 * freshly migrated template on the bench's server) that is dropped, with the template and the
 * server, whatever happens.
 */
import { cloneDatabase, createTemplate, openServer } from '../lib/database.js'
import type { BenchDatabase } from '../lib/database.js'

/** `--name <positive integer>` from the command line, or `fallback`. */
export function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name)
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback
  return Number.isSafeInteger(value) && value > 0 ? value : fallback
}

/** Runs `fn` on a scratch database, then drops it, its template, and stops the server. */
export async function withScratchDatabase(fn: (db: BenchDatabase) => Promise<void>): Promise<void> {
  const server = await openServer()
  const template = await createTemplate(server)
  const db = await cloneDatabase(server, template)
  try {
    await fn(db)
  } finally {
    await db.drop()
    await template.drop()
    await server.stop()
  }
}
