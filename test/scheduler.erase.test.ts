/**
 * erase(): what the scheduler keeps of subscriptions the host deleted (the worker's answers in
 * the failure history and the dead letters, the notes in the schedule history) goes at the host's
 * request, and nothing of the others. A trial's GDPR erasure found a worker's answer quoting the
 * user's email still in listFailures() after the user was deleted, with no way to remove it.
 */
import { expect, test } from 'vitest'
import { ConfigurationError, PermanentError, SubscriptionStateError } from '../src/index.js'
import { createFakeWorkerClient } from '../src/testing.js'
import { useSchedulerHarness } from './support/schedulers.js'
import { seedSubscriptions } from './support/seed.js'

const harness = useSchedulerHarness()
const { scheduler } = harness

/** What the scheduler's tables and pg-boss hold that names `id`, by where. */
async function keptOf(id: string): Promise<Record<string, number>> {
  const { rows } = await harness.db.pool.query<{ failures: number; history: number; dead: number }>(
    `SELECT (SELECT count(*)::int FROM subscription_scheduler.failures WHERE subscription_id = $1) AS failures,
            (SELECT count(*)::int FROM subscription_scheduler.history WHERE subscription_id = $1) AS history,
            (SELECT count(*)::int FROM pgboss.job WHERE name = 'erase.dead' AND data->>'subscriptionId' = $1::text) AS dead`,
    [id],
  )
  return rows[0]!
}

test("erases a deleted subscription's failures, history and dead letters, and nothing of the others", async () => {
  const [erased, kept] = await seedSubscriptions(harness.db.pool, { count: 2 })
  const worker = createFakeWorkerClient().otherwise({ fail: new PermanentError('422 card declined for alice@example.com', { status: 422 }) })
  const s = scheduler({ workerClient: worker, queuePrefix: 'erase', retry: { limit: 0 } })
  await s.start()
  await s.runNow()
  for (const id of [erased!, kept!]) await s.pause(id, { note: 'asked by alice@example.com' })
  const before = await keptOf(erased!)
  expect(before).toEqual({ failures: 1, history: 1, dead: 1 })

  await harness.db.pool.query(`DELETE FROM subscriptions WHERE id = $1`, [erased])
  const result = await s.erase([erased!])

  expect(result).toEqual({ failures: 1, history: 1, deadLetters: 1, schedules: 0 })
  expect(await keptOf(erased!)).toEqual({ failures: 0, history: 0, dead: 0 })
  expect(JSON.stringify(await s.listFailures())).not.toContain(erased)
  expect(await keptOf(kept!)).toEqual(before)
  // Erasing again finds nothing left.
  expect(await s.erase([erased!])).toEqual({ failures: 0, history: 0, deadLetters: 0, schedules: 0 })
})

test('refuses a subscription still in the host table, erasing nothing; and says what is wrong with bad ids', async () => {
  const [gone, still] = await seedSubscriptions(harness.db.pool, { count: 2 })
  const worker = createFakeWorkerClient().otherwise({ fail: new PermanentError('422 no', { status: 422 }) })
  const s = scheduler({ workerClient: worker, queuePrefix: 'erase', retry: { limit: 0 } })
  await s.start()
  await s.runNow()
  await harness.db.pool.query(`DELETE FROM subscriptions WHERE id = $1`, [gone])

  const refused = s.erase([gone!, still!])

  await expect(refused).rejects.toThrow(SubscriptionStateError)
  await expect(refused).rejects.toThrow(`Subscription ${still} is still in your subscriptions table, so nothing was erased`)
  expect((await keptOf(gone!)).failures).toBe(1)
  await expect(s.erase([])).rejects.toThrow(ConfigurationError)
  await expect(s.erase('x' as unknown as string[])).rejects.toThrow(/subscriptionIds.*expected an array of 1 to 10,000 subscription ids/)
  await expect(s.erase([gone!, 'not-a-uuid'])).rejects.toThrow(/subscriptionIds\[1\]/)
})

test("refuses a user's id, naming what erase() takes and how to collect it, erasing nothing: an erasure request comes by user", async () => {
  const [id] = await seedSubscriptions(harness.db.pool, { count: 1 })
  const { rows } = await harness.db.pool.query<{ user_id: string }>(`SELECT user_id::text FROM subscriptions WHERE id = $1`, [id])
  const userId = rows[0]!.user_id
  const s = scheduler({ workerClient: createFakeWorkerClient(), queuePrefix: 'erase' })
  const refused = s.erase([userId])
  await expect(refused).rejects.toThrow(SubscriptionStateError)
  await expect(refused).rejects.toThrow(`${userId} is a user's id (subscriptions.user_id), not a subscription's, so nothing was erased. erase() takes the ids of that user's subscriptions once they are deleted from your table: collect them first (SELECT id FROM subscriptions WHERE user_id = '${userId}')`)
})

test('erases the schedule row of a deleted subscription left behind where the foreign key was dropped, with the error it holds', async () => {
  const [orphaned] = await seedSubscriptions(harness.db.pool, { count: 1 })
  const worker = createFakeWorkerClient().otherwise({ fail: new PermanentError('422 card declined for bob@example.com', { status: 422 }) })
  const s = scheduler({ workerClient: worker, queuePrefix: 'erase', retry: { limit: 0 } })
  await s.start()
  await s.runNow()
  const fk = 'subscription_processing_subscription_id_fkey'
  await harness.db.pool.query(`ALTER TABLE subscription_processing DROP CONSTRAINT ${fk}`)
  try {
    await harness.db.pool.query(`DELETE FROM subscriptions WHERE id = $1`, [orphaned])
    const left = await harness.db.pool.query(`SELECT error FROM subscription_processing WHERE subscription_id = $1`, [orphaned])
    expect(left.rows[0]?.error ?? '').toContain('bob@example.com')

    expect(await s.erase([orphaned!])).toMatchObject({ failures: 1, schedules: 1 })
    const after = await harness.db.pool.query(`SELECT 1 FROM subscription_processing WHERE subscription_id = $1`, [orphaned])
    expect(after.rowCount).toBe(0)
  } finally {
    await harness.db.pool.query(`DELETE FROM subscription_processing p WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = p.subscription_id)`)
    await harness.db.pool.query(`ALTER TABLE subscription_processing ADD CONSTRAINT ${fk} FOREIGN KEY (subscription_id) REFERENCES subscriptions(id) ON DELETE CASCADE`)
  }
})
