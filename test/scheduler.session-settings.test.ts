/**
 * Hosts whose database sessions are set up differently from Postgres's defaults, per database or
 * per role: settings that would make the scheduler read wrong data without an error are refused
 * at start(), with their fix, before anything is created or called.
 */
import pg from 'pg'
import { afterEach, describe, expect, test } from 'vitest'
import { ConfigurationError, createSubscriptionScheduler, migrate, MigrationError } from '../src/index.js'
import type { SchedulerOptions } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { withTransaction } from '../src/db/executor.js'
import { createEmptyDatabase, createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL } from './support/host-schema.js'
import { waitingForLocks } from './support/reliability-support.js'

const pools: pg.Pool[] = []
const stops: (() => Promise<void>)[] = []

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
  for (const pool of pools.splice(0)) await pool.end()
})

/** A pool opened after the database's settings changed: its sessions have them. */
function freshPool(db: TestDatabase, config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: db.url, max: 5, idleTimeoutMillis: 1_000, ...config })
  pool.on('error', () => {})
  pools.push(pool)
  return pool
}

function scheduler(pool: pg.Pool, options: SchedulerOptions = {}) {
  const worker = createFakeWorkerClient()
  const s = createSubscriptionScheduler(pool, { workerClient: worker, logger: captureLogger(), pollingIntervalSeconds: 0.5, ...options })
  stops.push(() => s.stop({ timeoutMs: 2_000 }))
  return { scheduler: s, worker }
}

