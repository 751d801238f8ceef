import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createEmptyDatabase, createTestDatabase, ownPool } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL } from './support/host-schema.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

/** A migrated database (cloned from the template), and one that holds only the host's table. */
const databases: { name: string; create(): Promise<TestDatabase> }[] = [
  { name: 'a migrated database', create: createTestDatabase },
  {
    name: 'a database never migrated (no scheduler tables, no pg-boss)',
    async create() {
      const db = await createEmptyDatabase()
      await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
      return db
    },
  },
]

describe.each(databases)('on $name', ({ create }) => {
  let db: TestDatabase
  const instances: { pool: pg.Pool; scheduler: SubscriptionScheduler; worker: ReturnType<typeof createFakeWorkerClient> }[] = []

  beforeAll(async () => {
    db = await create()
    for (let i = 0; i < 2; i++) {
      // Separate pools, as separate processes would have.
      const pool = ownPool(db.url)
      const worker = createFakeWorkerClient()
      const scheduler = createSubscriptionScheduler(pool, { workerClient: worker, logger: captureLogger(), concurrency: 16, claimBatchSize: 50, pollingIntervalSeconds: 0.5 })
      instances.push({ pool, scheduler, worker })
    }
    // Both start (and migrate) at once.
    await Promise.all(instances.map((i) => i.scheduler.start()))
  })

  afterAll(async () => {
    for (const { scheduler, pool } of instances) {
      await scheduler.stop({ timeoutMs: 2000 })
      await pool.end()
    }
  })

  test('two schedulers sweeping one database at once never call the worker twice for a slot', async () => {
    const ids = await seedSubscriptions(db.pool, { count: 1500 })
    const [a, b] = await Promise.all(instances.map((i) => i.scheduler.runNow()))
    const calls = instances.flatMap((i) => i.worker.calls)
    const keys = calls.map((c) => c.idempotencyKey)
    expect(new Set(keys).size).toBe(keys.length)
    expect(new Set(calls.map((c) => c.subscriptionId))).toEqual(new Set(ids))
    // Each sweep claimed a disjoint share, and between them all of it.
    expect(a!.processed + b!.processed).toBe(1500)
    expect(a!.successful + b!.successful).toBe(1500)
    // Both instances did work (the jobs are shared through pg-boss).
    expect(instances.every((i) => i.worker.calls.length > 0)).toBe(true)
    const rows = await rowsFor(db.pool, ids)
    expect(rows.every((r) => r.status === 'completed')).toBe(true)
    const { rows: runs } = await db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.runs WHERE finished_at IS NOT NULL`)
    expect(runs[0].n).toBe(2)
  })
})
