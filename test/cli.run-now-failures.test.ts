/**
 * `run-now`'s summary when the run's failures were settled by another instance: its own process
 * saw none of their events. It lists them from the failure history, or, when that has none,
 * gives their count and where to look; never a header over an empty list.
 *
 * Who settles what is arranged, not left to chance: run-now calls a worker that holds its
 * answers while a `worker` process, whose worker rejects every call, settles all the rest.
 */
import { describe, expect, test } from 'vitest'
import { finished, runCli, SLOW_MS, startCli, startWorker, until } from './support/cli-process.js'
import type { Cli } from './support/cli-process.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

const SUBSCRIPTIONS = 8

interface SettledElsewhere {
  code: number | null
  stdout: string
  /** Subscriptions the other instance failed. */
  failedElsewhere: string[]
}

/**
 * Runs `run-now` (concurrency 1: it fetches a few jobs and holds them on its first call), then
 * starts a `worker` that fails every other job of the run, then lets run-now's calls succeed.
 * `beforeRelease` runs once the other instance has settled its share, before the run can end.
 * The hold must end within the worker call's 30 s timeout, or run-now's call would be retried;
 * starting the other instance and failing a few calls takes seconds.
 */
async function runSettledElsewhere(db: TestDatabase, beforeRelease: (runId: string) => Promise<void> = async () => {}): Promise<SettledElsewhere> {
  await seedSubscriptions(db.pool, { count: SUBSCRIPTIONS })
  let release!: () => void
  const own = await startWorker({ holdUntil: new Promise<void>((r) => (release = r)) })
  const other = await startWorker({ reject: true })
  const env = { DATABASE_URL: db.url }
  const runNow = startCli(['run-now', '--worker-url', own.url, '--concurrency', '1'], env)
  let worker: Cli | undefined
  try {
    await until('run-now to make its first call', async () => (own.calls.length > 0 ? true : undefined))
    const run = await until('the sweep to be over', async () => {
      const { rows } = await db.pool.query(`SELECT id, claimed FROM subscription_scheduler.runs WHERE sweep_finished_at IS NOT NULL`)
      return rows[0] as { id: string; claimed: number } | undefined
    })
    // run-now's fetched jobs: its worker loop fetches no more while its call is held.
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE data->>'runId' = $1 AND state = 'active'`, [run.id])
    const heldByRunNow = rows[0].n as number
    expect(heldByRunNow).toBeLessThan(run.claimed)
    // Started only now, so run-now had its pick first; 64 slots call every job it fetches at once.
    worker = startCli(['worker', '--worker-url', other.url, '--concurrency', '64', '--cron', '0 0 1 1 *'], env)
    // The rest fail there: the jobs run-now never fetched, and the rows it shares out to the idle
    // instance (share-out.ts) until it keeps only its held call and at most a round (1) waiting,
    // as its report says: then it shares out nothing more.
    await until('the other instance to fail every row run-now does not keep', async () => {
      const { rows } = await db.pool.query<{ failed: number; kept: number; waiting: number }>(
        `SELECT r.failed, (i.calls ->> 'inFlight')::int + (i.calls ->> 'waiting')::int AS kept, (i.calls ->> 'waiting')::int AS waiting
           FROM subscription_scheduler.runs r, subscription_scheduler.instances i
          WHERE r.id = $1 AND i.concurrency = 1 AND i.stopped_at IS NULL`,
        [run.id],
      )
      const row = rows[0]
      return row && row.waiting <= 1 && row.failed + row.kept === run.claimed ? true : undefined
    })
    await beforeRelease(run.id)
    release()
    const { code, stdout } = await finished(runNow)
    return { code, stdout, failedElsewhere: [...new Set(other.calls)] }
  } finally {
    release()
    runNow.kill()
    worker?.kill()
    await Promise.all([own.close(), other.close()])
  }
}

const listedFailures = (stdout: string) => stdout.split('\n').filter((line) => /^ {2}[0-9a-f-]{36} {2}attempt /.test(line))

describe('run-now when another instance settled the failures', { timeout: SLOW_MS }, () => {
  test('lists them from the failure history', async () => {
    const db = await createTestDatabase()
    const { code, stdout, failedElsewhere } = await runSettledElsewhere(db)
    expect(code).toBe(3)
    expect(stdout).toMatch(new RegExp(`^ {2}failed\\s+${failedElsewhere.length}$`, 'm'))
    expect(stdout).toMatch(/^Failed subscriptions:$/m)
    const listed = listedFailures(stdout)
    expect(listed.map((line) => line.trim().split(/\s+/)[0]).sort()).toEqual([...failedElsewhere].sort())
    for (const line of listed) expect(line).toMatch(/ {2}attempt 1: \S/)
  })

  test('gives the count and where to see them when the history has none of them', async () => {
    const db = await createTestDatabase()
    const { code, stdout, failedElsewhere } = await runSettledElsewhere(db, async (runId) => {
      // As after the history's retention ran out: the failures are counted, their errors gone.
      await db.pool.query(`DELETE FROM subscription_scheduler.failures WHERE run_id = $1`, [runId])
    })
    expect(code).toBe(3)
    expect(stdout).toMatch(new RegExp(`^ {2}failed\\s+${failedElsewhere.length}$`, 'm'))
    expect(listedFailures(stdout)).toEqual([])
    expect(stdout).not.toMatch(/^Failed subscriptions/m)
    expect(stdout).toMatch(new RegExp(`^${failedElsewhere.length} subscriptions failed; their errors cannot be listed here\\.`, 'm'))
    expect(stdout).toContain('`status`')
    // Where a CLI user reads them: a command, not the library's API.
    expect(stdout).toMatch(/^`failing` lists the subscriptions whose last attempt failed, with their errors; `show <id>`, the failed attempts of one\.$/m)
    expect(stdout).not.toMatch(/listFailures|GET \/failures/)
  })
})

describe('run-now with more failures than it lists', { timeout: SLOW_MS }, () => {
  test('the others are in `failing`, a command, not the API', async () => {
    const db = await createTestDatabase()
    await seedSubscriptions(db.pool, { count: 12 })
    const rejecting = await startWorker({ reject: true })
    try {
      const { code, stdout } = await runCli(['run-now', '--worker-url', rejecting.url], { DATABASE_URL: db.url })
      expect(code).toBe(3)
      expect(stdout).toMatch(/^Failed subscriptions \(10 of 12 listed\):$/m)
      expect(listedFailures(stdout)).toHaveLength(10)
      expect(stdout).toMatch(/^The others: `failing` lists the subscriptions whose last attempt failed, with their errors; `show <id>`, the failed attempts of one\.$/m)
      expect(stdout).not.toMatch(/listFailures|GET \/failures/)
    } finally {
      await rejecting.close()
    }
  })
})
