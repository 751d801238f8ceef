/**
 * A replica deployed with another zone or cron replaces the fleet's published settings and its
 * sweep schedule; the instances already running go on by their own options, so the fleet's
 * subscriptions land at two times of day. A trial's operator saw only the new replica say so:
 * every running instance now notices within a minute of its clock, and warns once.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { SETTINGS_CHECK_MS } from '../src/runtime/settings-watch.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import type { CapturedLogger, ManualClock } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'

let db: TestDatabase
const started: SubscriptionScheduler[] = []

beforeAll(async () => {
  db = await createTestDatabase()
})

afterAll(async () => {
  for (const scheduler of started) await scheduler.stop({ timeoutMs: 2000 })
})

/** A real scheduler whose cron never fires during the test, on a clock of the test's own. */
async function start(options: SchedulerOptions): Promise<{ logger: CapturedLogger; clock: ManualClock }> {
  const logger = captureLogger()
  const clock = createManualClock()
  const scheduler = createSubscriptionScheduler(db.pool, {
    workerClient: createFakeWorkerClient(), pollingIntervalSeconds: 0.5, logger, clock, ...options,
  })
  await scheduler.start()
  started.push(scheduler)
  return { logger, clock }
}

const driftWarnings = (logger: CapturedLogger) => logger.messages('warn').filter((m) => /since this instance started/.test(m))

test('instances running when another replaces the settings and the cron warn within a minute, once, naming each difference; the one that replaced them does not', async () => {
  const first = await start({ cron: '0 0 1 1 *', timezone: 'UTC' })
  const second = await start({ cron: '0 0 1 1 *', timezone: 'UTC', schedule: false })
  const replacing = await start({ cron: '0 0 2 1 *', timezone: 'America/New_York' })

  for (const { clock } of [first, second, replacing]) clock.advance(SETTINGS_CHECK_MS + 1)
  await expect.poll(() => driftWarnings(first.logger).length, { timeout: 15_000 }).toBe(1)
  await expect.poll(() => driftWarnings(second.logger).length, { timeout: 15_000 }).toBe(1)
  expect(driftWarnings(first.logger)[0]).toMatch(
    /^Another instance replaced the published schedule settings since this instance started: cron '0 0 1 1 \*' → '0 0 2 1 \*', timezone 'UTC' → 'America\/New_York' \(this instance → now published\)\. This instance goes on by its own options until it restarts.*Start every instance with the same options/s,
  )
  // Not scheduling, it has no cron of its own to compare.
  expect(driftWarnings(second.logger)[0]).toMatch(/^The published schedule settings changed since this instance started: timezone 'UTC' → 'America\/New_York' \(/)

  expect(driftWarnings(replacing.logger)).toEqual([])

  // Another put the first's options back: the first says they agree again (and warns no more);
  // the one that had replaced them is now the one told.
  const restoring = await start({ cron: '0 0 1 1 *', timezone: 'UTC' })
  for (const { clock } of [first, second, replacing, restoring]) clock.advance(SETTINGS_CHECK_MS + 1)
  await expect.poll(() => first.logger.messages('info').filter((m) => /agree with this instance's options again/.test(m)).length, { timeout: 15_000 }).toBe(1)
  await expect.poll(() => driftWarnings(replacing.logger), { timeout: 15_000 }).toEqual([
    expect.stringMatching(/^Another instance replaced the published schedule settings since this instance started: cron '0 0 2 1 \*' → '0 0 1 1 \*', timezone 'America\/New_York' → 'UTC'/),
  ])
  expect(driftWarnings(first.logger)).toHaveLength(1)
  expect(driftWarnings(restoring.logger)).toEqual([])
})
