/**
 * What `npm publish` would upload: the built entry points, the migrations that `migrate()` reads
 * at run time, and nothing of the repository's sources, tests or CI.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, test } from 'vitest'
import { DIST_ENTRIES, ensureBuilt, packageTargets, repoRoot } from '../scripts/ensure-build.js'

interface PackedFile {
  path: string
  size: number
}

interface PackResult {
  name: string
  version: string
  files: PackedFile[]
  unpackedSize: number
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
let packed: PackResult
let paths: string[]

beforeAll(async () => {
  await ensureBuilt()
  // --ignore-scripts: only the file list is under test, not a prepack hook someone may add.
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  })
  ;[packed] = JSON.parse(stdout) as [PackResult]
  paths = packed.files.map((f) => f.path).sort()
}, 300_000)

describe('npm pack', () => {
  test('packs the package under its own name and version', () => {
    expect(packed).toMatchObject({ name: 'pg-subscription-scheduler', version: pkg.version })
  })

  test('ships only dist/, drizzle/, the docs the README links to, and the files npm always includes', () => {
    const allowed = /^(dist\/|drizzle\/|docs\/[\w-]+\.md$)|^(package\.json|README\.md|LICENSE(\.md|\.txt)?|CHANGELOG\.md)$/
    expect(paths.filter((p) => !allowed.test(p))).toEqual([])
    expect(paths.filter((p) => /^(src|test|examples|scripts|bench|\.ci|\.scratch|node_modules)\//.test(p))).toEqual([])
    // npm 7 and later leave a changelog out unless `files` names it: an upgrader reads it here.
    expect(paths).toContain('CHANGELOG.md')
    // The README's links to docs/ resolve in node_modules (the screenshots stay out: 700 KB).
    const linked = [...readFileSync(join(repoRoot, 'README.md'), 'utf8').matchAll(/\]\((docs\/[\w-]+\.md)(#[^)]*)?\)/g)].map((m) => m[1]!)
    expect(linked.length).toBeGreaterThan(0)
    for (const doc of new Set(linked)) expect(paths).toContain(doc)
    expect(paths).toContain('package.json')
    expect(paths).toContain('README.md')
  })

  // migrate() has them compiled in; the folder ships for review and for drizzle-kit.
  test('ships every migration and its journal in drizzle/', () => {
    const sql = readdirSync(join(repoRoot, 'drizzle')).filter((f) => f.endsWith('.sql'))
    expect(sql.length).toBeGreaterThan(0)
    const journal = JSON.parse(readFileSync(join(repoRoot, 'drizzle/meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] }
    // A journal entry without its .sql file would fail `drizzle-kit migrate` on this folder.
    expect(journal.entries.map((e) => `${e.tag}.sql`).sort()).toEqual(sql.sort())
    expect(paths).toContain('drizzle/meta/_journal.json')
    for (const file of sql) expect(paths).toContain(`drizzle/${file}`)
  })

  test('ships ESM, CJS and types for every entry point', () => {
    for (const entry of DIST_ENTRIES) {
      for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts']) expect(paths).toContain(`dist/${entry}${ext}`)
    }
  })

  test('only the schema entry point loads drizzle-orm, an optional peer', () => {
    expect(pkg.peerDependenciesMeta?.['drizzle-orm']).toEqual({ optional: true })
    const loads = /(from\s*|require\(|import\()["']drizzle-orm/
    const built = paths.filter((p) => /^dist\/[^/]+\.(c?js)$/.test(p))
    expect(built.filter((p) => loads.test(readFileSync(join(repoRoot, p), 'utf8')))).toEqual(['dist/schema.cjs', 'dist/schema.js'])
  })

  test('every file package.json points at (exports, main, types, bin) is in the tarball', () => {
    const referenced = packageTargets()
    expect(referenced).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/schema.js', 'dist/testing.cjs']))
    expect(referenced.filter((file) => !paths.includes(file))).toEqual([])
  })

  test('every bin is an executable script: npm links it as is', () => {
    const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values<string>(pkg.bin ?? {})
    for (const bin of bins) {
      expect(readFileSync(join(repoRoot, bin), 'utf8').split('\n', 1)[0], bin).toBe('#!/usr/bin/env node')
    }
  })

  test('exports map covers ., ./admin, ./schema and ./testing with types first under import and require', () => {
    for (const entry of ['.', './admin', './schema', './testing']) {
      const conditions = pkg.exports[entry]
      expect(Object.keys(conditions), entry).toEqual(['import', 'require'])
      // TypeScript takes the first matching condition: `types` must precede `default`.
      expect(Object.keys(conditions.import), entry).toEqual(['types', 'default'])
      expect(Object.keys(conditions.require), entry).toEqual(['types', 'default'])
      expect(conditions.import.types).toMatch(/\.d\.ts$/)
      expect(conditions.require.types).toMatch(/\.d\.cts$/)
    }
  })

  test("the root's admin re-exports are marked @deprecated, pointing at ./admin, in both declaration files", () => {
    // The TSDoc block right before each declaration is what editors show at the import.
    const tag = String.raw`/\*\* @deprecated [^*]*'pg-subscription-scheduler/admin'[^*]*\*/\s*`
    for (const file of ['dist/index.d.ts', 'dist/index.d.cts']) {
      const text = readFileSync(join(repoRoot, file), 'utf8')
      for (const name of ['createAdminHandler', 'bearerToken', 'AdminHandler', 'AdminHandlerOptions', 'Authorize']) {
        expect(text, `${file}: ${name}`).toMatch(new RegExp(`${tag}(declare const ${name}:|type ${name} =)`))
      }
    }
  })

  test('is marked side-effect free, with a build-and-test prepublish step', () => {
    expect(pkg.sideEffects).toBe(false)
    // drizzle-kit's schema snapshots serve `drizzle-kit generate` in this repository; migrating
    // (migrate(), drizzle-kit migrate) reads the journal and the SQL only.
    expect(pkg.files).toEqual(['dist', 'drizzle', '!drizzle/meta/*_snapshot.json', 'docs/*.md', 'CHANGELOG.md'])
    expect(paths.filter((p) => p.endsWith('_snapshot.json'))).toEqual([])
    expect(pkg.scripts.prepublishOnly).toMatch(/build|check:package/)
    expect(pkg.scripts.prepublishOnly).toMatch(/\btest\b/)
  })

  test('stays small: no stray fixtures or data', () => {
    // Entry points share chunks (one copy of the engine and the error classes); source maps carry
    // positions, not the sources. About 3.5 MiB unpacked (ESM, CJS and the CLI, with their maps,
    // and the docs) in December 2026, growing some 50 KB a week with features: a stray fixture or
    // data file shows as a jump past this.
    expect(packed.unpackedSize).toBeLessThan(4 * 1024 * 1024)
  })
})
