/**
 * `retry-failed`: an operator with a shell, and no admin API mounted, re-drives the subscriptions
 * that failed for good, all of them or the ids given, and reads the outcome and the exit code.
 */
import { describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { runCli, SLOW_MS, startWorker } from './support/cli-process.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

/** Seeds `count` due subscriptions and runs them once through `run-now`, the first three failing for good. */
async function withThreeFailed(db: TestDatabase, count = 5): Promise<string[]> {
  const ids = await seedSubscriptions(db.pool, { count })
  const worker = await startWorker({ reject: new Set(ids.slice(0, 3)) })
  try {
    const run = await runCli(['run-now', '--worker-url', worker.url], { DATABASE_URL: db.url })
    expect(run.code, run.stderr).toBe(3)
  } finally {
    await worker.close()
  }
  return ids
}

const statuses = async (db: TestDatabase, ids: string[]) => {
  const rows = await rowsFor(db.pool, ids)
  return ids.map((id) => rows.find((row) => row.sid === id)?.status)
}

const runCount = async (db: TestDatabase) => (await db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.runs`)).rows[0].n as number

describe('retry-failed', { timeout: SLOW_MS }, () => {
  test('retries the ids given, once each, and leaves the other failed rows failed', async () => {
    const db = await createTestDatabase()
    const ids = await withThreeFailed(db)
    const worker = await startWorker()
    try {
      const retry = await runCli(['retry-failed', ids[0]!, '--worker-url', worker.url], { DATABASE_URL: db.url })
      expect(retry.code, retry.stderr).toBe(0)
      expect(retry.stdout).toMatch(/^ {2}processed\s+1$/m)
      expect(retry.stdout).toMatch(/^ {2}successful\s+1$/m)
      expect(worker.calls).toEqual([ids[0]])
      expect(await statuses(db, ids.slice(0, 3))).toEqual(['completed', 'failed', 'failed'])
    } finally {
      await worker.close()
    }
  })

  test('without ids retries every failed row, lists what failed again and exits 3', async () => {
    const db = await createTestDatabase()
    const ids = await withThreeFailed(db)
    const worker = await startWorker({ reject: new Set([ids[1]!]) })
    try {
      const retry = await runCli(['retry-failed', '--worker-url', worker.url], { DATABASE_URL: db.url })
      expect(retry.code, retry.stderr).toBe(3)
      expect(retry.stdout).toMatch(/^ {2}processed\s+3$/m)
      expect(retry.stdout).toMatch(/^ {2}failed\s+1$/m)
      expect(retry.stdout).toContain(`${ids[1]}  attempt 1: `)
      // The two that succeeded the first time are not called again.
      expect([...worker.calls].sort()).toEqual(ids.slice(0, 3).sort())
      expect(await statuses(db, ids.slice(0, 3))).toEqual(['completed', 'failed', 'completed'])
    } finally {
      await worker.close()
    }
  })

  test('says when there is nothing to retry, and calls nobody', async () => {
    const db = await createTestDatabase()
    const ids = await seedSubscriptions(db.pool, { count: 2, status: 'completed', nextRunInSeconds: 3600 })
    const worker = await startWorker()
    try {
      const all = await runCli(['retry-failed', '--worker-url', worker.url], { DATABASE_URL: db.url })
      expect(all.code, all.stderr).toBe(0)
      expect(all.stdout.trim()).toBe('No subscription has a failed slot: nothing to retry.')
      const given = await runCli(['retry-failed', ids[0]!, '--worker-url', worker.url], { DATABASE_URL: db.url })
      expect(given.code, given.stderr).toBe(0)
      expect(given.stdout.trim()).toBe('None of the 1 subscription given has a failed slot: nothing to retry.')
      expect(worker.calls).toEqual([])
    } finally {
      await worker.close()
    }
  })

  test('refuses an id that is not enrolled, or is no UUID, and starts no run', async () => {
    const db = await createTestDatabase()
    const [enrolled] = await seedSubscriptions(db.pool, { count: 1, status: 'failed', nextRunInSeconds: -60 })
    const worker = await startWorker()
    const unknown = '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9'
    try {
      const before = await runCount(db)
      const refused = await runCli(['retry-failed', enrolled!, unknown, '--worker-url', worker.url], { DATABASE_URL: db.url })
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain(unknown)
      expect(refused.stderr).toMatch(/not enrolled/)
      const typo = await runCli(['retry-failed', 'not-a-uuid', '--worker-url', worker.url], { DATABASE_URL: db.url })
      expect(typo.code).toBe(2)
      expect(typo.stderr).toContain('got "not-a-uuid"')
      expect(await runCount(db)).toBe(before)
      expect(worker.calls).toEqual([])
    } finally {
      await worker.close()
    }
  })

  test('--no-wait with no instance running says its retries wait for one; the next start calls them', async () => {
    const db = await createTestDatabase()
    const [failed] = await seedSubscriptions(db.pool, { count: 1, status: 'failed', nextRunInSeconds: -60 })
    const worker = createFakeWorkerClient()
    const instance = () => createSubscriptionScheduler(db.pool, { workerClient: worker, logger: captureLogger(), pollingIntervalSeconds: 0.5 })
    const earlier = instance()
    await earlier.start()
    await earlier.stop({ timeoutMs: 2000 })
    const retry = await runCli(['retry-failed', '--no-wait'], { DATABASE_URL: db.url })
    expect(retry.code, retry.stderr).toBe(0)
    expect(retry.stdout).toMatch(/^Retry run [0-9a-f-]{36} started: 1 subscription enqueued/m)
    expect(retry.stderr).toContain("No instance that calls the worker is running on queue prefix 'subscription-scheduler' and pg-boss schema 'pgboss' now: what this command enqueues with --no-wait waits, queued, until one starts.")
    expect(worker.calls).toEqual([])
    const next = instance()
    await next.start()
    try {
      await pollUntil(async () => (await statuses(db, [failed!]))[0] === 'completed', { timeoutMs: 20_000, what: 'the next start to call it' })
      expect(worker.calls.map((c) => c.subscriptionId)).toEqual([failed])
    } finally {
      await next.stop({ timeoutMs: 2000 })
    }
  })
})
