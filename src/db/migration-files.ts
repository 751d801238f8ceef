/**
 * Reads a drizzle-kit migrations folder (`meta/_journal.json` and one `<tag>.sql` per entry) the
 * way drizzle-orm's `readMigrationFiles` does, without importing drizzle-orm. The journal rows
 * migrate() writes come from here, so the split, the timestamps and the hashes must match it
 * exactly: otherwise `drizzle-kit migrate` and this library would disagree on what is applied.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MigrationError } from '../errors.js'

/** What drizzle-kit writes between two statements of one migration file. */
export const STATEMENT_BREAKPOINT = '--> statement-breakpoint'

export interface Migration {
  /** The file's name without `.sql`, e.g. `0000_init`. */
  tag: string
  /** The file split on {@link STATEMENT_BREAKPOINT}, each piece as is (comments and blank lines kept). */
  sql: string[]
  /** The journal's `when`: the journal row's `created_at`, and what decides whether it is pending. */
  folderMillis: number
  /** sha256 (hex) of the file's text: the journal row's `hash`. */
  hash: string
}

interface JournalEntry {
  tag: string
  when: number
}

/** sha256 of the text as drizzle-orm computes it: of the file decoded as UTF-8, re-encoded. */
export function migrationHash(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** One migration from the text of its file. */
export function parseMigration(tag: string, folderMillis: number, text: string): Migration {
  return { tag, sql: text.split(STATEMENT_BREAKPOINT), folderMillis, hash: migrationHash(text) }
}

function readJournal(folder: string): JournalEntry[] {
  const path = join(folder, 'meta', '_journal.json')
  if (!existsSync(path)) {
    throw new MigrationError(`Cannot find ${path}: \`migrationsFolder\` must be a folder written by drizzle-kit (its SQL files and meta/_journal.json).`)
  }
  const journal = JSON.parse(readFileSync(path, 'utf8')) as { entries?: unknown }
  const entries = journal.entries
  const valid = (e: unknown): e is JournalEntry =>
    typeof e === 'object' && e !== null && typeof (e as JournalEntry).tag === 'string' && typeof (e as JournalEntry).when === 'number'
  if (!Array.isArray(entries) || !entries.every(valid)) {
    throw new MigrationError(`${path} is not a drizzle-kit journal: expected { entries: [{ tag, when }, …] }.`)
  }
  return entries
}

/** Every migration the folder's journal lists, in journal order. */
export function readMigrationFolder(folder: string): Migration[] {
  return readJournal(folder).map(({ tag, when }) => {
    const path = join(folder, `${tag}.sql`)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      throw new MigrationError(`The journal in ${folder} lists ${tag}, but ${path} cannot be read.`, { cause: error })
    }
    return parseMigration(tag, when, text)
  })
}
