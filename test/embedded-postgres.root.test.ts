/**
 * The embedded database as root: PostgreSQL then runs as the `postgres` user, who cannot enter a
 * project kept in a private directory (a clone under /root, a `mktemp -d` folder). The demo must
 * still run there, and a setup that cannot work must end in one error saying why, not a crash.
 * Real processes and a real server; every wait is on a child's exit, with a deadline.
 */
import { execFile, spawn } from 'node:child_process'
import { chmod, cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHILD = join(ROOT, 'test/support/embedded-postgres-child.ts')
/** Copies the binaries, runs initdb and starts Node through tsx: slow on a busy two-core machine. */
const SLOW_MS = 240_000

const notRoot = process.getuid?.() !== 0 ? 'not running as root: only root runs the server as another user' : undefined

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** The child sees what a user would set: no DATABASE_URL, no test runner variables. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(VITEST|NODE_OPTIONS$|DATABASE_URL$)/.test(key)))
  // tsx's `#!/usr/bin/env node` then runs the same Node as this test.
  base.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`
  return { ...base, NO_COLOR: '1', ...env }
}

/** Runs `tsx <args>` in `cwd` to its exit; past the deadline, kills its process group and says so. */
async function runTsx(cwd: string, args: string[], env: Record<string, string> = {}, timeoutMs = SLOW_MS - 20_000): Promise<Exit> {
  const child = spawn(join(cwd, 'node_modules/.bin/tsx'), args, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const timer = setTimeout(() => {
    stderr += `\n[test] killed after ${timeoutMs} ms`
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  }, timeoutMs)
  try {
    return await new Promise<Exit>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
    })
  } finally {
    clearTimeout(timer)
  }
}

const show = (exit: Exit) => `exit ${exit.code ?? exit.signal}\n--- stdout\n${exit.stdout}\n--- stderr\n${exit.stderr}`

describe.skipIf(notRoot !== undefined)(`embedded PostgreSQL as root${notRoot ? ` (skipped: ${notRoot})` : ''}`, { timeout: SLOW_MS }, () => {
  const made: string[] = []
  /** A new directory under the system's temporary directory, removed after the file. */
  async function scratch(mode: number): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'pss-root-test-'))
    made.push(dir)
    await chmod(dir, mode)
    return dir
  }
  afterAll(async () => {
    for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true })
  })

  describe('the demo, from a copy of the project in a 0700 directory', () => {
    let project: string
    beforeAll(async () => {
      // mkdtemp makes the directory 0700: the postgres user cannot enter it, as with a clone under /root.
      project = join(await scratch(0o700), 'project')
      // The project as a clone has it: not .git, nor the directories git ignores, which other test
      // files and CI write and delete while this one copies (a vanished .readme-check failed a copy).
      const ignored = (await readFile(join(ROOT, '.gitignore'), 'utf8')).split('\n').filter((line) => line.endsWith('/')).map((line) => line.slice(0, -1))
      const skip = new Set(['.git', ...ignored].map((name) => join(ROOT, name)))
      await cp(ROOT, project, { recursive: true, filter: (source) => !skip.has(source) })
      // Hard links: real files inside the private directory (a symlink would lead back to reachable originals).
      await promisify(execFile)('cp', ['-al', join(ROOT, 'node_modules'), join(project, 'node_modules')])
    })

    test('exits 0 and prints its run summary', async () => {
      const exit = await runTsx(project, ['src/cli/demo.ts'])
      expect(exit.code, show(exit)).toBe(0)
      expect(exit.stdout, show(exit)).toContain('Run summary')
      expect(exit.stdout).toMatch(/The worker saw \d+ calls/)
      expect(exit.stderr).not.toMatch(/Unhandled 'error' event|EACCES/)
    })
  })

  test('a temporary directory the postgres user cannot enter: one error naming it and the fix, no crash', async () => {
    const privateTmp = await scratch(0o700)
    const exit = await runTsx(ROOT, [CHILD], { TMPDIR: privateTmp })
    expect(exit.code, show(exit)).toBe(1)
    const { name, message } = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { name: string; message: string }
    expect(name).toBe('EmbeddedPostgresError')
    expect(message).toContain(privateTmp)
    expect(message).toMatch(/TMPDIR/)
    expect(exit.stderr).not.toMatch(/Unhandled|EACCES/)
  })

  test('two processes starting at once with no copy of the binaries yet: both run, one complete copy is left', async () => {
    const sharedTmp = await scratch(0o755)
    const [first, second] = await Promise.all([runTsx(ROOT, [CHILD], { TMPDIR: sharedTmp }), runTsx(ROOT, [CHILD], { TMPDIR: sharedTmp })])
    for (const exit of [first, second]) expect(exit.code, show(exit)).toBe(0)
    const left = (await readdir(sharedTmp)).filter((name) => name.startsWith('pss-'))
    // One cache directory; no staging copies left behind, no data directories.
    expect(left).toEqual([expect.stringMatching(/^pss-embedded-postgres-/)])
    const postgresUid = Number((await promisify(execFile)('id', ['-u', 'postgres'])).stdout)
    for (const exit of [first, second]) {
      const server = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { answer: number; exe: string; uid: number }
      // The backend runs the cached copy, as the postgres user.
      expect(server).toEqual({ answer: 1, exe: join(sharedTmp, left[0]!, 'bin/postgres'), uid: postgresUid })
    }
  })
})
