/**
 * A fleet in which no instance registers the sweep schedule never sweeps on its cron: every
 * instance started with `schedule: false`, or the scheduling one under another `queuePrefix`.
 * Real schedulers on one database, each `schedule: false` one on a manual clock: a minute after
 * its start by that clock it looks again, and warns when there is still none; one whose
 * scheduling instance came up within the minute finds its schedule and says so at debug level.
 */
import type { Pool } from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import type { CapturedLogger, ManualClock } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'

const started: SubscriptionScheduler[] = []

afterAll(async () => {
  for (const scheduler of started) await scheduler.stop({ timeoutMs: 2000 })
})

/** Starts a real scheduler (cron far away: no sweep fires during the test) and returns its logger. */
async function start(pool: Pool, options: SchedulerOptions): Promise<CapturedLogger> {
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), cron: '0 0 1 1 *', logger, ...options })
  await scheduler.start()
  started.push(scheduler)
  return logger
}

const noSchedule = (logger: CapturedLogger) => logger.messages('warn').filter((m) => m.startsWith('No sweep schedule is registered'))
const found = (logger: CapturedLogger) => logger.messages('debug').find((m) => m.startsWith('Sweeps run on the registered schedule'))

/** A minute and a second after `clock`'s start: the watch looks again at its next tick (every 5 s of real time). */
function passTheMinute(clock: ManualClock): void {
  clock.advance(61_000)
}

describe('an instance started with schedule: false, when no instance registers the sweep schedule', () => {
  test('warns a minute after its start that no sweep runs on a cron, naming the queue prefix and schema it looked under', async () => {
    const { pool } = await createTestDatabase()
    // The scheduling instance registers under another prefix: its schedule sweeps none of this fleet's queues.
    await start(pool, { queuePrefix: 'billing' })
    const clock = createManualClock()
    const logger = await start(pool, { schedule: false, clock })
    // Not at once: a scheduling instance starting beside it gets its minute.
    expect(noSchedule(logger)).toEqual([])
    expect(found(logger)).toBeUndefined()

    passTheMinute(clock)
    const [warning] = await pollUntil(() => noSchedule(logger).length > 0 && noSchedule(logger), { timeoutMs: 20_000, what: 'the warning that no schedule is registered' })
    expect(warning).toContain("queue prefix 'subscription-scheduler' (pg-boss schema 'pgboss')")
    expect(warning).toContain('an instance with `schedule: true` (the default) starts with the same `queuePrefix` and `bossSchema`')
    // A CLI user who ran run-now never wrote `schedule: false`: the warning says where it came from.
    expect(warning).toContain("started with `schedule: false` (as the CLI's run-now, retry-failed and backfill start theirs)")
    expect(found(logger)).toBeUndefined()
  })

  test('says nothing of the kind when a scheduling instance registered it within the minute, and logs the schedule it found', async () => {
    const { pool } = await createTestDatabase()
    const clock = createManualClock()
    const logger = await start(pool, { schedule: false, clock })
    expect(found(logger)).toBeUndefined()
    await start(pool, { cron: '15 4 * * *', timezone: 'Europe/Berlin' })

    passTheMinute(clock)
    const message = await pollUntil(() => found(logger), { timeoutMs: 20_000, what: 'the schedule found at the second look' })
    expect(message).toBe("Sweeps run on the registered schedule: cron '15 4 * * *' (Europe/Berlin).")
    expect(noSchedule(logger)).toEqual([])
  })

  test('one started after the schedule was registered finds it at its start', async () => {
    const { pool } = await createTestDatabase()
    await start(pool, {})
    const logger = await start(pool, { schedule: false, clock: createManualClock() })
    expect(found(logger)).toBe("Sweeps run on the registered schedule: cron '0 0 1 1 *' (UTC).")
    expect(noSchedule(logger)).toEqual([])
  })
})
