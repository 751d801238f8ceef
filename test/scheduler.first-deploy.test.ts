/**
 * A team's first deploy, as a new user makes it: a database that holds only the host's
 * `subscriptions` (no scheduler tables, no pg-boss), several replicas starting at the same
 * moment, and the subscriptions that already exist picked up with no `enroll()` call.
 */
import type pg from 'pg'
import { afterEach, describe, expect, test } from 'vitest'
import { createEnrolmentGate } from '../src/sweep/auto-enroll.js'
import { MIGRATIONS } from '../src/db/migrations.generated.js'
import { createSubscriptionScheduler, migrate, NotMigratedError } from '../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createEmptyDatabase, ownPool } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL, SEED_PROCESSING_DDL } from './support/host-schema.js'

interface Replica {
  pool: pg.Pool
  scheduler: SubscriptionScheduler
  logger: ReturnType<typeof captureLogger>
  worker: ReturnType<typeof createFakeWorkerClient>
}

const running: Replica[] = []

afterEach(async () => {
  for (const { scheduler, pool } of running.splice(0)) {
    await scheduler.stop({ timeoutMs: 2000 })
    await pool.end()
  }
})

/** A database with the host's table and nothing else: no scheduler tables, no pg-boss. */
async function bareDatabase(): Promise<TestDatabase> {
  const db = await createEmptyDatabase()
  await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
  return db
}

/** A replica: its own pool, as a separate process would have. */
function replica(db: TestDatabase, options: SchedulerOptions = {}): Replica {
  const pool = ownPool(db.url)
  const logger = captureLogger()
  const worker = createFakeWorkerClient()
  const scheduler = createSubscriptionScheduler(pool, { workerClient: worker, logger, pollingIntervalSeconds: 0.5, ...options })
  const created = { pool, scheduler, logger, worker }
  running.push(created)
  return created
}

