/**
 * Every ```ts block in the README is type-checked against the library's source, as an adopter
 * would write it (importing from 'pg-subscription-scheduler'), so the docs cannot rot.
 */
import { execFile } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

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

test('every TypeScript block in the README type-checks against the library', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const snippets = blocks(readme)
  expect(snippets.length).toBeGreaterThan(5)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'ambient.d.ts'), AMBIENT)
  for (const [i, { line, code }] of snippets.entries()) {
    // A block with no import or export is still a module, so its names don't collide.
    await writeFile(join(dir, `block-${String(i).padStart(2, '0')}-line-${line}.ts`), `${code}\nexport {}\n`)
  }
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
  // Each error names the block's file, which carries the README line it starts on.
  expect(result.output).toBe('')
  expect(result.ok).toBe(true)
  await rm(dir, { recursive: true, force: true })
}, 120_000)
