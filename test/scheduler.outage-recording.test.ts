/**
 * An outage longer than a job's heartbeat, with the worker's answers in hand: once the database is
 * back, pg-boss delivers the job again (its heartbeat lapsed), and whatever the instance has not
 * recorded by then is called again. The instance records what it holds within a second of the
 * return, and a delivery after the first waits a few seconds before reading its rows, so no
 * subscription is called twice though no instance stopped.
 */
import pg from 'pg'
import { afterAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger } from '../src/testing.js'
import { startDbProxy } from './chaos/db-proxy.js'
import type { DbProxy } from './chaos/db-proxy.js'
import { createTestDatabase } from './support/database.js'
import { heldWorker } from './support/held-worker.js'
import { pollUntil } from './support/reliability-support.js'
import { seedSubscriptions } from './support/seed.js'

let proxy: DbProxy | undefined
afterAll(async () => await proxy?.close())

test('answers held through an outage longer than the heartbeat are recorded before the job is delivered again: no call is repeated', async () => {
  const db = await createTestDatabase()
  await seedSubscriptions(db.pool, { count: 10 })
  proxy = await startDbProxy(db.url)
  const pool = new pg.Pool({ connectionString: proxy.url, max: 5 })
  pool.on('error', () => {})
  const worker = heldWorker()
  const logger = captureLogger()
  // pg-boss looks for lapsed heartbeats every second, so the job comes back as soon as it can.
  const scheduler = createSubscriptionScheduler(pool, {
    workerClient: worker.client,
    logger,
    pollingIntervalSeconds: 0.5,
    pgBoss: { monitorIntervalSeconds: 1, superviseIntervalSeconds: 1 },
  })
  await scheduler.start()
  try {
    await scheduler.runNow({ wait: false })
    await pollUntil(async () => (worker.calls.length === 10 ? true : null), { timeoutMs: 30_000, what: 'every call in flight' })

    // The database goes away for longer than the job's heartbeat (10 s); the worker answers meanwhile.
    const dark = proxy.blackout(15_000)
    worker.release()
    await dark

    await pollUntil(async () => {
      const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM subscription_processing WHERE status = 'completed'`)
      return rows[0]!.n === 10 ? true : null
    }, { timeoutMs: 30_000, what: 'every outcome recorded' })
    // Every delivery of the run's jobs has ended: a repeated call would have been made by now.
    await pollUntil(async () => {
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'subscription-scheduler.process' AND state NOT IN ('completed', 'failed', 'cancelled')`,
      )
      return rows[0]!.n === 0 ? true : null
    }, { timeoutMs: 30_000, what: "the jobs' deliveries to end" })
    // Without the prompt record and the wait, the job's next delivery called most of them again.
    expect(worker.calls.length, logger.entries.map((e) => `${e.level} ${e.message}`).join('\n')).toBe(10)
    expect(new Set(worker.calls.map((c) => c.idempotencyKey)).size).toBe(10)
    expect(logger.messages('warn').filter((m) => /Taking over job/.test(m))).toEqual([])
    // Each statement that said the outage (at its start, then every 10 s) says its end: an operator sees the database is back.
    const said = (level: 'warn' | 'info', pattern: RegExp) => [...new Set(logger.messages(level).map((m) => pattern.exec(m)?.[1]).filter(Boolean))].sort()
    const unavailable = said('warn', /^Database unavailable while (.+?) \(/)
    expect(unavailable.length).toBeGreaterThan(0)
    // A statement off the recording path (closing the sweep, say) retries every 5 s at most: its
    // line may come a few seconds after the outcomes are in.
    const reachable = () => said('info', /^Database reachable again: (.+) went through at try/)
    await pollUntil(() => (reachable().length >= unavailable.length ? true : null), { timeoutMs: 15_000, what: 'a reachable-again line for each statement that said the outage' })
    expect(reachable()).toEqual(unavailable)
  } finally {
    await scheduler.stop({ timeoutMs: 5_000 })
    await pool.end()
  }
}, 120_000)
