/**
 * A sweep whose instance dies is closed, and what it left swept, soon after it goes silent
 * (`interruptedSweepAfterSeconds`), by a watch job each sweep leaves on the rescue queue; not at
 * the first rescue tick after that. With a tick a minute, which pg-boss's cron may send half a
 * minute late, a run killed mid-sweep just after a tick stayed open up to about two and a half
 * minutes (the chaos test saw one still open 126 s after its kill).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { pollUntil, waitingForLocks } from './support/reliability-support.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** An instance in a process of its own (test/support/sweeper-process.ts) that starts a run; resolves with its id. */
function startSweeper(db: TestDatabase, options: Record<string, unknown>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/sweeper-process.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url, SCHEDULER_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
  const runId = new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const found = /^run (\S+)$/m.exec(out)
      if (found) resolve(found[1]!)
    })
    child.on('close', (code) => reject(new Error(`the sweeper exited (${code}) before starting its run.\nstdout: ${out}\nstderr: ${err}`)))
  })
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
  return { runId, kill: async () => (child.kill('SIGKILL'), await exited) }
}

test("a sweep whose instance is killed is closed and swept to its end by another instance once it is silent, with no rescue tick on the schedule", async () => {
  const db = await createTestDatabase()
  const ids = await seedSubscriptions(db.pool, { count: 40, nextRunInSeconds: -60 })
  // No rescue on the schedule while the test runs: only the sweep's own watch can close it.
  const common = { queuePrefix: 'watched', rescueCron: '0 0 1 1 *', interruptedSweepAfterSeconds: 3, pollingIntervalSeconds: 0.5 }
  const worker = createFakeWorkerClient()
  const logger = captureLogger()
  const peer = createSubscriptionScheduler(db.pool, { ...common, workerClient: worker, logger, migrate: false })
  await peer.start()
  // The sweeper's sweep waits on this lock, so it is killed mid-sweep with nothing claimed.
  const lock = await db.pool.connect()
  let sweeper: ReturnType<typeof startSweeper> | undefined
  try {
    await lock.query('BEGIN')
    await lock.query('LOCK TABLE subscription_processing IN EXCLUSIVE MODE')
    sweeper = startSweeper(db, common)
    const runId = await sweeper.runId
    await waitingForLocks(db.pool, 1, "the sweeper's sweep waiting for the lock")
    // Its sweep left its watch as it began (sent beside the sweep, not waited for).
    await pollUntil(async () => {
      const { rows } = await db.pool.query(`SELECT 1 FROM pgboss.job WHERE name = 'watched.rescue' AND data ->> 'watchRun' = $1`, [runId])
      return rows.length > 0 || null
    }, { timeoutMs: 10_000, what: "the sweep's watch on the rescue queue" })
    await sweeper.kill()
    await lock.query('COMMIT')

    const run = await pollUntil(async () => {
      const r = await peer.getRun(runId)
      return r.sweepFinishedAt ? r : null
    }, { timeoutMs: 30_000, what: "the dead sweeper's run closed" })
    expect(run.error).toMatch(/interrupted/)
    await pollUntil(async () => (await rowsFor(db.pool, ids)).every((r) => r.status === 'completed') || null, { timeoutMs: 30_000, what: 'every subscription called by the peer' })
    expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
    expect(logger.messages('warn')).toContainEqual(expect.stringContaining(`Run ${runId}'s sweep was left unfinished`))
  } finally {
    await sweeper?.kill()
    await lock.query('ROLLBACK').catch(() => {})
    lock.release()
    await peer.stop({ timeoutMs: 2000 })
  }
})
