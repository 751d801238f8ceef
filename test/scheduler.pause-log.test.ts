/**
 * A worker outage that pauses subscriptions by the thousand (`pauseAfterConsecutiveFailures`)
 * says so in a bounded log: 20 lines a minute, then a count, as for failed attempts. A new
 * user's trial saw 148 "paused after" lines in 2 s. Every row is still paused, and `getStatus()`
 * counts them all. Real Postgres and pg-boss; the clock is manual.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler, PermanentError } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { LINES_PER_MINUTE } from '../src/observe/limited-log.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import type { CapturedLogger } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

const COUNT = LINES_PER_MINUTE + 15
let db: TestDatabase
let scheduler: SubscriptionScheduler
let logger: CapturedLogger
const clock = createManualClock(new Date().toISOString()) // the seeded rows are due by the database's now()
const worker = createFakeWorkerClient()

beforeAll(async () => {
  db = await createTestDatabase()
  logger = captureLogger()
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, clock, logger, migrate: false, pollingIntervalSeconds: 0.5, pauseAfterConsecutiveFailures: 1 })
  await scheduler.start()
})

afterAll(async () => {
  await scheduler?.stop({ timeoutMs: 2000 })
})

test('subscriptions paused together are logged 20 a minute, the rest counted; each one is paused', async () => {
  await seedSubscriptions(db.pool, { count: COUNT, nextRunInSeconds: -60 })
  worker.otherwise({ fail: new PermanentError('card declined') })
  const run = await scheduler.runNow()
  expect(run).toMatchObject({ processed: COUNT, failed: COUNT })
  expect((await scheduler.getStatus()).pausedForFailures).toBe(COUNT)

  const paused = () => logger.messages('warn').filter((m) => /^Subscription \S+ paused after 1 failed run in a row/.test(m))
  expect(paused()).toHaveLength(LINES_PER_MINUTE)
  expect(logger.messages('warn')).toContainEqual(expect.stringMatching(`^${LINES_PER_MINUTE} subscriptions paused for failing in a row logged this minute`))

  // stop() says how many were left out, at once, and where to find them.
  await scheduler.stop({ timeoutMs: 2000 })
  expect(logger.messages('warn')).toContainEqual(expect.stringMatching(`^${COUNT - LINES_PER_MINUTE} more subscriptions paused for failing in a row not logged one by one .*getStatus\\(\\)\\.pausedForFailures`))
})
