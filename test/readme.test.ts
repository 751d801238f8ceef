/**
 * Every ```ts block in the README and in docs/ is type-checked against the library's source, as an
 * adopter would write it (importing from 'pg-subscription-scheduler'), so the docs cannot rot.
 */
import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'
import { OPTION_KEYS } from '../src/config/resolve-options.js'
import { createTestDatabase } from './support/database.js'

const root = new URL('..', import.meta.url).pathname
const dir = join(root, '.readme-check')

// Names a README snippet may use without defining, as the surrounding prose introduces them.
const AMBIENT = `
import type { Pool, PoolClient } from 'pg'
declare global {
  const pool: Pool
  const client: PoolClient
  const subscriptionId: string
  const userId: string
}
export {}
`

function blocks(markdown: string): { line: number; code: string }[] {
  const found: { line: number; code: string }[] = []
  const fence = /^```ts\n([\s\S]*?)^```$/gm
  for (let match = fence.exec(markdown); match; match = fence.exec(markdown)) {
    found.push({ line: markdown.slice(0, match.index).split('\n').length, code: match[1]! })
  }
  return found
}

/** The README and the pages in docs/, as paths from the repository's root. */
async function docPages(): Promise<string[]> {
  const pages = (await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)
  return ['README.md', ...pages.sort()]
}

test('every TypeScript block in the README and docs/ type-checks against the library', async () => {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'ambient.d.ts'), AMBIENT)
  const counts: Record<string, number> = {}
  for (const page of await docPages()) {
    const snippets = blocks(await readFile(join(root, page), 'utf8'))
    counts[page] = snippets.length
    const name = page.replace(/\W+/g, '-')
    for (const [i, { line, code }] of snippets.entries()) {
      // A block with no import or export is still a module, so its names don't collide.
      await writeFile(join(dir, `${name}-block-${String(i).padStart(2, '0')}-line-${line}.ts`), `${code}\nexport {}\n`)
    }
  }
  expect(counts['README.md']).toBeGreaterThan(5)
  expect(counts['docs/operating.md']).toBeGreaterThan(0)
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../tsconfig.json',
      compilerOptions: {
        noUnusedLocals: false,
        paths: {
          'pg-subscription-scheduler': ['../src/index.ts'],
          'pg-subscription-scheduler/admin': ['../src/admin/index.ts'],
          'pg-subscription-scheduler/schema': ['../src/schema.ts'],
          'pg-subscription-scheduler/testing': ['../src/testing.ts'],
        },
        types: ['node'],
      },
      include: ['./*.ts'],
    }),
  )
  const tsc = join(root, 'node_modules/.bin/tsc')
  const result = await promisify(execFile)(tsc, ['-p', join(dir, 'tsconfig.json')], { cwd: root }).then(
    () => ({ ok: true, output: '' }),
    (error: { stdout?: string }) => ({ ok: false, output: error.stdout ?? String(error) }),
  )
  // Each error names the block's file, which carries its page and the line it starts on.
  expect(result.output).toBe('')
  expect(result.ok).toBe(true)
  await rm(dir, { recursive: true, force: true })
}, 120_000)

/** The README section that starts at `heading`, up to the next heading of the same level. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`${heading}\n`)
  expect(start, `README has a "${heading}" section`).toBeGreaterThanOrEqual(0)
  const level = heading.split(' ')[0]!
  const next = markdown.indexOf(`\n${level} `, start + heading.length)
  return markdown.slice(start, next === -1 ? undefined : next)
}

test('the options table documents every option the types accept, and no other', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const table = section(readme, '### `createSubscriptionScheduler(pool, options?)`')
  const documented = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]!)
  expect(documented.sort()).toEqual(Object.keys(OPTION_KEYS).sort())
})

test('the "Testing your integration" snippet runs as printed: one failure, then the retry', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const [snippet] = blocks(section(readme, '## Testing your integration'))
  expect(snippet).toBeDefined()
  const db = await createTestDatabase()
  const code = snippet!.code
    .replace(/from 'pg-subscription-scheduler'/g, `from '${join(root, 'src/index.ts')}'`)
    .replace(/from 'pg-subscription-scheduler\/testing'/g, `from '${join(root, 'src/testing.ts')}'`)
  const runDir = join(root, '.readme-run')
  await mkdir(runDir, { recursive: true })
  const file = join(runDir, `testing-snippet-${process.pid}.ts`)
  // What the snippet takes from its surroundings: a pool on a database with the host's table.
  await writeFile(file, `import pg from 'pg'\nconst pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })\n${code}\nawait pool.end()\n`)
  try {
    const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/tsx'), [file], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.url, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      timeout: 90_000,
    })
    const [calls, ...rest] = stdout.trim().split('\n')
    expect(calls).toBe('2')
    expect(rest.join('\n')).toContain('will retry')
  } finally {
    await rm(file, { force: true })
  }
}, 120_000)

test('each "Cadences" example prints what its → line says', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const examples = blocks(section(readme, '### Cadences'))
  expect(examples.length).toBeGreaterThanOrEqual(9)
  const runDir = join(root, '.readme-run')
  await mkdir(runDir, { recursive: true })
  const file = join(runDir, `cadences-${process.pid}.ts`)
  // One file runs every example in turn, each in a block of its own: tsx starts once.
  const bodies = examples.map(({ code }) => `{\n${code.replace(/^import .*$/gm, '')}\n}`)
  await writeFile(file, `import { upcomingRuns } from '${join(root, 'src/index.ts')}'\n${bodies.join('\n')}\n`)
  try {
    const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/tsx'), [file], {
      cwd: root,
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      timeout: 60_000,
    })
    const printed = stdout.trim().split('\n')
    const promised = examples.map(({ code }) => /^\/\/ → (.*)$/m.exec(code)?.[1])
    expect(printed).toEqual(promised)
  } finally {
    await rm(file, { force: true })
  }
}, 90_000)

/** The page's text outside fenced code blocks, where a `](…)` is prose and not code. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```$/gm, '')
}

/** GitHub's anchor for a heading: lower case, punctuation but hyphens dropped, spaces as hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const headings = [...prose(markdown).matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]!)
  return new Set(headings.map((h) => h.toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-')))
}

test('every link between the README, docs/ and the source tree reaches a file, and its anchor a heading', async () => {
  const pages = await docPages()
  const broken: string[] = []
  for (const page of pages) {
    const text = prose(await readFile(join(root, page), 'utf8'))
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)|\bsrc="([^"]+)"/g)].map((m) => (m[1] ?? m[2])!)
    for (const target of targets.filter((t) => !/^[a-z]+:/.test(t))) {
      const [path, anchor] = target.split('#') as [string, string | undefined]
      const file = path === '' ? page : normalize(join(dirname(page), path))
      if (file.startsWith('..') || !existsSync(join(root, file))) {
        broken.push(`${page}: ${target} (no file ${file})`)
      } else if (anchor && file.endsWith('.md') && !anchorsOf(await readFile(join(root, file), 'utf8')).has(anchor)) {
        broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`)
      }
    }
  }
  expect(broken).toEqual([])
})
