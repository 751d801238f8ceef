/**
 * A few calls that hang (until workerTimeoutMs) must not stop an instance whose call slots are
 * nearly free. Each fetch loop hands its fetch of page jobs back only once every job in it is
 * done, and each job is done with its slowest call: a trial's 5 hung calls of 32 held every loop
 * and kept 7,239 rows waiting for minutes, with "5 in flight" on the dashboard.
 */
import { afterAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { ProcessRequest, SubscriptionScheduler, WorkerClient } from '../src/index.js'
import { captureLogger } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'
import { seedSubscriptions } from './support/seed.js'

let scheduler: SubscriptionScheduler | undefined
let release = () => {}

afterAll(async () => {
  release()
  await scheduler?.stop({ timeoutMs: 5_000 })
})

test('calls that hang in a few of the call slots leave the others working: every other subscription is called meanwhile', async () => {
  const db = await createTestDatabase()
  const ids = await seedSubscriptions(db.pool, { count: 200 })
  // Eight of 200 hang, spread at random over the jobs (their ids, random, set the fetch order):
  // four loops each held by one is all it took to stop the instance.
  const hung = new Set(ids.slice(0, 8))
  const released = new Promise<void>((resolve) => (release = resolve))
  const answered = new Set<string>()
  const worker: WorkerClient = {
    async process(request: ProcessRequest, { signal }) {
      if (hung.has(request.subscriptionId)) {
        await Promise.race([released, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))])
      }
      answered.add(request.subscriptionId)
      return { ok: true }
    },
  }
  const logger = captureLogger()
  // Jobs of one row, four to a fetch: a loop is held by any hung call among its four.
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5, concurrency: 16, claimBatchSize: 1, workerTimeoutMs: 120_000 })
  await scheduler.start()
  await scheduler.runNow({ wait: false })
  const others = ids.filter((id) => !hung.has(id))
  await pollUntil(() => (others.every((id) => answered.has(id)) ? true : null), {
    timeoutMs: 30_000,
    what: () => `every subscription but the 8 hung called (${others.filter((id) => answered.has(id)).length} of ${others.length})`,
  })
  expect([...hung].filter((id) => answered.has(id))).toEqual([])
  expect(logger.messages('info').filter((m) => /^Every fetch loop waits on calls that have not answered/.test(m))).toHaveLength(1)
  release()
  await pollUntil(() => (answered.size === ids.length ? true : null), { timeoutMs: 30_000, what: 'the hung calls to answer once let go' })
}, 120_000)