async function addSubscriptions(db: TestDatabase, count: number, active: boolean): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id, frequency, active) SELECT gen_random_uuid(), 'daily', $2 FROM generate_series(1, $1) RETURNING id`,
    [count, active],
  )
  return rows.map((r) => r.id)
}

describe('replicas starting together on a brand-new database', () => {
  test.each([1, 2, 3])('round %i: 4 replicas all start, and then work', async () => {
    const db = await bareDatabase()
    const replicas = Array.from({ length: 4 }, () => replica(db))
    const results = await Promise.allSettled(replicas.map((r) => r.scheduler.start()))
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual(['started', 'started', 'started', 'started'])
    // One of them applied every migration, and said so; the others found nothing to do.
    const applied = replicas.flatMap((r) => r.logger.messages('info').filter((m) => m.startsWith('Applied ')))
    expect(applied).toHaveLength(1)
    expect(applied[0]).toMatch(new RegExp(`^Applied ${MIGRATIONS.length} migrations to the scheduler's tables in \\d+\\.\\d s(, after waiting \\d+\\.\\d s for another instance's migration)?: ${MIGRATIONS.map((m) => m.tag).join(', ')}\\.$`))
    // The big queues (pages, and dead letters after an outage) warn only far beyond pg-boss's
    // default of 10,000 waiting jobs, which an ordinary morning or outage passes.
    const { rows: queues } = await db.pool.query<{ name: string; warning_queued: number }>(`SELECT name, warning_queued FROM pgboss.queue WHERE name LIKE '%.process' OR name LIKE '%.dead' ORDER BY name`)
    expect(queues.map((q) => [q.name.split('.').at(-1), q.warning_queued])).toEqual([['dead', 10_000_000], ['process', 10_000_000]])
    const ids = await addSubscriptions(db, 20, true)
    const summary = await replicas[0]!.scheduler.runNow()
    expect(summary.successful).toBe(20)
    expect(new Set(replicas.flatMap((r) => r.worker.calls.map((c) => c.subscriptionId)))).toEqual(new Set(ids))
  })
})

describe("adopting the MVP's table", () => {
  test("start() says it adopted the table; a row the MVP left 'processing' is called for its slot once that has come, not before", async () => {
    const db = await bareDatabase()
    await db.pool.query(SEED_PROCESSING_DDL)
    const [past, future] = await addSubscriptions(db, 2, true)
    const slot = new Date(Date.now() - 3_600_000)
    await db.pool.query(
      `INSERT INTO subscription_processing (subscription_id, status, next_run_at) VALUES ($1, 'processing', $2), ($3, 'processing', now() + interval '5 days')`,
      [past, slot, future],
    )
    const r = replica(db)
    await r.scheduler.start()
    expect(r.logger.messages('info')).toContain('Adopted the existing subscription_processing table in place; no row was changed.')
    expect(await r.scheduler.runNow()).toMatchObject({ processed: 1, successful: 1 })
    expect(r.worker.calls.map((c) => [c.subscriptionId, c.scheduledFor])).toEqual([[past, slot.toISOString()]])
    // Five days early, the other one waits for its slot, which is not spent.
    const { rows } = await db.pool.query(`SELECT status, next_run_at > now() + interval '4 days' AS ahead FROM subscription_processing WHERE subscription_id = $1`, [future])
    expect(rows[0]).toEqual({ status: 'processing', ahead: true })
    // Counted as processing, but no instance holds it: not active work in the queue.
    expect(await r.scheduler.getStatus()).toMatchObject({ counts: { processing: 1 }, queue: { waiting: 0, active: 0 } })
    await db.pool.query(`UPDATE subscription_processing SET next_run_at = now() - interval '1 minute' WHERE subscription_id = $1`, [future])
    expect(await r.scheduler.runNow()).toMatchObject({ processed: 1, successful: 1 })
    expect(r.worker.callsFor(future!)).toHaveLength(1)
  })
})

describe('subscriptions that exist before the scheduler: enrolled automatically', () => {
  test('600 active and 100 inactive: the first run processes the 600; 50 added later are the next run, and nothing else', async () => {
    const db = await bareDatabase()
    const active = await addSubscriptions(db, 600, true)
    await addSubscriptions(db, 100, false)
    const [a, b] = [replica(db), replica(db)]
    await Promise.all([a.scheduler.start(), b.scheduler.start()])

    const first = await a.scheduler.runNow()
    expect(first).toMatchObject({ processed: 600, successful: 600, failed: 0 })
    const called = [...a.worker.calls, ...b.worker.calls].map((c) => c.subscriptionId)
    expect(called.sort()).toEqual([...active].sort())

    const status = await b.scheduler.getStatus()
    expect(status.counts.inactive).toBe(100)
    expect(status.counts.pending).toBe(0)
    expect(status.counts.completed).toBe(600)
    expect(status.unenrolled).toBe(0)

    const added = await addSubscriptions(db, 50, true)
    const before = a.worker.calls.length + b.worker.calls.length
    const second = await b.scheduler.runNow()
    expect(second).toMatchObject({ processed: 50, successful: 50 })
    const newCalls = [...a.worker.calls, ...b.worker.calls].slice(0).map((c) => c.subscriptionId)
    expect(newCalls).toHaveLength(before + 50)
    expect(new Set(newCalls.filter((id) => !active.includes(id)))).toEqual(new Set(added))
  })

  test('an inactive subscription enrolled while inactive is due as soon as it is active again', async () => {
    const db = await bareDatabase()
    const [sleeper] = await addSubscriptions(db, 1, false)
    const r = replica(db)
    await r.scheduler.start()
    expect((await r.scheduler.runNow()).processed).toBe(0)
    expect((await r.scheduler.getSubscription(sleeper!)).status).toBe('pending')
    await db.pool.query(`UPDATE subscriptions SET active = true WHERE id = $1`, [sleeper])
    expect((await r.scheduler.runNow()).successful).toBe(1)
    expect(r.worker.calls.map((c) => c.subscriptionId)).toEqual([sleeper])
  })

  test('autoEnroll: false leaves enrolment to enroll() and enrollMissing(), and status says how many wait', async () => {
    const db = await bareDatabase()
    const ids = await addSubscriptions(db, 7, true)
    const r = replica(db, { autoEnroll: false })
    await r.scheduler.start()
    expect((await r.scheduler.runNow()).processed).toBe(0)
    expect((await r.scheduler.getStatus()).unenrolled).toBe(7)
    expect(await r.scheduler.enrollMissing()).toBe(7)
    expect(await r.scheduler.enrollMissing()).toBe(0)
    expect((await r.scheduler.runNow()).successful).toBe(7)
    expect(new Set(r.worker.calls.map((c) => c.subscriptionId))).toEqual(new Set(ids))
  })
})

describe('a start that changes the registered schedule', () => {
  test('warns, naming the old and new cron and zone, and the option that avoids it', async () => {
    const db = await bareDatabase()
    const berlin = replica(db, { cron: '0 7 * * *', timezone: 'Europe/Berlin' })
    await berlin.scheduler.start()
    expect(berlin.logger.messages('warn').filter((m) => /Replacing the registered/.test(m))).toEqual([])
    const admin = replica(db, { cron: '0 9 * * *', timezone: 'UTC' })
    await admin.scheduler.start()
    const warnings = admin.logger.messages('warn').filter((m) => /Replacing the registered sweep schedule/.test(m))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("'0 7 * * *' (Europe/Berlin)")
    expect(warnings[0]).toContain("'0 9 * * *' (UTC)")
    expect(warnings[0]).toContain('schedule: false')
    // The same schedule again: nothing to say.
    const again = replica(db, { cron: '0 9 * * *', timezone: 'UTC' })
    await again.scheduler.start()
    expect(again.logger.messages('warn').filter((m) => /Replacing the registered/.test(m))).toEqual([])
  })
})

describe('a database that has not been migrated', () => {
  const databases: Record<string, () => Promise<TestDatabase>> = {
    'the host table alone': bareDatabase,
    // The situation "Migrating from the MVP module" starts from.
    "the host table and the MVP's subscription_processing": async () => {
      const db = await bareDatabase()
      await db.pool.query(SEED_PROCESSING_DDL)
      return db
    },
  }
  test.each(Object.keys(databases))('every read and write names the migration step instead of a raw missing relation or column: %s', async (name) => {
    const db = await databases[name]!()
    const [id] = await addSubscriptions(db, 1, true)
    const scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger: captureLogger() })
    const calls: [string, () => Promise<unknown>][] = [
      ['getStatus', () => scheduler.getStatus()],
      ['enroll', () => scheduler.enroll(id!)],
      ['enrollMissing', () => scheduler.enrollMissing()],
      ['getSubscription', () => scheduler.getSubscription(id!)],
      ['pause', () => scheduler.pause(id!)],
      ['listRuns', () => scheduler.listRuns()],
      ['listFailures', () => scheduler.listFailures()],
      ['getRun', () => scheduler.getRun('00000000-0000-4000-8000-000000000000')],
    ]
    for (const [name, call] of calls) {
      const error = await call().then(() => undefined, (e: unknown) => e)
      expect(error, name).toBeInstanceOf(NotMigratedError)
      expect((error as NotMigratedError).code, name).toBe('NOT_MIGRATED')
      expect((error as Error).message, name).toMatch(/migrate\(pool, \{ bossSchema: 'pgboss' \}\).*without it, migrate\(\) installs the scheduler's tables but not pg-boss's schema.*start\(\).*pg-subscription-scheduler migrate/)
    }
  })

  test('on a database without the host table, a call names that table and what it must hold', async () => {
    const db = await createEmptyDatabase()
    const scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger: captureLogger() })
    for (const [name, call] of [['getStatus', () => scheduler.getStatus()], ['enrollMissing', () => scheduler.enrollMissing()]] as const) {
      const error = await call().then(() => undefined, (e: unknown) => e)
      expect(error, name).toBeInstanceOf(NotMigratedError)
      expect((error as Error).message, name).toMatch(/subscriptions\(id uuid, user_id uuid, frequency, active\)/)
    }
  })

  test('start() with migrate: false refuses to run on it, and says how to migrate', async () => {
    const db = await bareDatabase()
    const r = replica(db, { migrate: false })
    await expect(r.scheduler.start()).rejects.toThrow(NotMigratedError)
    await expect(r.scheduler.start()).rejects.toThrow(/migrate: false/)
  })

  test('start() with migrate: false refuses a database an older version migrated, naming the migration it lacks', async () => {
    const db = await bareDatabase()
    await migrate(db.pool)
    const { rows } = await db.pool.query<{ n: number }>(
      `DELETE FROM subscription_scheduler.__drizzle_migrations
        WHERE created_at = (SELECT max(created_at) FROM subscription_scheduler.__drizzle_migrations) RETURNING 1 AS n`,
    )
    expect(rows).toHaveLength(1)
    const r = replica(db, { migrate: false })
    await expect(r.scheduler.start()).rejects.toThrow(/1 of this version's migrations not applied: \d{4}_\w+, and this scheduler was started with migrate: false/)
  })
})

describe('a database a newer version migrated', () => {
  test('start() warns that this version ignores what that one added, with or without migrate: false, and runs', async () => {
    const db = await bareDatabase()
    await migrate(db.pool)
    // A migration from the future, as a newer version's journal row looks.
    await db.pool.query(`INSERT INTO subscription_scheduler.__drizzle_migrations (hash, created_at) VALUES ('newer', $1)`, [Date.now() + 86_400_000])
    for (const migrateOption of [true, false]) {
      const r = replica(db, { migrate: migrateOption })
      await r.scheduler.start()
      expect(r.logger.messages('warn')).toEqual([expect.stringMatching(/hold 1 migration this version does not know, applied by a newer version/)])
      const ids = await addSubscriptions(db, 2, true)
      expect((await r.scheduler.runNow()).successful).toBe(2)
      expect(r.worker.calls.map((c) => c.subscriptionId).sort()).toEqual(ids.sort())
      await r.scheduler.stop()
    }
  })
})

describe('the enrolment gate of scheduled sweeps', () => {
  /** Inserts host rows and flushes that backend's statistics at once (a backend does so within about a second). */
  async function insertFlushed(db: TestDatabase, count: number): Promise<void> {
    const host = await db.pool.connect()
    try {
      await host.query(`INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), 'daily' FROM generate_series(1, $1)`, [count])
      await host.query(`SELECT pg_stat_force_next_flush()`)
    } finally {
      host.release()
    }
  }

  /** A host table partitioned by hash: its inserts are counted on its partitions, not on itself. */
  const PARTITIONED_DDL = `
    CREATE TABLE subscriptions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid,
      frequency text,
      active boolean NOT NULL DEFAULT true
    ) PARTITION BY HASH (id);
    CREATE TABLE subscriptions_p0 PARTITION OF subscriptions FOR VALUES WITH (MODULUS 2, REMAINDER 0);
    CREATE TABLE subscriptions_p1 PARTITION OF subscriptions FOR VALUES WITH (MODULUS 2, REMAINDER 1);`

  test.each([
    ['a plain host table', HOST_SUBSCRIPTIONS_DDL],
    ['a partitioned host table', PARTITIONED_DDL],
  ])('skips the pass while %s has seen no insert, and looks again after one', async (_what, ddl) => {
    const db = await createEmptyDatabase()
    await db.pool.query(ddl)
    await migrate(db.pool)
    await insertFlushed(db, 3)
    const gate = createEnrolmentGate(captureLogger())
    // An exact pass enrols what is missing and remembers the insert counter.
    expect(await gate.run(db.pool, { exact: false })).toEqual({ enrolled: 3, checked: true })
    expect(await gate.run(db.pool, { exact: false })).toEqual({ enrolled: 0, checked: false })
    // On demand, it always looks.
    expect(await gate.run(db.pool, { exact: true })).toEqual({ enrolled: 0, checked: true })
    await insertFlushed(db, 1)
    expect(await gate.run(db.pool, { exact: false })).toEqual({ enrolled: 1, checked: true })
    expect(await gate.run(db.pool, { exact: false })).toEqual({ enrolled: 0, checked: false })
  })
})
