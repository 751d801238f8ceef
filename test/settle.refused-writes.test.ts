/**
 * A refusal that fails every write alike while instances run: here a privilege revoked from the
 * application's role mid-run, as a trial's operator did. The worker has answered by then; its
 * answers are held and recorded once the grant is back, and nobody is called a second time. Before,
 * each job failed at once and was delivered again, calling its subscriptions anew: a trial saw 295
 * subscriptions called 1,576 times, and the run's summary said nothing of it.
 * Real Postgres, a real role and pg-boss; the worker is a held fake.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger } from '../src/testing.js'
import { createTestDatabase, ownPool } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { heldWorker } from './support/held-worker.js'
import { pollUntil } from './support/reliability-support.js'
import { runtimeGrants, urlAs } from './support/roles.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const ROLE = `pss_refused_${randomBytes(4).toString('hex')}`
let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase()
  await db.pool.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD 'app-password'`)
  for (const grant of runtimeGrants(ROLE)) await db.pool.query(grant)
})

afterAll(async () => {
  await db.pool.query(`DROP OWNED BY ${ROLE}`).catch(() => {})
  await db.pool.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => {})
})

test('a privilege revoked while calls are in flight: their answers are held, recorded once it is granted back, and nobody is called twice', async () => {
  const ids = await seedSubscriptions(db.pool, { count: 20, nextRunInSeconds: -60 })
  const pool = ownPool(urlAs(db.url, ROLE, 'app-password'))
  const worker = heldWorker()
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(pool, { workerClient: worker.client, logger, migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
  try {
    const { runId } = await scheduler.runNow({ wait: false })
    // The sweep has claimed everything (it too updates subscription_processing) and calls are in flight.
    await pollUntil(() => logger.messages('info').includes(`Run ${runId}: enqueued 20 subscriptions.`), { timeoutMs: 20_000, what: 'the sweep to end' })
    await worker.firstCall
    await db.pool.query(`REVOKE UPDATE ON subscription_processing FROM ${ROLE}`)
    worker.release()
    const refused = await pollUntil(() => logger.messages('error').find((m) => m.startsWith('The database refused recording')), { timeoutMs: 20_000, what: 'the refused settle to be said' })
    expect(refused).toMatch(
      /^The database refused recording \d+ outcomes? \(permission denied for table subscription_processing\): a privilege it needs was revoked: grant back what the README lists under "Database privileges" \(SQLSTATE 42501\)\. Holding them and retrying in \d+ ms, so that nobody is called again for them\.$/,
    )
    await db.pool.query(`GRANT UPDATE ON subscription_processing TO ${ROLE}`)

    const run = await pollUntil(async () => {
      const summary = await scheduler.getRun(runId)
      return summary.finishedAt ? summary : undefined
    }, { timeoutMs: 30_000, what: 'the run to finish once the grant is back' })
    expect(run).toMatchObject({ processed: 20, successful: 20, failed: 0, retried: 0, skipped: 0 })
    const calls = worker.calls.map((c) => c.subscriptionId)
    expect(calls.sort()).toEqual([...ids].sort())
    expect((await rowsFor(db.pool, ids)).every((r) => r.status === 'completed')).toBe(true)
    expect(logger.messages('info')).toContainEqual(expect.stringMatching(/^Refusal over: recording \d+ outcomes? went through at try \d+, [\d.]+ s after the first failure\.$/))
    // Never taken for a failed attempt of the rows', nor for a job to deliver again.
    expect(logger.messages('warn').filter((m) => /failed \(attempt|delivered again|Taking over/.test(m))).toEqual([])
  } finally {
    await scheduler.stop({ timeoutMs: 2000 })
    await pool.end()
  }
})
