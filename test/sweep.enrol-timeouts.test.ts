/**
 * Enrolment and claims on a database whose role or connections set a `statement_timeout`: a
 * trial with `statement_timeout=300ms` and 20,000 new subscriptions saw every sweep's insert
 * cancelled, the runs report `processed: 0, error: null`, and `enrollMissing()` throw. Enrolment
 * now shrinks a page the timeout cancels; what it cannot enrol is the run's error, not only a log
 * line. Another, at `30ms`, saw sweeps stop after 64 claimed rows, the rest left due until the
 * next cron: a claim page the timeout cancels is claimed again smaller.
 * Real Postgres and pg-boss; the worker is a fake. The host's slow insert is a trigger's sleep.
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { enrollMissing } from '../src/sweep/auto-enroll.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import type { CapturedLogger } from '../src/testing.js'
import { createTestDatabase, ownPool } from './support/database.js'
import { addHostTrigger } from './support/host-trigger.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

let db: TestDatabase
let timed: pg.Pool
let scheduler: SubscriptionScheduler
let logger: CapturedLogger
const worker = createFakeWorkerClient()

/** 2 ms a row: 600 rows in one statement take over a second, a page of 78 about 160 ms. */
const TIMEOUT_MS = 500

beforeAll(async () => {
  db = await createTestDatabase()
  timed = ownPool(db.url, 10, `-c statement_timeout=${TIMEOUT_MS}`)
  logger = captureLogger()
  scheduler = createSubscriptionScheduler(timed, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
})

afterAll(async () => {
  await scheduler?.stop({ timeoutMs: 2000 })
  await timed?.end()
})

async function insertSubscriptions(count: number): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id) SELECT gen_random_uuid() FROM generate_series(1, $1) RETURNING id::text`,
    [count],
  )
  return rows.map((r) => r.id)
}

async function withHostTrigger<T>(body: string, fn: () => Promise<T>, event: 'INSERT' | 'UPDATE' = 'INSERT'): Promise<T> {
  const trigger = await addHostTrigger(db.pool, `host_${event.toLowerCase()}_rule`, event, body)
  try {
    return await fn()
  } finally {
    await trigger.drop()
  }
}

const enrolled = async (ids: string[]) =>
  Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM subscription_processing WHERE subscription_id = ANY($1::uuid[])`, [ids])).rows[0]!.n)

test('enrollMissing() enrols what one statement could not within the statement_timeout, in smaller statements', async () => {
  const ids = await insertSubscriptions(600)
  const created = await withHostTrigger('PERFORM pg_sleep(0.002);', () => enrollMissing(timed))
  expect(created).toBe(600)
  expect(await enrolled(ids)).toBe(600)
})

test('a run enrols and calls new subscriptions under a statement_timeout one insert of them all would exceed', async () => {
  const ids = await insertSubscriptions(600)
  const before = worker.calls.length
  const summary = await withHostTrigger('PERFORM pg_sleep(0.002);', () => scheduler.runNow())
  // (It also calls the rows the test before enrolled: only these are asserted.)
  expect(summary).toMatchObject({ failed: 0, error: null })
  const calls = worker.calls.slice(before).map((c) => c.subscriptionId)
  expect(calls.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort())
})

test('an enrolment that fails is the run\'s error, and the subscriptions enrolled before it are still called', async () => {
  const [enrolledBefore] = await insertSubscriptions(1)
  await enrollMissing(timed)
  const refused = await insertSubscriptions(3)
  const before = worker.calls.length
  const summary = await withHostTrigger(`RAISE EXCEPTION 'host rule: no new rows today';`, () => scheduler.runNow())
  expect(summary.error).toMatch(/^Enrolling new subscriptions failed, sweeping the enrolled ones: host rule: no new rows today/)
  expect(worker.calls.slice(before).map((c) => c.subscriptionId)).toEqual([enrolledBefore])
  expect(await enrolled(refused)).toBe(0)
  expect(logger.messages('error').join('\n')).toMatch(/Enrolling new subscriptions failed/)
  // The next run, with the host's rule gone, enrols and calls them.
  const next = await scheduler.runNow()
  expect(next).toMatchObject({ processed: 3, error: null })
})

test('a claim page the statement_timeout cancels is claimed again in smaller pages: the sweep claims every due row, not the first pages', async () => {
  const ids = await seedSubscriptions(db.pool, { count: 600, nextRunInSeconds: -60 })
  const before = worker.calls.length
  // 4 ms a row claimed: the first page (64 rows) fits in the 500 ms, the next (256) does not.
  const slowClaim = `IF NEW.status = 'queued' AND OLD.status IS DISTINCT FROM 'queued' THEN PERFORM pg_sleep(0.004); END IF;`
  const summary = await withHostTrigger(slowClaim, () => scheduler.runNow(), 'UPDATE')
  expect(summary).toMatchObject({ failed: 0, error: null })
  const calls = worker.calls.slice(before).map((c) => c.subscriptionId)
  expect(calls.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort())
  expect(logger.messages('warn')).toContainEqual(
    expect.stringMatching(new RegExp(`^Claiming a page for run ${summary.runId} was cancelled by a statement_timeout \\(canceling statement due to statement timeout\\); claiming smaller pages \\(64 rows\\), which each fit in it\\.$`)),
  )
})

