/**
 * Why a migration that should apply does not: the journal holds migrations this version does not
 * have, at or below its newest. A database migrated by another build (one between releases, whose
 * migration was rewritten before it was released) has them, and this version's next migration
 * then fails on what that one already did ("column … already exists"). A trial that rolled a
 * fleet onto a newer build from such a build saw only Postgres's error. Journal rows newer than
 * every migration here are a later version's (a rollback of the code): no divergence.
 */
import type { Executor } from './executor.js'
import type { Migration } from './migration-files.js'
import { TABLES } from './names.js'

interface JournalRow {
  hash: string
  created_at: string
}

/** Where a journal row's timestamp falls among `migrations` (sorted by timestamp): the tags on each side. */
function placeOf(at: number, migrations: readonly Migration[]): string {
  const before = migrations.filter((m) => m.folderMillis < at).at(-1)
  const after = migrations.find((m) => m.folderMillis > at)
  if (before && after) return `between ${before.tag} and ${after.tag}`
  return before ? `after ${before.tag}` : `before ${after?.tag ?? 'any of them'}`
}

/** How one journal row differs from `migrations`, or null when it is one of them. */
function describeRow(row: JournalRow, migrations: readonly Migration[]): string | null {
  const at = Number(row.created_at)
  const same = migrations.find((m) => m.folderMillis === at)
  if (same) return same.hash === row.hash ? null : `${same.tag} with other SQL than this version's (hash ${row.hash.slice(0, 12)}…)`
  return `one this version does not have, applied ${placeOf(at, migrations)} (created_at ${at})`
}

/**
 * A sentence on the journal rows `migrations` do not account for, for a migration's failure, or
 * null when there are none (the failure has another cause).
 */
export async function describeJournalDivergence(db: Executor, migrations: readonly Migration[]): Promise<string | null> {
  const sorted = [...migrations].sort((a, b) => a.folderMillis - b.folderMillis)
  const newest = sorted.at(-1)?.folderMillis ?? 0
  const { rows } = await db.query<JournalRow>(
    `SELECT hash, created_at::text FROM ${TABLES.migrations} WHERE created_at IS NOT NULL AND created_at <= $1 ORDER BY created_at`,
    [newest],
  )
  const differing = rows.map((row) => describeRow(row, sorted)).filter((d): d is string => d !== null)
  if (differing.length === 0) return null
  return (
    `The journal ${TABLES.migrations} records ${differing.length === 1 ? 'a migration' : `${differing.length} migrations`} this version's do not match: ` +
    `${differing.join('; ')}. Another build of pg-subscription-scheduler, whose migrations differ from this one's (a build between releases), ` +
    "migrated this database, so this version's migrations do not apply to it as they are. Keep running that build, or compare its drizzle/ " +
    "folder with this version's, apply what differs by hand, and make the journal's rows this version's (hash and created_at, as drizzle-kit writes them)."
  )
}