async function addSubscriptions(pool: pg.Pool, count: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id, frequency, active) SELECT gen_random_uuid(), 'daily', true FROM generate_series(1, $1) RETURNING id`,
    [count],
  )
  return rows.map((r) => r.id)
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  return await promise.then(() => { throw new Error('expected a refusal') }, (error: unknown) => error as Error)
}

describe('DateStyle', () => {
  test("a database whose DateStyle is not ISO is refused at start(), naming the statement that fixes it; the pool's options fix it too", async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await db.pool.query(`ALTER DATABASE ${db.name} SET DateStyle = 'SQL, DMY'`)
    const error = await refusal(scheduler(freshPool(db)).scheduler.start())
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).option).toBe('DateStyle')
    // A setting of the database's sessions, not an option to look for: said so.
    expect(error.message).toMatch(/^Unusable database setting `DateStyle`: /)
    expect(error.message).toContain(`DateStyle 'SQL, DMY'`)
    expect(error.message).toContain(`ALTER DATABASE "${db.name}" SET DateStyle = 'ISO, DMY'`)
    expect(error.message).toMatch(/PgBouncer does not pass that on: behind it, alter the database or role, then RECONNECT/)
    // Refused before anything was created: no tables, no pg-boss.
    const { rows } = await db.pool.query(`SELECT to_regclass('subscription_processing')::text AS t, to_regnamespace('pgboss')::text AS boss`)
    expect(rows[0]).toEqual({ t: null, boss: null })

    // Without the check, every instant would read as null: the fix it names works.
    const pool = freshPool(db, { options: '-c DateStyle=ISO' })
    const { scheduler: fixed, worker } = scheduler(pool)
    await fixed.start()
    const ids = await addSubscriptions(pool, 5)
    const summary = await fixed.runNow()
    expect(summary).toMatchObject({ processed: 5, successful: 5 })
    expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
  })
})

describe('search_path', () => {
  test('a staging copy of subscription_processing earlier on the search_path is refused by start() and migrate(), naming both: nothing is called again', async () => {
    const db = await createTestDatabase()
    await db.pool.query(`CREATE SCHEMA stage; CREATE TABLE stage.subscription_processing (LIKE public.subscription_processing INCLUDING ALL)`)
    await db.pool.query(`ALTER DATABASE ${db.name} SET search_path = stage, public`)
    const pool = freshPool(db)
    await addSubscriptions(pool, 3)
    for (const [name, attempt] of [
      ['start()', () => scheduler(pool).scheduler.start()],
      ['start() with migrate: false', () => scheduler(pool, { migrate: false }).scheduler.start()],
      ['migrate()', () => migrate(pool)],
    ] as const) {
      const error = await refusal(attempt())
      expect(error, name).toBeInstanceOf(ConfigurationError)
      expect((error as ConfigurationError).option, name).toBe('search_path')
      expect(error.message, name).toMatch(/subscription_processing is in more than one schema of the search_path \(stage, public\): stage\.subscription_processing, public\.subscription_processing\. .*it would use stage\.subscription_processing, and the slots recorded in public\.subscription_processing would go unseen/)
    }
    const { rows } = await pool.query<{ n: number }>(`SELECT (SELECT count(*) FROM stage.subscription_processing)::int + (SELECT count(*) FROM pgboss.job)::int AS n`)
    expect(rows[0]!.n).toBe(0)
  })

  test('a second subscriptions table earlier on the search_path is refused, saying which subscriptions would never be processed', async () => {
    const db = await createTestDatabase()
    await db.pool.query(`CREATE SCHEMA shadow; CREATE TABLE shadow.subscriptions (LIKE public.subscriptions INCLUDING ALL)`)
    await db.pool.query(`ALTER DATABASE ${db.name} SET search_path = shadow, public`)
    const error = await refusal(scheduler(freshPool(db)).scheduler.start())
    expect((error as ConfigurationError).option).toBe('search_path')
    expect(error.message).toMatch(/^Unusable database setting `search_path`: subscriptions is in more than one schema/)
    expect(error.message).toMatch(/it would use shadow\.subscriptions, and the subscriptions in public\.subscriptions would never be processed/)
  })

  test('a table of that name in a schema off the search_path is no concern: start() runs', async () => {
    const db = await createTestDatabase()
    await db.pool.query(`CREATE SCHEMA archive; CREATE TABLE archive.subscription_processing (LIKE public.subscription_processing INCLUDING ALL)`)
    const pool = freshPool(db)
    const { scheduler: s } = scheduler(pool)
    await s.start()
    await addSubscriptions(pool, 2)
    expect(await s.runNow()).toMatchObject({ successful: 2 })
  })

  test('another table named subscription_processing first on the search_path of a bare database is named by migrate(), and nothing is created', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await db.pool.query(`CREATE SCHEMA reports; CREATE TABLE reports.subscription_processing (id int, note text)`)
    await db.pool.query(`ALTER DATABASE ${db.name} SET search_path = reports, public`)
    const error = await refusal(migrate(freshPool(db)))
    expect(error).toBeInstanceOf(MigrationError)
    expect(error.message).toMatch(/subscription_processing, found on the search_path \(reports, public\) as reports\.subscription_processing, is a table with no column subscription_id: neither the scheduler's table nor the MVP's/)
    const { rows } = await db.pool.query(`SELECT to_regnamespace('subscription_scheduler')::text AS s`)
    expect(rows[0]).toEqual({ s: null })
  })
})

describe('timeouts', () => {
  test.each([1, 2, 3])('round %i: with a lock_timeout of 100 ms and a statement_timeout of 500 ms on the database, three replicas starting at once on a bare database all start', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await db.pool.query(`ALTER DATABASE ${db.name} SET lock_timeout = '100ms'`)
    await db.pool.query(`ALTER DATABASE ${db.name} SET statement_timeout = '500ms'`)
    const replicas = Array.from({ length: 3 }, () => scheduler(freshPool(db)))
    const results = await Promise.allSettled(replicas.map((r) => r.scheduler.start()))
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual(['started', 'started', 'started'])
    const pool = freshPool(db)
    await addSubscriptions(pool, 3)
    expect(await replicas[1]!.scheduler.runNow()).toMatchObject({ successful: 3 })
  })
})

describe('default_transaction_isolation', () => {
  test('on a database whose default is serializable, the scheduler\'s transactions run read committed, and a run by two replicas settles every row once', async () => {
    const db = await createTestDatabase()
    await db.pool.query(`ALTER DATABASE ${db.name} SET default_transaction_isolation = 'serializable'`)
    const pool = freshPool(db)
    // The claim's and the settles' transactions count on READ COMMITTED (SKIP LOCKED, guarded
    // updates): under SERIALIZABLE they failed with conflicts to retry (a trial: 43 in 5,000 rows).
    const level = await withTransaction(pool, (client) => client.query<{ level: string }>(`SELECT current_setting('transaction_isolation') AS level`))
    expect(level.rows[0]!.level).toBe('read committed')

    const replicas = [scheduler(pool), scheduler(freshPool(db))]
    for (const r of replicas) await r.scheduler.start()
    const ids = await addSubscriptions(pool, 300)
    expect(await replicas[0]!.scheduler.runNow()).toMatchObject({ processed: 300, successful: 300, failed: 0 })
    const { rows } = await pool.query<{ completed: number }>(
      `SELECT count(*)::int AS completed FROM subscription_processing WHERE subscription_id = ANY($1::uuid[]) AND status = 'completed' AND last_completed_for IS NOT NULL`,
      [ids],
    )
    expect(rows[0]!.completed).toBe(300)
    const calls = replicas.flatMap((r) => r.worker.calls.map((c) => c.idempotencyKey))
    expect(new Set(calls).size).toBe(300)
  })

  test("on a database whose default is serializable, a start whose queue update meets another instance's (its monitor pass) tries again instead of failing", async () => {
    // CI: a replica's start failed with "could not serialize access due to concurrent update" in
    // pg-boss's updateQueue, beside the first replica's monitor pass.
    const db = await createTestDatabase()
    await db.pool.query(`ALTER DATABASE ${db.name} SET default_transaction_isolation = 'serializable'`)
    const first = scheduler(freshPool(db))
    await first.scheduler.start()
    const other = await freshPool(db).connect()
    try {
      // Read committed: it waits for the first instance's own pass rather than fail beside it.
      await other.query('BEGIN ISOLATION LEVEL READ COMMITTED')
      await other.query(`UPDATE pgboss.queue SET updated_on = now() WHERE name = 'subscription-scheduler.process'`)
      const second = scheduler(freshPool(db)).scheduler.start()
      await waitingForLocks(db.pool, 1, "the second start's queue update")
      await other.query('COMMIT')
      await expect(second).resolves.toBeUndefined()
    } finally {
      other.release()
    }
  })
})
