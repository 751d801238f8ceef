/**
 * A row can be claimed for a slot that is already recorded complete: `runSubscription()` twice
 * at one instant (a frozen test clock) takes the same slot twice. The second call's success
 * cannot record a second completion; before, the row then stayed queued, owned by a job that had
 * ended, its run never finished, and an hour later the lease's rescue called the worker for the
 * same slot again, and again every hour after. Now such a row is let go of: counted skipped,
 * free, its next slot the one after.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { rowsFor } from './support/seed.js'

let db: TestDatabase
let scheduler: SubscriptionScheduler
const clock = createManualClock('2027-03-01T12:00:00.000Z')
const worker = createFakeWorkerClient()

beforeAll(async () => {
  db = await createTestDatabase()
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, clock, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
})

afterAll(async () => {
  await scheduler?.stop({ timeoutMs: 2000 })
})

/** `promise`, or a failure naming `what` after `ms`: the bug left the run waiting an hour. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)))
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

test('a success for a slot already recorded complete lets the row go, counted skipped, and the run finishes', async () => {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
  const id = rows[0]!.id
  await scheduler.enroll(id, { timezone: 'UTC' })

  expect(await scheduler.runSubscription(id)).toMatchObject({ processed: 1, successful: 1, skipped: 0 })
  const [first] = await rowsFor(db.pool, [id])

  // The clock has not moved: the same slot, claimed again.
  const again = await within(20_000, 'the second runSubscription()', scheduler.runSubscription(id))
  expect(again).toMatchObject({ processed: 1, successful: 0, skipped: 1, failed: 0 })
  expect(again.finishedAt).not.toBeNull()

  const [after] = await rowsFor(db.pool, [id])
  expect(after).toMatchObject({ status: 'completed', job_id: null, lease_expires_at: null, attempts: first.attempts })
  expect(after.next_run_at.toISOString()).toBe(first.next_run_at.toISOString())
  expect(after.last_completed_for.toISOString()).toBe(first.last_completed_for.toISOString())
})
