/**
 * Calls waiting on one instance shared out with an instance whose call slots stand free: with slow
 * calls, an instance fetches rounds of them ahead, which an instance started mid-run (a replica
 * added) could not take before.
 */
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase, ownPool } from './support/database.js'
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
