/**
 * The examples are part of the test suite, so they cannot rot: each is type-checked against the
 * built package and run as its own process (tsx, as an adopter would) on a database of its own,
 * and judged by its exit code, its output and what it left in the database.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PgBoss } from 'pg-boss'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ensureBuilt, repoRoot } from '../scripts/ensure-build.js'
import { createEmptyDatabase, createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

/** The repository's Node (24): the examples need require(esm) and run as adopters run them. */
const NODE = existsSync(join(repoRoot, 'node_modules/.bin/node')) ? join(repoRoot, 'node_modules/.bin/node') : process.execPath
const TOKEN = 'example-admin-token-0123456789abcdef'

// Nothing of this test process (its DATABASE_URL, vitest's worker settings) leaks into a child.
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(VITEST|NODE_OPTIONS$|DATABASE_URL$|SUBSCRIPTION_WORKER_URL$|PORT$)/.test(key)),
  )
  return { ...base, FORCE_COLOR: '0', NO_COLOR: '1', ...env }
}

interface Run {
  child: ChildProcess
  output(): string
  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const running = new Set<ChildProcess>()
afterAll(() => {
  for (const child of running) child.kill('SIGKILL') // only after a failed test left one behind
})

function start(args: string[], env: Record<string, string>): Run {
  const child = spawn(NODE, args, { cwd: repoRoot, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  child.stdout!.on('data', (chunk) => {
    stdout += chunk
    waiters.forEach((check) => check())
  })
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
      waiters.forEach((check) => check())
    })
  })
  const output = () => `--- stdout\n${stdout}\n--- stderr\n${stderr}`
  return {
    child,
    output,
    exited,
    waitFor: (pattern, timeoutMs = 90_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`No output matching ${pattern} within ${timeoutMs} ms.\n${output()}`)), timeoutMs)
        const finish = (error?: Error, match?: RegExpMatchArray) => {
          clearTimeout(timer)
          waiters.delete(check)
          if (error) reject(error)
          else resolve(match!)
        }
        const check = () => {
          const match = stdout.match(pattern)
          if (match) finish(undefined, match)
          else if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`Exited before printing ${pattern}.\n${output()}`))
        }
        waiters.add(check)
        check()
      }),
  }
}

function example(file: string, env: Record<string, string>): Run {
  return start(['--import', 'tsx', join('examples', file)], env)
}

/** Waits for the process to end, with a deadline, and returns its exit code. */
async function exitCode(run: Run, timeoutMs = 90_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Still running after ${timeoutMs} ms.\n${run.output()}`)), timeoutMs)
  })
  try {
    const { code, signal } = await Promise.race([run.exited, timeout])
    return signal ? -1 : code
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A stand-in subscription worker: answers 200 to POST /process, or, while `held`, keeps every
 * request open until `release()`.
 */
async function startWorker({ held = false } = {}) {
  const calls: string[] = []
  const waiting = new Set<() => void>()
  const parked: (() => void)[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => {
      calls.push((JSON.parse(body) as { subscriptionId: string }).subscriptionId)
      waiting.forEach((check) => check())
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      if (held) parked.push(answer)
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    waitForCalls: (count: number, timeoutMs = 90_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`The worker got ${calls.length} of ${count} calls within ${timeoutMs} ms.`)), timeoutMs)
        const check = () => {
          if (calls.length < count) return
          clearTimeout(timer)
          waiting.delete(check)
          resolve()
        }
        waiting.add(check)
        check()
      }),
    release: () => parked.splice(0).forEach((answer) => answer()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function statuses(db: TestDatabase): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM subscription_processing GROUP BY 1`)
  return Object.fromEntries(rows.map((r) => [r.status, r.n]))
}

beforeAll(async () => {
  await ensureBuilt() // the examples import the package by name, which resolves to dist/
}, 300_000)

test('the examples type-check against the built package', async () => {
  const run = start([join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'examples/tsconfig.json'], {})
  expect(await exitCode(run, 90_000), run.output()).toBe(0)
}, 120_000)

