/**
 * A claim that takes rows over from an older run writes two runs: its own (the rows it claimed)
 * and the older one (the rows it took, counted skipped there). A settle on another instance
 * writes the runs of its outcomes too, locking them by id. The claim locks its runs in that same
 * order: it wrote its own run first, then waited for the older one that a settle held while the
 * settle waited for the claim's, and one of them died of a deadlock (a trial of concurrent
 * controls on three replicas saw a dozen). Real Postgres and pg-boss.
 */
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { waitingForLocks } from './support/reliability-support.js'
import { stopAfterEach, TEST_DEFAULTS } from './support/schedulers.js'
import { seedSubscriptions } from './support/seed.js'

const track = stopAfterEach()

test("a claim taking rows over from an older run waits for a settle of both runs without a deadlock", async () => {
  const db = await createTestDatabase()
  const logger = captureLogger()
  const scheduler = track(createSubscriptionScheduler(db.pool, { ...TEST_DEFAULTS, workerClient: createFakeWorkerClient(), logger }))
  await scheduler.start()
  const ids = await seedSubscriptions(db.pool, { count: 3 })
  // An older run, first by id, whose job was lost with its instance: its claims have expired.
  const older = '00000000-0000-4000-8000-000000000001'
  await db.pool.query(`INSERT INTO subscription_scheduler.runs (id, trigger, started_at, sweep_finished_at, claimed) VALUES ($1, 'manual', now(), now(), 3)`, [older])
  await db.pool.query(
    `UPDATE subscription_processing SET status = 'queued', job_id = gen_random_uuid(), run_id = $2, scheduled_for = date_trunc('milliseconds', now()),
            next_run_at = date_trunc('milliseconds', now()), lease_expires_at = now() - interval '1 second'
      WHERE subscription_id = ANY($1::uuid[])`,
    [ids, older],
  )

  // Another instance's settle of outcomes of both runs: it has locked the older run, the first by id...
  const settle = await db.pool.connect()
  try {
    await settle.query('BEGIN')
    await settle.query(`SELECT 1 FROM subscription_scheduler.runs WHERE id = $1 FOR NO KEY UPDATE`, [older])
    const run = scheduler.runNow()
    await waitingForLocks(db.pool, 1, 'the claim to wait for the older run')
    const { rows: [current] } = await db.pool.query<{ id: string }>(`SELECT id FROM subscription_scheduler.runs WHERE id <> $1`, [older])
    // ...and now takes the claim's run: a claim that had written it first would close the cycle.
    await settle.query(`SELECT 1 FROM subscription_scheduler.runs WHERE id = $1 FOR NO KEY UPDATE`, [current!.id])
    await settle.query('COMMIT')
    await expect(run).resolves.toMatchObject({ runId: current!.id, processed: 3, successful: 3 })
  } finally {
    settle.release()
  }
  expect(logger.messages('warn').filter((m) => /deadlock/.test(m))).toEqual([])
  const { rows: [took] } = await db.pool.query(`SELECT skipped, finished_at IS NOT NULL AS finished FROM subscription_scheduler.runs WHERE id = $1`, [older])
  expect(took).toEqual({ skipped: 3, finished: true })
})
