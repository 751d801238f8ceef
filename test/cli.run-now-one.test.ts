/**
 * `run-now <id>`: one subscription, now, from a shell (`runSubscription()`), whatever its next run;
 * the others, due or not, are left to their sweeps.
 */
import { describe, expect, test } from 'vitest'
import { runCli, SLOW_MS, startWorker } from './support/cli-process.js'
import { createTestDatabase } from './support/database.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

describe('run-now <id>', { timeout: SLOW_MS }, () => {
  test('calls only that subscription, though others are due, and moves it to its next run', async () => {
    const db = await createTestDatabase()
    const ids = await seedSubscriptions(db.pool, { count: 4, nextRunInSeconds: -60 })
    const [notDue] = await seedSubscriptions(db.pool, { count: 1, status: 'completed', nextRunInSeconds: 86_400 })
    const worker = await startWorker()
    try {
      const run = await runCli(['run-now', notDue!, '--worker-url', worker.url], { DATABASE_URL: db.url })
      expect(run.code, run.stderr).toBe(0)
      expect(run.stdout).toMatch(/^ {2}processed\s+1$/m)
      expect(run.stdout).toMatch(/^ {2}successful\s+1$/m)
      expect(worker.calls).toEqual([notDue])
      const [row] = await rowsFor(db.pool, [notDue!])
      expect(row.status).toBe('completed')
      expect(row.last_run_at).not.toBeNull()
      expect((await rowsFor(db.pool, ids)).map((r) => r.status)).toEqual(['pending', 'pending', 'pending', 'pending'])
    } finally {
      await worker.close()
    }
  })

  test('enrols a subscription inserted since the last sweep, then calls it', async () => {
    const db = await createTestDatabase()
    const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'weekly') RETURNING id`)
    const id = rows[0]!.id
    const worker = await startWorker()
    try {
      const run = await runCli(['run-now', id, '--worker-url', worker.url], { DATABASE_URL: db.url })
      expect(run.code, run.stderr).toBe(0)
      expect(worker.calls).toEqual([id])
      expect((await rowsFor(db.pool, [id]))[0].status).toBe('completed')
    } finally {
      await worker.close()
    }
  })

  test('refuses a paused subscription (exit 4), an unknown one (1) and a bad or second id (2), calling nobody', async () => {
    const db = await createTestDatabase()
    const [paused] = await seedSubscriptions(db.pool, { count: 1, nextRunInSeconds: -60 })
    const env = { DATABASE_URL: db.url }
    const worker = await startWorker()
    try {
      expect((await runCli(['pause', paused!], env)).code).toBe(0)
      const refused = await runCli(['run-now', paused!, '--worker-url', worker.url], env)
      expect(refused.code).toBe(4)
      expect(refused.stderr).toMatch(/paused/)
      expect(refused.stderr).toMatch(/resume/)
      const unknown = await runCli(['run-now', '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9', '--worker-url', worker.url], env)
      expect(unknown.code).toBe(1)
      expect(unknown.stderr).toContain('no such subscription')
      const typo = await runCli(['run-now', 'not-a-uuid', '--worker-url', worker.url], env)
      expect(typo.code).toBe(2)
      const two = await runCli(['run-now', paused!, paused!, '--worker-url', worker.url], env)
      expect(two.code).toBe(2)
      expect(two.stderr).toContain("run-now takes one subscription id")
      expect(worker.calls).toEqual([])
      expect((await rowsFor(db.pool, [paused!]))[0].status).toBe('paused')
      expect((await db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.runs`)).rows[0].n).toBe(0)
    } finally {
      await worker.close()
    }
  })
})
