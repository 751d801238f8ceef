/**
 * A worker outage that pauses subscriptions by the thousand (`pauseAfterConsecutiveFailures`)
 * says so in a bounded log: 20 lines a minute, then a count, as for failed attempts. A new
 * user's trial saw 148 "paused after" lines in 2 s. Every row is still paused, and `getStatus()`
 * counts them all. Real Postgres and pg-boss; the clock is manual.
 */
import { expect, test } from 'vitest'
import { PermanentError } from '../src/index.js'
import { LINES_PER_MINUTE } from '../src/observe/limited-log.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { useStartedScheduler } from './support/schedulers.js'
import { seedSubscriptions } from './support/seed.js'

const COUNT = LINES_PER_MINUTE + 15
const logger = captureLogger()
const clock = createManualClock(new Date().toISOString()) // the seeded rows are due by the database's now()
const worker = createFakeWorkerClient()

const shared = useStartedScheduler({ workerClient: worker, clock, logger, pauseAfterConsecutiveFailures: 1 })

test('subscriptions paused together are logged 20 a minute, the rest counted; each one is paused', async () => {
  await seedSubscriptions(shared.db.pool, { count: COUNT, nextRunInSeconds: -60 })
  worker.otherwise({ fail: new PermanentError('card declined') })
  const run = await shared.scheduler.runNow()
  expect(run).toMatchObject({ processed: COUNT, failed: COUNT })
  expect((await shared.scheduler.getStatus()).pausedForFailures).toBe(COUNT)

  const paused = () => logger.messages('warn').filter((m) => /^Subscription \S+ paused after 1 failed run in a row/.test(m))
  expect(paused()).toHaveLength(LINES_PER_MINUTE)
  expect(logger.messages('warn')).toContainEqual(expect.stringMatching(`^${LINES_PER_MINUTE} subscriptions paused for failing in a row logged this minute`))

  // stop() says how many were left out, at once, and where to find them.
  await shared.scheduler.stop({ timeoutMs: 2000 })
  expect(logger.messages('warn')).toContainEqual(expect.stringMatching(`^${COUNT - LINES_PER_MINUTE} more subscriptions paused for failing in a row not logged one by one .*getStatus\\(\\)\\.pausedForFailures`))
})
