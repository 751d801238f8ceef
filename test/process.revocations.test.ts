/**
 * Rows are read again before their call: a subscription deactivated, paused or deleted after its
 * claim is not called, whether its job still waited in pg-boss (the job reads its rows when it
 * starts, and calls with what the host has changed since its claim) or had started and its row
 * waited in the call gate (the revocation watcher reads it again).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { RECHECK_MS } from '../src/process/revocations.js'
import { captureLogger } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { heldWorker } from './support/held-worker.js'
import type { HeldWorker } from './support/held-worker.js'
import { pollUntil } from './support/reliability-support.js'
import { stopAfterEach } from './support/schedulers.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const track = stopAfterEach()

/**
 * Twelve due subscriptions and a scheduler that makes one call at a time, one row per job: it
 * holds a few jobs, the rest wait in pg-boss. Returns once the run's first call is held.
 */
async function heldRun(queuePrefix: string) {
  const db = await createTestDatabase()
  const worker = heldWorker()
  const ids = await seedSubscriptions(db.pool, { count: 12 })
  const s = createSubscriptionScheduler(db.pool, { workerClient: worker.client, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, concurrency: 1, queuePrefix })
  track(s)
  await s.start()
  const { runId } = await s.runNow({ wait: false })
  await worker.firstCall
  return { db, worker, ids, s, runId }
}

/**
 * The subscription of the first (or last) job in `state` whose row has not been called:
 * `created`, still waiting in pg-boss; `active`, fetched, its rows read, waiting in the call gate.
 */
async function uncalledRow(db: TestDatabase, ids: string[], called: string[], state: 'created' | 'active', which: 'first' | 'last') {
  const order = which === 'first' ? 'ASC' : 'DESC'
  // Waited for: the first call may be held before the instance's next fetch has taken more jobs
  // (a loaded CI run found no other job active yet).
  return await pollUntil(async () => {
    const { rows } = await db.pool.query<{ sid: string }>(
      `SELECT sp.subscription_id::text AS sid
         FROM subscription_processing sp JOIN pgboss.job j ON j.id = sp.job_id
        WHERE j.state = $3 AND sp.subscription_id = ANY($1::uuid[]) AND sp.subscription_id <> ALL($2::uuid[])
        ORDER BY j.created_on ${order}, j.id ${order} LIMIT 1`,
      [ids, called, state],
    )
    return rows[0]?.sid
  }, { timeoutMs: 15_000, what: `an uncalled row of a job in state ${state}` })
}

const calledIds = (worker: HeldWorker) => worker.calls.map((c) => c.subscriptionId)

async function finishedRun(s: SubscriptionScheduler, runId: string) {
  return await pollUntil(async () => {
    const r = await s.getRun(runId)
    return r.finishedAt ? r : undefined
  }, { timeoutMs: 20_000, what: 'the run to finish' })
}

test.each([
  ['deactivated', `UPDATE subscriptions SET active = false WHERE id = $1`, 'pending'],
  ['paused', `UPDATE subscription_processing SET status = 'paused', paused_reason = 'manual' WHERE subscription_id = $1`, 'paused'],
])('a subscription %s while its job waits in pg-boss is not called when the job is fetched', async (_what, change, statusAfter) => {
  const { db, worker, ids, s, runId } = await heldRun('revoke')
  const changed = await uncalledRow(db, ids, calledIds(worker), 'created', 'first')
  await db.pool.query(change, [changed])
  worker.release()

  const run = await finishedRun(s, runId)
  expect(run).toMatchObject({ processed: 12, successful: 11, failed: 0, skipped: 1 })
  expect(worker.calls.filter((c) => c.subscriptionId === changed)).toEqual([])
  expect(new Set(worker.calls.map((c) => c.subscriptionId))).toEqual(new Set(ids.filter((id) => id !== changed)))
  const [row] = await rowsFor(db.pool, [changed])
  expect(row).toMatchObject({ status: statusAfter, job_id: null })
  // A new subscription's first slot was the claim's: it keeps it, so the call it gets once it is
  // active again carries the same idempotency key, not that of a later sweep.
  expect(row.scheduled_for).toBeInstanceOf(Date)
  expect(row.next_run_at).toEqual(row.scheduled_for)
})

test('a job calls with what the host changed while it waited in pg-boss', async () => {
  const { db, worker, ids, s, runId } = await heldRun('stale')
  // The last job still waiting in pg-boss: its subscription has moved to another user since the claim.
  const moved = await uncalledRow(db, ids, calledIds(worker), 'created', 'last')
  const { rows: users } = await db.pool.query<{ user_id: string }>(`UPDATE subscriptions SET user_id = gen_random_uuid() WHERE id = $1 RETURNING user_id::text`, [moved])
  worker.release()

  await finishedRun(s, runId)
  expect(worker.calls.filter((c) => c.subscriptionId === moved).map((c) => c.userId)).toEqual([users[0]!.user_id])
})

test('a subscription paused while its row waits in the call gate of a started job is not called', async () => {
  const { db, worker, ids, s, runId } = await heldRun('gate')
  // A job fetched with the held one: its rows were read when it started, before the pause.
  const paused = await uncalledRow(db, ids, calledIds(worker), 'active', 'first')
  await db.pool.query(`UPDATE subscription_processing SET status = 'paused', paused_reason = 'manual' WHERE subscription_id = $1`, [paused])
  // The scenario: a re-check is due before the row's call. Any read of its state that started
  // before the pause is then older than one re-check, and is made again before the call.
  await sleep(RECHECK_MS + 100)
  worker.release()

  const run = await finishedRun(s, runId)
  expect(run).toMatchObject({ processed: 12, successful: 11, failed: 0, skipped: 1 })
  expect(worker.calls.filter((c) => c.subscriptionId === paused)).toEqual([])
  const [row] = await rowsFor(db.pool, [paused])
  expect(row).toMatchObject({ status: 'paused', job_id: null })
})

test("a subscription moved to another user while its row waits in the call gate of a started job is called with the new user", async () => {
  const { db, worker, ids, s, runId } = await heldRun('gate-user')
  // A job fetched with the held one: its rows were read when it started, before the change. A
  // trial's ownership transfer saw every call of a slow run carry the old user for 11 s after it.
  const moved = await uncalledRow(db, ids, calledIds(worker), 'active', 'last')
  const { rows: users } = await db.pool.query<{ user_id: string }>(`UPDATE subscriptions SET user_id = gen_random_uuid() WHERE id = $1 RETURNING user_id::text`, [moved])
  // As above: any read of its state that started before the change is older than one re-check.
  await sleep(RECHECK_MS + 100)
  worker.release()

  await finishedRun(s, runId)
  expect(worker.calls.filter((c) => c.subscriptionId === moved).map((c) => c.userId)).toEqual([users[0]!.user_id])
})
