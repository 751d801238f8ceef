/**
 * A worker behind auth, reached from the CLI: SUBSCRIPTION_WORKER_HEADERS gives the calls their
 * headers (a URL with credentials is refused), and a variable that cannot be read stops the
 * command before it claims anything, without showing the token.
 */
import { describe, expect, test } from 'vitest'
import { runCli, SLOW_MS, startWorker } from './support/cli-process.js'
import { createTestDatabase } from './support/database.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const TOKEN = 'Bearer s3cret-token'

describe('SUBSCRIPTION_WORKER_HEADERS', { timeout: SLOW_MS }, () => {
  test('run-now and retry-failed send its headers with every call: a worker that requires them answers each', async () => {
    const db = await createTestDatabase()
    const ids = await seedSubscriptions(db.pool, { count: 5, nextRunInSeconds: -60 })
    const worker = await startWorker({ authorization: TOKEN })
    try {
      const headers = { SUBSCRIPTION_WORKER_HEADERS: 'Authorization=Bearer%20s3cret-token,X-Team=billing' }
      // Without them, the worker refuses: the failure the variable is for.
      const refused = await runCli(['run-now', '--worker-url', worker.url], { DATABASE_URL: db.url })
      expect(refused.code, refused.stderr).toBe(3)
      expect(refused.stdout).toContain('401')
      const retried = await runCli(['retry-failed'], { DATABASE_URL: db.url, SUBSCRIPTION_WORKER_URL: worker.url, ...headers })
      expect(retried.code, retried.stderr).toBe(0)
      expect(retried.stdout).toMatch(/^ {2}successful\s+5$/m)
      expect((await rowsFor(db.pool, ids)).map((r) => r.status)).toEqual(ids.map(() => 'completed'))
      expect(worker.calls).toHaveLength(10)
    } finally {
      await worker.close()
    }
  })

  test('one that cannot be read exits 2, says where and how to write it, shows no value, and claims nothing', async () => {
    const db = await createTestDatabase()
    const ids = await seedSubscriptions(db.pool, { count: 3, nextRunInSeconds: -60 })
    const worker = await startWorker()
    try {
      const run = await runCli(['run-now', '--worker-url', worker.url], { DATABASE_URL: db.url, SUBSCRIPTION_WORKER_HEADERS: 'Authorization: Bearer s3cret-token' })
      expect(run.code).toBe(2)
      expect(run.stderr).toContain("SUBSCRIPTION_WORKER_HEADERS: pair 1 of 1 has no '=' between a name and its value.")
      expect(run.stderr).toContain('Authorization=Bearer%20<token>')
      expect(run.stderr).not.toContain('s3cret')
      expect(worker.calls).toEqual([])
      expect((await rowsFor(db.pool, ids)).map((r) => r.status)).toEqual(ids.map(() => 'pending'))
    } finally {
      await worker.close()
    }
  })
})
