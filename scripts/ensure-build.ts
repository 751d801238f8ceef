/**
 * `ensureBuilt()`: builds dist/ once, for the tests that need the package as it ships (the
 * pack and consumer tests, the examples). Vitest runs those files in parallel, and tsup's
 * `clean: true` empties dist/ before writing it, so two builds at once would pull files out from
 * under each other: builds are serialised by a lock directory, and skipped when dist/ is newer
 * than everything it is built from.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('..', import.meta.url))

/** The library's entry points; each is built as ESM and CJS, with types for both. */
export const DIST_ENTRIES = ['index', 'admin', 'schema', 'testing'] as const

/**
 * Every built file package.json points at (exports, main, module, types, bin): a missing one
 * means the build is incomplete, whatever entries are added later.
 */
export function packageTargets(root = repoRoot): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>
  const found = new Set<string>()
  const walk = (value: unknown): void => {
    if (typeof value === 'string') found.add(value.replace(/^\.\//, ''))
    else if (value && typeof value === 'object') Object.values(value).forEach(walk)
  }
  walk([pkg.exports, pkg.main, pkg.module, pkg.types, pkg.bin])
  return [...found].sort()
}

function distFiles(root: string): string[] {
  const entries = DIST_ENTRIES.flatMap((entry) => ['.js', '.cjs', '.d.ts', '.d.cts'].map((ext) => `dist/${entry}${ext}`))
  return [...new Set([...entries, ...packageTargets(root).filter((file) => file.startsWith('dist/'))])]
}
/** What the build reads besides src/ (drizzle/ is compiled into src/db/migrations.generated.ts). */
const BUILD_INPUTS = ['drizzle', 'tsup.config.ts', 'tsconfig.json', 'package.json']

const LOCK_WAIT_MS = 240_000
const LOCK_POLL_MS = 100

function newestMtime(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = stat.mtimeMs // a deleted file only shows in its directory's mtime
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)))
  return newest
}

/** Why dist/ must be rebuilt, or undefined when it is complete and newer than its inputs. */
export function staleReason(root = repoRoot): string | undefined {
  let oldestOutput = Infinity
  for (const file of distFiles(root)) {
    try {
      oldestOutput = Math.min(oldestOutput, statSync(join(root, file)).mtimeMs)
    } catch {
      return `${file} is missing`
    }
  }
  const inputs = ['src', ...BUILD_INPUTS].map((p) => ({ p, mtime: newestMtime(join(root, p)) }))
  const newer = inputs.find((input) => input.mtime > oldestOutput)
  return newer ? `${newer.p} changed after the last build` : undefined
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lockDir), { recursive: true })
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      mkdirSync(lockDir) // atomic: exactly one process creates it
      writeFileSync(join(lockDir, 'pid'), String(process.pid))
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    // A lock left by a process that died (a killed test run) is taken over, not waited out.
    let owner: number | undefined
    try {
      owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'))
    } catch {
      // Created but its pid not written yet: the owner is alive and mid-step.
    }
    if (owner && !isAlive(owner)) {
      rmSync(lockDir, { recursive: true, force: true })
      continue
    }
    if (Date.now() > deadline) {
      throw new Error(`Waited ${LOCK_WAIT_MS / 1000} s for the build lock ${lockDir} (held by pid ${owner}). Remove it if no build is running.`)
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS))
  }
  try {
    return await fn()
  } finally {
    rmSync(lockDir, { recursive: true, force: true })
  }
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve()
      else reject(new Error(`\`${command} ${args.join(' ')}\` exited with ${code}:\n${output}`))
    })
  })
}

/**
 * Runs `npm run build` unless dist/ is complete and up to date. Safe to call from many test
 * files at once: one builds, the others wait for it and then find dist/ fresh.
 */
export async function ensureBuilt(root = repoRoot): Promise<{ built: boolean; reason?: string }> {
  if (staleReason(root) === undefined) return { built: false }
  return await withLock(join(root, 'node_modules', '.cache', 'pg-subscription-scheduler-build.lock'), async () => {
    const reason = staleReason(root) // another file may have built while we waited
    if (reason === undefined) return { built: false }
    await run('npm', ['run', 'build'], root)
    const after = staleReason(root)
    if (after !== undefined) throw new Error(`\`npm run build\` succeeded but dist/ is still incomplete: ${after}.`)
    return { built: true, reason }
  })
}
