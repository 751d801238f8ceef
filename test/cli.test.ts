/**
 * The CLI as users run it: child processes (`tsx src/cli/main.ts …`) on a database of this
 * file's own, calling a real local HTTP worker. Waits are on output and rows, with deadlines.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import { LEAK_WARNING, runCli, SLOW_MS, startCli, startWorker, until } from './support/cli-process.js'
import type { Cli } from './support/cli-process.js'
import { createEmptyDatabase, createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL } from './support/host-schema.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const MISSING_URL = 'DATABASE_URL is not set: export DATABASE_URL=postgres://user:pass@host:5432/db'

const progressLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('processed '))

describe('migrate', { timeout: SLOW_MS }, () => {
  let empty: TestDatabase
  beforeAll(async () => {
    empty = await createEmptyDatabase()
  })

  test('refuses with exit 1 and a one-line reason when the host table is missing; --verbose adds the stack', async () => {
    const plain = await runCli(['migrate'], { DATABASE_URL: empty.url })
    expect(plain.code).toBe(1)
    expect(plain.stderr).toContain('The host table `subscriptions` does not exist')
    expect(plain.stderr).not.toMatch(/^\s+at /m)
    const verbose = await runCli(['migrate', '--verbose'], { DATABASE_URL: empty.url })
    expect(verbose.code).toBe(1)
    expect(verbose.stderr).toMatch(/^\s+at /m)
  })

  test('applies the migrations on an empty database with the host table (exit 0), then has nothing to do', async () => {
    await empty.pool.query(HOST_SUBSCRIPTIONS_DDL)
    const first = await runCli(['migrate'], { DATABASE_URL: empty.url })
    expect(first).toMatchObject({ code: 0, stderr: '' })
    expect(first.stdout).toMatch(/^Applied \d+ migrations? in \d+\.\d s; the scheduler's tables are up to date \(\d+ in total\), and pg-boss's schema \(pgboss\) is ready\.$/m)
    const { rows } = await empty.pool.query(`SELECT to_regclass('subscription_processing')::text AS t`)
    expect(rows[0].t).toBe('subscription_processing')
    const again = await runCli(['migrate'], { DATABASE_URL: empty.url })
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/^Already up to date/m)
    expect(again.stderr).toBe('')

    // A foreign key dropped since (a drizzle-kit push): put back, and said, not "nothing to do".
    await empty.pool.query('ALTER TABLE subscription_processing DROP CONSTRAINT subscription_processing_subscription_id_fkey')
    const repaired = await runCli(['migrate'], { DATABASE_URL: empty.url })
    expect(repaired.code).toBe(0)
    expect(repaired.stdout).toMatch(/^Up to date: \d+ migrations applied before, and what had gone since is put back \(above\); pg-boss's schema \(pgboss\) is ready\.$/m)
    expect(repaired.stderr).toMatch(/^warning: Restored the foreign key subscription_processing_subscription_id_fkey /m)

    // A newer version migrated it since: said, on stderr, with the exit code still 0.
    await empty.pool.query(`INSERT INTO subscription_scheduler.__drizzle_migrations (hash, created_at) VALUES ('newer', $1)`, [Date.now() + 86_400_000])
    const newer = await runCli(['migrate'], { DATABASE_URL: empty.url })
    expect(newer.code).toBe(0)
    expect(newer.stderr).toMatch(/holds 1 migration this version does not know/)
  })
})

describe('usage and configuration errors exit 2', { timeout: SLOW_MS }, () => {
  test('missing DATABASE_URL says how to set it', async () => {
    const { code, stdout, stderr } = await runCli(['status'], {})
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.trim()).toBe(`error: ${MISSING_URL}`)
  })

  test('an unknown command, an unknown flag, a bad number, a bad option, no worker URL', async () => {
    const url = 'postgres://nobody@127.0.0.1:1/none'
    const cases: [string[], RegExp][] = [
      [['bogus'], /Unknown command bogus/],
      [['status', '--jsn'], /Unknown option --jsn/],
      [['run-now', '--worker-url', 'http://127.0.0.1:9', '--concurrency', 'many'], /--concurrency: expected a whole number, got "many"/],
      [['status', '--timezone', 'Mars/Olympus'], /^error: --timezone: unknown time zone "Mars\/Olympus"/m],
      [['worker'], /pass --worker-url http:\/\/worker:8080 or export SUBSCRIPTION_WORKER_URL/],
    ]
    const results = await Promise.all(cases.map(([args]) => runCli(args, { DATABASE_URL: url })))
    for (const [i, [args, message]] of cases.entries()) {
      const { code, stderr } = results[i]!
      expect({ args, code }).toEqual({ args, code: 2 })
      expect(stderr).toMatch(message)
      expect(stderr).not.toMatch(/^\s+at /m)
    }
  })
})

describe('on a migrated database', { timeout: SLOW_MS }, () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })

  test('run-now processes the due subscriptions, prints plain progress and the summary, exits 0', async () => {
    const worker = await startWorker()
    try {
      const ids = await seedSubscriptions(db.pool, { count: 300 })
      const { code, stdout, stderr } = await runCli(['run-now', '--worker-url', worker.url, '--concurrency', '32', '--verbose'], { DATABASE_URL: db.url })
      expect({ code, stderr }).toMatchObject({ code: 0 })
      const lines = progressLines(stderr)
      expect(lines.length).toBeGreaterThanOrEqual(1)
      for (const line of lines) expect(line).toMatch(/^processed \d+\/300 \(\d+%\)$/)
      expect(lines.at(-1)).toBe('processed 300/300 (100%)')
      expect(stderr).not.toContain('\r')
      expect(stderr).not.toContain(LEAK_WARNING)
      expect(stdout).toMatch(/^Run [0-9a-f-]{36} finished in /m)
      expect(stdout).toMatch(/^ {2}processed\s+300$/m)
      expect(stdout).toMatch(/^ {2}successful\s+300$/m)
      expect(stdout).toMatch(/^ {2}failed\s+0$/m)
      expect(new Set(worker.calls)).toEqual(new Set(ids))
      const rows = await rowsFor(db.pool, ids)
      expect(rows.map((r) => r.status)).toEqual(ids.map(() => 'completed'))
    } finally {
      await worker.close()
    }
  })

  test('run-now exits 3 when a subscription fails, and names it', async () => {
    const ids = await seedSubscriptions(db.pool, { count: 5 })
    const rejected = ids[0]!
    const worker = await startWorker({ reject: new Set([rejected]) })
    try {
      const { code, stdout, stderr } = await runCli(['run-now', '--worker-url', worker.url], { DATABASE_URL: db.url })
      expect({ code, stderr }).toMatchObject({ code: 3 })
      expect(stdout).toMatch(/^ {2}processed\s+5$/m)
      expect(stdout).toMatch(/^ {2}successful\s+4$/m)
      expect(stdout).toMatch(/^ {2}failed\s+1$/m)
      expect(stdout).toContain(`  ${rejected}  attempt 1: `)
      const rows = await rowsFor(db.pool, ids)
      const status = Object.fromEntries(rows.map((r) => [r.sid, r.status]))
      expect(status).toEqual(Object.fromEntries(ids.map((id) => [id, id === rejected ? 'failed' : 'completed'])))
    } finally {
      await worker.close()
    }
  })

  test('status --json prints the counts and the last run; status prints a table', async () => {
    const json = await runCli(['status', '--json'], { DATABASE_URL: db.url })
    expect(json.code).toBe(0)
    const status = JSON.parse(json.stdout)
    expect(status.counts).toMatchObject({ completed: 304, failed: 1, pending: 0, queued: 0, processing: 0 })
    expect(status.total).toBe(305)
    expect(status.lastRun).toMatchObject({ processed: 5, successful: 4, failed: 1 })
    // The failed row waits out its delay (5 minutes after it failed) before a sweep tries it again.
    expect(status.due).toBe(0)
    expect(new Date(status.nextFireAt).toISOString()).toBe(status.nextFireAt)
    const text = await runCli(['status', '--cron', '30 6 * * *', '--timezone', 'Europe/Berlin'], { DATABASE_URL: db.url })
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^Subscriptions\s+305 total, 0 due now$/m)
    expect(text.stdout).toMatch(/^ {2}completed\s+304$/m)
    // Nothing registered yet (run-now does not register): the flags are what a start would register.
    expect(text.stdout).toMatch(/^Schedule\s+none registered yet; a start would register cron '30 6 \* \* \*' in Europe\/Berlin /m)
  })
})

describe('worker', { timeout: SLOW_MS }, () => {
  let db: TestDatabase
  let http: Awaited<ReturnType<typeof startWorker>>
  let cli: Cli

  beforeAll(async () => {
    db = await createTestDatabase()
    http = await startWorker()
    cli = startCli(['worker', '--worker-url', http.url, '--cron', '0 0 1 1 *', '--shutdown-timeout', '5000', '--verbose'], { DATABASE_URL: db.url })
    return async () => {
      cli.kill()
      await http.close()
    }
  })

  test('starts, says so on stdout, and registers the cron it was given', async () => {
    await cli.waitForStdout(/^Worker ready/m, 60_000)
    const { rows } = await db.pool.query(`SELECT cron FROM pgboss.schedule WHERE name LIKE '%.sweep'`)
    expect(rows.map((r) => r.cron)).toEqual(['0 0 1 1 *'])
  })

  test('processes a run that run-now --no-wait enqueued; run-now itself calls nobody, and needs no worker URL', async () => {
    const ids = await seedSubscriptions(db.pool, { count: 20 })
    // run-now's own worker URL answers, and counts: the running worker must make every call.
    const own = await startWorker()
    try {
      const enqueue = await runCli(['run-now', '--no-wait', '--worker-url', own.url], { DATABASE_URL: db.url })
      expect(enqueue).toMatchObject({ code: 0 })
      expect(enqueue.stdout).toMatch(/^Run [0-9a-f-]{36} started: 20 subscriptions enqueued;/m)
      const more = await seedSubscriptions(db.pool, { count: 3 })
      ids.push(...more)
      const bare = await runCli(['run-now', '--no-wait'], { DATABASE_URL: db.url })
      expect(bare, bare.stderr).toMatchObject({ code: 0 })
      expect(bare.stdout).toMatch(/^Run [0-9a-f-]{36} started: 3 subscriptions enqueued;/m)
      await until('the enqueued subscriptions to complete', async () => {
        const rows = await rowsFor(db.pool, ids)
        return rows.every((r) => r.status === 'completed') ? rows : undefined
      })
      expect(own.calls).toEqual([])
      expect(ids.every((id) => http.calls.includes(id))).toBe(true)
    } finally {
      await own.close()
    }
  })

  test('stops on SIGTERM and exits 0 within the shutdown timeout', async () => {
    await cli.waitForStdout(/^Worker ready/m, 60_000)
    const stoppedAt = Date.now()
    cli.child.kill('SIGTERM')
    const timer = setTimeout(() => cli.kill(), 20_000)
    const { code, signal } = await cli.exited
    clearTimeout(timer)
    expect({ code, signal, stderr: cli.stderr() }).toMatchObject({ code: 0, signal: null })
    // 5 s of shutdown timeout, and the time a loaded machine takes to start and stop Node.
    expect(Date.now() - stoppedAt).toBeLessThan(20_000)
    expect(cli.stderr()).toContain('SIGTERM received: stopping')
    expect(cli.stderr()).toContain('Pool closed; exiting.')
    expect(cli.stderr()).not.toContain(LEAK_WARNING)
  })
})

describe('worker, a second signal while it stops', { timeout: SLOW_MS }, () => {
  test('exits 1 at once, says so in the log format of its other lines, and leaves the calls in flight claimed', async () => {
    const db = await createTestDatabase()
    // Answers nothing until closed: the calls stay in flight through the graceful stop.
    const held = await startWorker({ holdUntil: new Promise<void>(() => {}) })
    const cli = startCli(['worker', '--worker-url', held.url, '--cron', '0 0 1 1 *', '--shutdown-timeout', '120000'], { DATABASE_URL: db.url })
    try {
      await cli.waitForStdout(/^Worker ready/m, 60_000)
      const ids = await seedSubscriptions(db.pool, { count: 3 })
      expect(await runCli(['run-now', '--no-wait'], { DATABASE_URL: db.url })).toMatchObject({ code: 0 })
      await until('the worker to call the held worker', async () => (held.calls.length > 0 ? true : undefined))
      cli.child.kill('SIGTERM')
      await until('the graceful stop to begin', async () => (cli.stderr().includes('SIGTERM received: stopping') ? true : undefined))
      const killedAt = Date.now()
      cli.child.kill('SIGTERM')
      const timer = setTimeout(() => cli.kill(), 20_000)
      const { code, signal } = await cli.exited
      clearTimeout(timer)
      expect({ code, signal }).toEqual({ code: 1, signal: null })
      // Not the 120 s the graceful stop would have given the held calls.
      expect(Date.now() - killedAt).toBeLessThan(20_000)
      const lines = cli.stderr().trim().split('\n')
      const stopping = lines.find((line) => line.includes('SIGTERM received: stopping'))!
      const tag = stopping.slice(stopping.indexOf(']') + 1, stopping.indexOf('SIGTERM')) // ` [pg-subscription-scheduler] `
      expect(lines.at(-1)).toBe(`[warn]${tag}SIGTERM received again: exiting at once (exit 1), without waiting for the calls in flight; their subscriptions stay claimed until another instance takes them again.`)
      // Abandoned, not settled: their rows stay claimed by the page job, still active in pg-boss,
      // which another instance takes once its heartbeat lapses.
      const rows = await rowsFor(db.pool, held.calls)
      expect(rows.map((r) => r.status)).toEqual(held.calls.map(() => 'queued'))
      const { rows: jobs } = await db.pool.query(`SELECT state FROM pgboss.job WHERE name = 'subscription-scheduler.process'`)
      expect(jobs.map((j) => j.state)).toContain('active')
      expect(held.calls.every((id) => ids.includes(id))).toBe(true)
    } finally {
      cli.kill()
      await held.close()
    }
  })
})

describe('worker, a dropped connection', { timeout: SLOW_MS }, () => {
  test('is said once, by the scheduler, not again by the CLI, and the worker goes on', async () => {
    const db = await createTestDatabase()
    const http = await startWorker()
    const cli = startCli(['worker', '--worker-url', http.url, '--cron', '0 0 1 1 *', '--shutdown-timeout', '5000'], { DATABASE_URL: db.url })
    try {
      await cli.waitForStdout(/^Worker ready/m, 60_000)
      // Every connection the CLI holds, idle ones included, as a restarted server or a proxy drops them.
      await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pg-subscription-scheduler-cli' AND datname = current_database()`)
      await until('the dropped connection to be logged', async () => (/Database connection error/.test(cli.stderr()) ? true : undefined), 30_000)
      expect(cli.stderr()).not.toMatch(/database connection lost/)
      const ids = await seedSubscriptions(db.pool, { count: 3 })
      expect(await runCli(['run-now', '--no-wait'], { DATABASE_URL: db.url })).toMatchObject({ code: 0 })
      await until('the worker to complete a run after the drop', async () => ((await rowsFor(db.pool, ids)).every((r) => r.status === 'completed') ? true : undefined))
    } finally {
      cli.kill()
      await http.close()
    }
  })
})
