/**
 * Calls waiting on one instance shared out with an instance whose call slots stand free: with slow
 * calls, an instance fetches rounds of them ahead, which an instance started mid-run (a replica
 * added) could not take before.
 */
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { TABLES } from '../src/db/names.js'
import { createTestDatabase, ownPool } from './support/database.js'
import { heldWorker } from './support/held-worker.js'
import { pollUntil } from './support/reliability-support.js'
import { seedSubscriptions } from './support/seed.js'

test('an instance started mid-run takes a share of the calls waiting on a busy one, each subscription called once', async () => {
  const db = await createTestDatabase()
  await seedSubscriptions(db.pool, { count: 48, nextRunInSeconds: -60 })
  const options = { migrate: false, concurrency: 4, pollingIntervalSeconds: 0.5 } as const
  const start = (name: string) => {
    const pool = ownPool(db.url, 6)
    const worker = createFakeWorkerClient()
    worker.otherwise({ delayMs: 1_000 })
    const logger = captureLogger()
    return { name, pool, worker, logger, scheduler: createSubscriptionScheduler(pool, { ...options, workerClient: worker, logger, schedule: name === 'first' }) }
  }
  const first = start('first')
  await first.scheduler.start()
  const run = first.scheduler.runNow()
  // The first instance holds every job of the run: 48 rows at 4 calls at a time, a second each.
  await pollUntil(async () => (first.worker.calls.length >= 4 ? true : null), { timeoutMs: 20_000, what: 'the first calls' })
  const added = start('added')
  await added.scheduler.start()
  try {
    const { processed, successful } = await run
    expect({ processed, successful }).toEqual({ processed: 48, successful: 48 })
    expect(added.worker.calls.length, first.logger.messages('info').join('\n')).toBeGreaterThan(0)
    const keys = [...first.worker.calls, ...added.worker.calls].map((c) => c.idempotencyKey)
    expect(keys).toHaveLength(48)
    expect(new Set(keys).size).toBe(48)
    expect(first.logger.messages('info').filter((m) => /^Handed \d+ waiting calls? to instances with call slots free/.test(m)).length).toBeGreaterThan(0)
  } finally {
    for (const instance of [added, first]) {
      await instance.scheduler.stop({ timeoutMs: 2_000 })
      await instance.pool.end()
    }
  }
}, 90_000)

test("an instance whose last calls end reports its free slots within a second, not at its next 5 s report: a busy peer's share-out reads them", async () => {
  // A trial's replicas idled through a run's last seconds beside a busy one: the busy one read
  // their slots as they were up to 5 s before.
  const db = await createTestDatabase()
  await seedSubscriptions(db.pool, { count: 4, nextRunInSeconds: -60 })
  const pool = ownPool(db.url, 6)
  const worker = heldWorker()
  const scheduler = createSubscriptionScheduler(pool, { migrate: false, concurrency: 4, pollingIntervalSeconds: 0.5, workerClient: worker.client, logger: captureLogger() })
  await scheduler.start()
  try {
    const run = scheduler.runNow()
    const id = scheduler.health().instanceId!
    const inFlight = async () => (await db.pool.query<{ n: number | null }>(`SELECT (calls ->> 'inFlight')::int AS n FROM ${TABLES.instances} WHERE id = $1`, [id])).rows[0]?.n
    // Its report of the 4 calls in flight, written at its 5 s cadence: the next comes 5 s later.
    await pollUntil(async () => (await inFlight()) === 4, { timeoutMs: 20_000, intervalMs: 20, what: 'the report of 4 calls in flight' })
    const released = performance.now()
    worker.release()
    await pollUntil(async () => (await inFlight()) === 0, { timeoutMs: 10_000, intervalMs: 20, what: 'the report of no call in flight' })
    // Promised within a second; 3 s leaves room for a loaded machine, and is short of the 5 s cadence.
    expect(performance.now() - released).toBeLessThan(3_000)
    expect((await run).successful).toBe(4)
  } finally {
    await scheduler.stop({ timeoutMs: 2_000 })
    await pool.end()
  }
}, 60_000)
