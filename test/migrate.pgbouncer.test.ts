/**
 * A first deploy behind PgBouncer in transaction mode: each statement outside a transaction may
 * go to another server connection, so a session advisory lock neither serialized the replicas'
 * installs (one failed with a duplicate schema or type) nor was always unlocked where it was held.
 */
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createEmptyDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL } from './support/host-schema.js'
import { pgbouncerUnavailable, startBouncer } from './support/pgbouncer.js'

const unavailable = pgbouncerUnavailable()

describe.skipIf(unavailable !== undefined)(`behind PgBouncer in transaction mode${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  test.each([1, 2, 3])('round %i: three replicas starting at once on a bare database all start and work, and leave no advisory lock held', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    const bouncer = await startBouncer(db.url)
    const replicas = Array.from({ length: 3 }, () => {
      const pool = new pg.Pool({ connectionString: bouncer.url, max: 5 })
      pool.on('error', () => {})
      const worker = createFakeWorkerClient()
      const scheduler = createSubscriptionScheduler(pool, { workerClient: worker, logger: captureLogger(), pollingIntervalSeconds: 0.5 })
      return { pool, worker, scheduler }
    })
    try {
      const results = await Promise.allSettled(replicas.map((r) => r.scheduler.start()))
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual(['started', 'started', 'started'])
      // A lock left on a server connection PgBouncer keeps would hold every later start. One may
      // be held a moment yet: pg-boss's first monitor pass, which each start runs in the
      // background, locks within its transactions.
      const held = async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.datname = current_database()`,
        )
        return rows[0]!.n
      }
      await expect.poll(held, { timeout: 10_000 }).toBe(0)
      await db.pool.query(`INSERT INTO subscriptions (user_id, frequency, active) SELECT gen_random_uuid(), 'daily', true FROM generate_series(1, 5)`)
      expect(await replicas[0]!.scheduler.runNow()).toMatchObject({ processed: 5, successful: 5 })
      expect(replicas.flatMap((r) => r.worker.calls)).toHaveLength(5)
    } finally {
      for (const r of replicas) await r.scheduler.stop({ timeoutMs: 2_000 })
      for (const r of replicas) await r.pool.end()
      await bouncer.close()
    }
  })
})
