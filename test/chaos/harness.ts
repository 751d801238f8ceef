/**
 * What every chaos scenario needs: a database of its own, the misbehaving worker, scheduler
 * instances as child processes (and their cleanup, whatever happens) that reach the database
 * through a proxy, ways to cut every connection and to make the database unreachable, the
 * state of the rows and runs, and a log file with everyone's output.
 */
import { appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, inject } from 'vitest'
import { createTestDatabase } from '../support/database.js'
import type { TestDatabase } from '../support/database.js'
import { prepareChildEntry, SchedulerChild } from './children.js'
import { startDbProxy } from './db-proxy.js'
import type { DbProxy } from './db-proxy.js'
import type { ChildEntry } from './children.js'
import { startWorkerServer } from './worker-server.js'
import type { WorkerServer, WorkerServerOptions } from './worker-server.js'

export interface RunRow {
  id: string
  trigger: string
  claimed: number
  successful: number
  failed: number
  retried: number
  skipped: number
  error: string | null
  swept: boolean
  finished: boolean
}

export interface Progress {
  byStatus: Record<string, number>
  /** Rows queued or processing. */
  open: number
  unfinishedRuns: number
  runs: RunRow[]
}

export interface ChaosHarness {
  readonly db: TestDatabase
  readonly worker: WorkerServer
  readonly entry: ChildEntry
  readonly logFile: string
  readonly children: SchedulerChild[]
  /** Starts an instance; it must keep running until `expectExit` says otherwise. */
  spawn(name: string, options?: { schedulerOptions?: Record<string, unknown>; env?: Record<string, string> }): SchedulerChild
  /** This instance is about to be killed or stopped on purpose. */
  expectExit(child: SchedulerChild): void
  /** Throws, with its stderr, when an instance that must be running has exited. */
  assertNoneCrashed(): void
  /** Cuts every connection to the database but this one's. Returns how many. */
  terminateBackends(): Promise<number>
  /** Makes the database unreachable for the instances (they connect through a proxy) for `ms`. */
  blackout(ms: number): Promise<void>
  progress(): Promise<Progress>
  /** Appends a line to the log file, and to the timeline. */
  mark(event: string): void
  readonly timeline: { atMs: number; event: string }[]
}

export interface HarnessOptions {
  /** Instance options every spawn gets, under its own. */
  schedulerOptions: Record<string, unknown>
  /** Seeds the database before the worker starts; its result goes to `worker`. */
  seed(db: TestDatabase): Promise<WorkerServerOptions>
  label: string
}

/** Registers the hooks of one scenario (call it inside a `describe`) and returns its harness. */
export function chaosHarness(options: HarnessOptions): ChaosHarness {
  const logFile = process.env.CHAOS_LOG_FILE ?? join(tmpdir(), `pss-chaos-${options.label}-${process.pid}-${Date.now()}.log`)
  const children: SchedulerChild[] = []
  const mustRun = new Set<SchedulerChild>()
  const timeline: { atMs: number; event: string }[] = []
  let t0 = Date.now()
  let db: TestDatabase | undefined
  let worker: WorkerServer | undefined
  let entry: ChildEntry | undefined
  let proxy: DbProxy | undefined

  beforeAll(async () => {
    db = await createTestDatabase()
    entry = await prepareChildEntry()
    proxy = await startDbProxy(db.url)
    worker = await startWorkerServer(await options.seed(db))
    t0 = Date.now()
  })
  // Registered here, at collection: vitest ignores an afterAll() called inside a beforeAll(),
  // which is also why this drops the database itself (createTestDatabase's own cleanup is
  // registered that way). No instance may outlive the test or hold the database it drops.
  afterAll(async () => {
    appendFileSync(logFile, `${new Date().toISOString()} test cleanup: stopping ${children.filter((c) => c.running).length} instances\n`)
    await Promise.all(children.map((child) => child.stop(15_000)))
    await worker?.close()
    await proxy?.close()
    entry?.dispose()
    if (db) {
      await db.pool.end().catch(() => {})
      const admin = new pg.Client({ connectionString: inject('pgAdminUrl') })
      await admin.connect()
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`)
      } finally {
        await admin.end()
      }
    }
  })

  const harness: ChaosHarness = {
    get db() {
      return db!
    },
    get worker() {
      return worker!
    },
    get entry() {
      return entry!
    },
    logFile,
    children,
    timeline,
    spawn(name, extra = {}) {
      const child = new SchedulerChild({
        entry: entry!,
        name,
        databaseUrl: proxy!.url,
        workerUrl: worker!.urlFor(name),
        schedulerOptions: { ...options.schedulerOptions, ...extra.schedulerOptions },
        ...(extra.env ? { env: extra.env } : {}),
        logFile,
      })
      children.push(child)
      mustRun.add(child)
      return child
    },
    expectExit(child) {
      mustRun.delete(child)
    },
    assertNoneCrashed() {
      for (const child of mustRun) {
        if (!child.running) throw new Error(`Instance ${child.name} exited on its own (${JSON.stringify(child.exit)}); stderr:\n${child.stderr}`)
      }
    },
    async terminateBackends() {
      const admin = new pg.Client({ connectionString: db!.url })
      await admin.connect()
      try {
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
             FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        )
        return rows[0]!.n
      } finally {
        await admin.end()
      }
    },
    blackout: (ms) => proxy!.blackout(ms),
    async progress() {
      const { rows: statuses } = await db!.pool.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM subscription_processing GROUP BY status ORDER BY status`,
      )
      const { rows: runs } = await db!.pool.query<RunRow>(
        `SELECT id, trigger, claimed, successful, failed, retried, skipped, error,
                sweep_finished_at IS NOT NULL AS swept, finished_at IS NOT NULL AS finished
           FROM subscription_scheduler.runs ORDER BY started_at`,
      )
      const byStatus = Object.fromEntries(statuses.map((s) => [s.status, s.n]))
      return {
        byStatus,
        open: (byStatus.queued ?? 0) + (byStatus.processing ?? 0),
        unfinishedRuns: runs.filter((r) => !r.finished).length,
        runs,
      }
    },
    mark(event) {
      timeline.push({ atMs: Date.now() - t0, event })
      appendFileSync(logFile, `${new Date().toISOString()} test ${event}\n`)
    },
  }
  return harness
}

/** Log lines of an instance by level, warnings and errors grouped by shape (ids and numbers elided). */
export function summarizeLogs(child: SchedulerChild): string[] {
  const shapes = new Map<string, number>()
  for (const { level, message } of child.logs) {
    if (level === 'info') continue
    const shape = `${level}: ${message
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
      .replace(/\d+/g, '<n>')
      .slice(0, 240)}`
    shapes.set(shape, (shapes.get(shape) ?? 0) + 1)
  }
  return [...shapes.entries()].sort((x, y) => y[1] - x[1]).map(([shape, count]) => `${count}× ${shape}`)
}