describe('express-app.ts', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })

  test('serves signups and the admin API, and exits 0 on SIGTERM', async () => {
    const worker = await startWorker()
    const app = example('express-app.ts', { DATABASE_URL: db.url, PORT: '0', ADMIN_TOKEN: TOKEN, SUBSCRIPTION_WORKER_URL: worker.url })
    try {
      const [, port] = await app.waitFor(/Listening on http:\/\/localhost:(\d+)/)
      const base = `http://127.0.0.1:${port}`
      const auth = { authorization: `Bearer ${TOKEN}` }

      const ids: string[] = []
      for (const frequency of ['daily', 'weekly', 'monthly']) {
        const response = await fetch(`${base}/subscriptions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: randomUUID(), frequency, timezone: 'Europe/Berlin' }),
        })
        expect(response.status).toBe(201)
        ids.push(((await response.json()) as { id: string }).id)
      }

      const status = await fetch(`${base}/admin/status`, { headers: auth })
      expect(status.status).toBe(200)
      expect(await status.json()).toMatchObject({ counts: { pending: 3 }, total: 3, due: 3 })
      expect((await fetch(`${base}/admin/status`)).status).toBe(401)
      expect((await fetch(`${base}/admin/status`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401)

      const run = await fetch(`${base}/admin/process-subscriptions`, { method: 'POST', headers: auth })
      expect(run.status).toBe(200)
      expect(await run.json()).toMatchObject({ summary: { processed: 3, successful: 3, failed: 0 } })
      expect([...worker.calls].sort()).toEqual([...ids].sort())
      expect(await statuses(db)).toEqual({ completed: 3 })

      app.child.kill('SIGTERM')
      expect(await exitCode(app), app.output()).toBe(0)
      expect(app.output()).toContain('SIGTERM received: shutting down')
    } finally {
      await worker.close()
    }
  }, 180_000)

  test('refuses to start without an admin token', async () => {
    const app = example('express-app.ts', { DATABASE_URL: db.url, PORT: '0', SUBSCRIPTION_WORKER_URL: 'http://127.0.0.1:9' })
    expect(await exitCode(app)).not.toBe(0)
    expect(app.output()).toMatch(/ConfigurationError|bearerToken\(\) needs a secret/)
  }, 180_000)
})

describe('standalone-worker.ts', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })

  test('processes a sweep, and on SIGTERM lets in-flight calls finish before exiting 0', async () => {
    await seedSubscriptions(db.pool, { count: 3 })
    const worker = await startWorker({ held: true })
    const standalone = example('standalone-worker.ts', { DATABASE_URL: db.url, SUBSCRIPTION_WORKER_URL: worker.url })
    try {
      await standalone.waitFor(/Worker ready/)
      // What the cron does when it fires: one job on the sweep queue (default queuePrefix).
      const boss = new PgBoss({ connectionString: db.url, max: 1, supervise: false, schedule: false, migrate: false })
      boss.on('error', () => {})
      await boss.start()
      await boss.send('subscription-scheduler.sweep', {})
      await boss.stop({ graceful: false })

      await worker.waitForCalls(3) // all three calls are now in flight, held by the worker
      standalone.child.kill('SIGTERM')
      await standalone.waitFor(/SIGTERM received: stopping/)
      expect(standalone.child.exitCode).toBeNull() // still draining
      worker.release()

      expect(await exitCode(standalone), standalone.output()).toBe(0)
      expect(standalone.output()).toMatch(/Run [0-9a-f-]{36} \((cron|catch-up)\): 3 processed, 3 succeeded, 0 failed/)
      expect(standalone.output()).toContain('Stopped')
      expect(await statuses(db)).toEqual({ completed: 3 })
    } finally {
      worker.release()
      await worker.close()
    }
  }, 180_000)
})

describe('drizzle-host.ts', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })

  test('enrols inside Drizzle transactions and lists next runs with a join', async () => {
    const run = example('drizzle-host.ts', { DATABASE_URL: db.url })
    expect(await exitCode(run, 60_000), run.output()).toBe(0)
    expect(run.output()).toContain('Signup rolled back (payment declined): no subscription, no schedule.')
    expect(run.output()).toMatch(/: 3 processed, 3 succeeded/)
    expect(run.output()).toMatch(/Next runs:[\s\S]*'weekly'[\s\S]*'completed'/)
    // The rolled-back signup left neither its subscription nor its schedule.
    const { rows } = await db.pool.query(
      `SELECT s.frequency, sp.status, sp.timezone, sp.next_run_at FROM subscriptions s
         LEFT JOIN subscription_processing sp ON sp.subscription_id = s.id ORDER BY s.frequency`,
    )
    expect(rows).toEqual([
      { frequency: 'daily', status: 'completed', timezone: 'Europe/Berlin', next_run_at: expect.any(Date) },
      { frequency: 'monthly', status: 'completed', timezone: 'Asia/Tokyo', next_run_at: expect.any(Date) },
      { frequency: 'weekly', status: 'completed', timezone: 'America/New_York', next_run_at: expect.any(Date) },
    ])
  }, 180_000)
})

describe('custom-worker-client.ts', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })

  test('runs once in-process; a PermanentError fails its slot without retries', async () => {
    const run = example('custom-worker-client.ts', { DATABASE_URL: db.url })
    expect(await exitCode(run, 60_000), run.output()).toBe(0)
    expect(run.output()).toMatch(/: 3 processed, 2 succeeded, 1 failed, 0 retried, in \d+ ms/)
    expect(run.output()).toMatch(/Failed: subscription [0-9a-f-]{36}, attempt 1, final: true: PermanentError: user [0-9a-f-]{36} has no email address/)
    expect(await statuses(db)).toEqual({ completed: 2, failed: 1 })
    const { rows } = await db.pool.query(`SELECT attempt, final FROM subscription_scheduler.failures`)
    expect(rows).toEqual([{ attempt: 1, final: true }])
  }, 180_000)
})

describe('testing-integration.test.ts', () => {
  let db: TestDatabase
  let dir: string
  beforeAll(async () => {
    // Empty: the example creates its host table and lets start() migrate, as a host's suite does.
    db = await createEmptyDatabase()
    dir = mkdtempSync(join(tmpdir(), 'pss-example-vitest-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('passes when run by vitest, as an adopter runs it', async () => {
    const report = join(dir, 'report.json')
    const run = start(
      [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'examples/vitest.config.ts', '--reporter=json', `--outputFile=${report}`],
      { DATABASE_URL: db.url },
    )
    expect(await exitCode(run, 90_000), run.output()).toBe(0)
    const result = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numTotalTests: number }
    expect(result).toMatchObject({ numFailedTests: 0, numPassedTests: 4, numTotalTests: 4 })
  }, 240_000)
})
