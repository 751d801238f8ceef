/**
 * A host transaction that holds a subscription locked (`SELECT … FOR UPDATE` in a billing batch,
 * a DELETE not yet committed) must not hold up a sweep: enrolling that subscription needs a
 * FOR KEY SHARE lock on it (the foreign key), which waits for the host to commit. A trial saw
 * run-now wait 18 s on one new subscription's lock, with every due row behind it. The sweep
 * waits a bounded time, enrols the rest, warns, and goes on; the next sweep enrols the one left.
 * Real Postgres and pg-boss; the worker is a fake.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, expect, test } from 'vitest'
import { ENROL_LOCK_WAIT_MS, enrolMissingRows } from '../src/sweep/auto-enroll.js'
import { enrolAroundLocks } from '../src/sweep/enrol-around-locks.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { ownPool } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'
import { useStartedScheduler } from './support/schedulers.js'

const logger = captureLogger()
let host: pg.Client | undefined
const worker = createFakeWorkerClient()

const shared = useStartedScheduler({ workerClient: worker, logger })

// Registered after useStartedScheduler's, so run before it: the host's connection ends before the scheduler stops.
afterAll(async () => {
  await host?.end().catch(() => {})
})

async function insertSubscriptions(count: number): Promise<string[]> {
  const { rows } = await shared.db.pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id) SELECT gen_random_uuid() FROM generate_series(1, $1) RETURNING id::text`,
    [count],
  )
  return rows.map((r) => r.id)
}

test('a run goes on without a new subscription the host holds locked, says so, and the next run takes it', async () => {
  const [locked, ...free] = await insertSubscriptions(6)
  host = new pg.Client({ connectionString: shared.db.url })
  await host.connect()
  await host.query('BEGIN')
  await host.query('SELECT id FROM subscriptions WHERE id = $1 FOR UPDATE', [locked])

  // Without the bounded wait this run waits for the host's COMMIT, which comes only after it.
  const started = Date.now()
  const first = await shared.scheduler.runNow()
  expect(Date.now() - started).toBeGreaterThanOrEqual(ENROL_LOCK_WAIT_MS - 500)
  expect(first).toMatchObject({ processed: free.length, successful: free.length, failed: 0 })
  expect(new Set(worker.calls.map((c) => c.subscriptionId))).toEqual(new Set(free))
  expect(logger.messages('warn')).toContainEqual(
    expect.stringMatching(/^1 subscription is not enrolled: another transaction has held its row in subscriptions locked .* for over 5 s\./),
  )
  expect((await shared.db.pool.query('SELECT 1 FROM subscription_processing WHERE subscription_id = $1', [locked])).rowCount).toBe(0)

  await host.query('COMMIT')
  const second = await shared.scheduler.runNow()
  expect(second).toMatchObject({ processed: 1, successful: 1 })
  expect(worker.callsFor(locked!)).toHaveLength(1)
  expect(worker.calls).toHaveLength(free.length + 1)
})

test('enrollMissing(), called by the host for every row, waits for the lock and enrols the subscription', async () => {
  const [locked] = await insertSubscriptions(1)
  await host!.query('BEGIN')
  await host!.query('SELECT id FROM subscriptions WHERE id = $1 FOR UPDATE', [locked])
  const enrolling = shared.scheduler.enrollMissing()
  let settled = false
  void enrolling.finally(() => (settled = true))
  await pollUntil(
    async () => (await shared.db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO subscription_processing%'`)).rowCount! > 0,
    { timeoutMs: 10_000, what: 'enrollMissing() waiting on the host lock' },
  )
  expect(settled).toBe(false)
  await host!.query('COMMIT')
  expect(await enrolling).toBe(1)
})

test('as the README\'s least-privileged user (SELECT on subscriptions), a pass enrols around locked rows spread through many', async () => {
  const role = `pss_enrol_${randomBytes(4).toString('hex')}`
  await shared.db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'app-password'`)
  try {
    await shared.db.pool.query(`GRANT SELECT ON subscriptions TO ${role}`)
    await shared.db.pool.query(`GRANT SELECT, INSERT, UPDATE ON subscription_processing TO ${role}`)
    const url = new URL(shared.db.url)
    url.username = role
    url.password = 'app-password'
    const app = ownPool(url.toString(), 3)
    try {
      await insertSubscriptions(700)
      const { rows } = await shared.db.pool.query<{ id: string }>(
        `SELECT s.id::text AS id FROM subscriptions s WHERE NOT EXISTS (SELECT 1 FROM subscription_processing sp WHERE sp.subscription_id = s.id) ORDER BY s.id`,
      )
      const locked = [rows[10]!.id, rows[300]!.id, rows[650]!.id]
      await host!.query('BEGIN')
      await host!.query('SELECT id FROM subscriptions WHERE id = ANY($1::uuid[]) FOR UPDATE', [locked])
      // Out of time at once, a pass tries nothing, and says so (the warning then says some were not tried).
      expect(await enrolAroundLocks(app, 0)).toEqual({ enrolled: 0, finished: false })
      const pass = await enrolMissingRows(app, 500)
      await host!.query('COMMIT')
      expect(pass).toEqual({ enrolled: rows.length - locked.length, lockedOut: locked.length, finished: true })
      const left = await shared.db.pool.query<{ id: string }>(
        `SELECT s.id::text AS id FROM subscriptions s WHERE NOT EXISTS (SELECT 1 FROM subscription_processing sp WHERE sp.subscription_id = s.id) ORDER BY s.id`,
      )
      expect(left.rows.map((r) => r.id)).toEqual(locked)
    } finally {
      await app.end()
    }
  } finally {
    await shared.db.pool.query(`DROP OWNED BY ${role}`).catch(() => {})
    await shared.db.pool.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {})
  }
})
