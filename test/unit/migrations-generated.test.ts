/**
 * The migrations compiled into the package must be drizzle/ exactly as drizzle-orm reads it: the
 * same statements, timestamps and hashes, or a database migrated by `drizzle-kit migrate` and one
 * migrated by this library would disagree on what is applied.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { afterAll, describe, expect, test } from 'vitest'
import { GENERATED_MODULE, MIGRATIONS_FOLDER, renderMigrationsModule } from '../../scripts/generate-migrations.js'
import { MigrationError } from '../../src/errors.js'
import { readMigrationFolder } from '../../src/db/migration-files.js'
import type { Migration } from '../../src/db/migration-files.js'
import { MIGRATIONS } from '../../src/db/migrations.generated.js'

const scratch = mkdtempSync(join(tmpdir(), 'pss-migrations-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** What the journal table keeps of a migration, plus the statements it runs. */
const essence = (m: { sql: string[]; folderMillis: number; hash: string }) => ({ sql: m.sql, folderMillis: m.folderMillis, hash: m.hash })

/** A drizzle-kit style folder with one migration per entry of `files` (tag -> raw bytes). */
function writeFolder(name: string, files: Record<string, Buffer | string>): string {
  const folder = join(scratch, name)
  mkdirSync(join(folder, 'meta'), { recursive: true })
  const entries = Object.keys(files).map((tag, idx) => ({ idx, version: '7', when: 1_700_000_000_000 + idx, tag, breakpoints: true }))
  writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify({ version: '7', dialect: 'postgresql', entries }))
  for (const [tag, content] of Object.entries(files)) writeFileSync(join(folder, `${tag}.sql`), content)
  return folder
}

describe('src/migrations.generated.ts', () => {
  test('is up to date with drizzle/ (run `npm run migrations:generate` after changing the SQL)', () => {
    const expected = renderMigrationsModule(readMigrationFolder(MIGRATIONS_FOLDER))
    expect(readFileSync(GENERATED_MODULE, 'utf8')).toBe(expected)
  })

  test("holds every migration of drizzle/ as drizzle-orm's readMigrationFiles reads it", () => {
    const drizzle = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER })
    expect(MIGRATIONS.length).toBeGreaterThan(0)
    expect(MIGRATIONS.map(essence)).toEqual(drizzle.map(essence))
  })

  test('lists migrations in journal order, with strictly increasing timestamps', () => {
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] }
    expect(MIGRATIONS.map((m) => m.tag)).toEqual(journal.entries.map((e) => e.tag))
    // migrate() applies what is newer than the last applied timestamp: an older one would be skipped.
    const millis = MIGRATIONS.map((m) => m.folderMillis)
    expect(millis).toEqual([...millis].sort((a, b) => a - b))
    expect(new Set(millis).size).toBe(millis.length)
  })
})

describe('readMigrationFolder', () => {
  // Text the generator must carry through a template literal unchanged, and bytes whose hash
  // depends on decoding them exactly as drizzle-orm does.
  const awkward = {
    '0000_crlf': 'CREATE TABLE a (id int);\r\n--> statement-breakpoint\r\nCREATE TABLE b (id int);\r\n',
    '0001_quotes': "SELECT `x`, '${not_a_placeholder}', $$ \\ $$, E'\\n';\n--> statement-breakpoint\nSELECT 1;",
    '0002_unicode': '-- naïve café 😀 \u2028 \u0007\nSELECT 1;',
    '0003_bom_and_bad_utf8': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('SELECT 1; -- '), Buffer.from([0xc3, 0x28, 0xff])]),
    '0004_no_breakpoint': 'SELECT 1',
  }

  test("agrees with drizzle-orm's readMigrationFiles on statements, timestamps and hashes", () => {
    const folder = writeFolder('awkward', awkward)
    expect(readMigrationFolder(folder).map(essence)).toEqual(readMigrationFiles({ migrationsFolder: folder }).map(essence))
  })

  test('the generated module evaluates to exactly what was read', async () => {
    const folder = writeFolder('round-trip', awkward)
    const read = readMigrationFolder(folder)
    const module = join(scratch, 'round-trip.generated.ts')
    writeFileSync(module, renderMigrationsModule(read))
    const { MIGRATIONS: evaluated } = (await import(pathToFileURL(module).href)) as { MIGRATIONS: Migration[] }
    expect(evaluated).toEqual(read)
  })

  test('a folder without a journal is a MigrationError naming the journal it looked for', () => {
    const error = (() => {
      try {
        readMigrationFolder(join(scratch, 'nowhere'))
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as Error).message).toContain(join(scratch, 'nowhere', 'meta', '_journal.json'))
  })

  test('a journal entry without its SQL file is a MigrationError naming the file', () => {
    const folder = writeFolder('missing-sql', { '0000_here': 'SELECT 1;' })
    const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: object[] }
    journal.entries.push({ idx: 1, version: '7', when: 1_700_000_000_001, tag: '0001_gone', breakpoints: true })
    writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify(journal))
    expect(() => readMigrationFolder(folder)).toThrow(MigrationError)
    expect(() => readMigrationFolder(folder)).toThrow(join(folder, '0001_gone.sql'))
  })
})
