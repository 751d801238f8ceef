/**
 * Run and failure history is pruned after `historyRetentionDays`, by the instances that register
 * the schedule only. Every process works the minutely maintenance queue, a CLI command's and an
 * admin server's included, on their own options: one left on the 30-day default took a tick and
 * deleted history a billing fleet kept for years (a finance trial's question: which retention prunes?).
 */
import { PgBoss } from 'pg-boss'
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { stopAfterEach, TEST_DEFAULTS } from './support/schedulers.js'

const track = stopAfterEach()
const queuePrefix = 'retention'

/** A failed attempt and a finished run, `days` old. */
async function oldHistory(db: TestDatabase, days: number): Promise<void> {
  const at = `now() - interval '${days} days'`
  await db.pool.query(`INSERT INTO subscription_scheduler.runs (trigger, started_at, finished_at) VALUES ('cron', ${at}, ${at})`)
  await db.pool.query(
    `INSERT INTO subscription_scheduler.failures (processing_id, subscription_id, scheduled_for, attempt, final, error, failed_at)
     VALUES (gen_random_uuid(), gen_random_uuid(), ${at}, 1, true, 'declined', ${at})`,
  )
}

const kept = async (db: TestDatabase) =>
  (await db.pool.query<{ n: number }>(`SELECT (SELECT count(*) FROM subscription_scheduler.runs)::int + (SELECT count(*) FROM subscription_scheduler.failures)::int AS n`)).rows[0]!.n

/** One maintenance tick, as the rescue cron sends it, waited for until a worker has completed it. */
async function tick(db: TestDatabase): Promise<void> {
  const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false, migrate: false })
  await boss.start()
  try {
    const id = await boss.send(`${queuePrefix}.rescue`, {})
    for (const deadline = Date.now() + 30_000; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const { rows } = await db.pool.query<{ state: string }>(`SELECT state FROM pgboss.job WHERE id = $1`, [id])
      if (rows[0]?.state === 'completed') return
      if (Date.now() > deadline) throw new Error(`the maintenance tick was not completed within 30 s (${rows[0]?.state})`)
    }
  } finally {
    await boss.stop({ graceful: false })
  }
}

test("history older than historyRetentionDays is pruned by a scheduling instance's tick, never by a process that does not schedule", async () => {
  const db = await createTestDatabase()
  await oldHistory(db, 40)
  const start = async (schedule: boolean) => {
    const s = track(createSubscriptionScheduler(db.pool, { ...TEST_DEFAULTS, queuePrefix, schedule, rescueCron: '0 0 1 1 *', workerClient: createFakeWorkerClient(), logger: captureLogger() }))
    await s.start()
    return s
  }
  // A CLI command's process, or an admin server: the defaults' 30 days, its own.
  const cli = await start(false)
  await tick(db)
  expect(await kept(db)).toBe(2)
  await cli.stop()

  // The fleet's scheduling instance, on the same 30 days: it prunes.
  await start(true)
  await tick(db)
  expect(await kept(db)).toBe(0)
})
