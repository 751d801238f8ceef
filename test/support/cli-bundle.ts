/**
 * The CLI the CLI tests run: src/cli/main.ts bundled once per test run, as tsup bundles the
 * published CLI (the package's dependencies left external), instead of compiling the sources
 * again with tsx's loader in every child process. A child then starts in about 0.6 s instead of
 * 1.8–4 s, and the CLI test files start a few hundred of them.
 *
 * The bundle is written under node_modules/.cache, inside the project: Node resolves its
 * imports (citty, pg, pg-boss…) from the project's node_modules, as the sources' imports are.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface CliBundle {
  /** The bundled CLI's path, for `node <path> …`. */
  path: string
  remove(): Promise<void>
}

export async function bundleCli(): Promise<CliBundle> {
  const dir = join(ROOT, 'node_modules/.cache', `pss-test-cli-${randomBytes(4).toString('hex')}`)
  await mkdir(dir, { recursive: true })
  const path = join(dir, 'cli.mjs')
  await build({
    entryPoints: [join(ROOT, 'src/cli/main.ts')],
    outfile: path,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  })
  return { path, remove: () => rm(dir, { recursive: true, force: true }) }
}
