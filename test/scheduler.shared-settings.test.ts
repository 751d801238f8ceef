/**
 * The schedule settings the scheduling instances publish: the zone, time of day, catch-up, cadence
 * names and retry policy every other process (the CLI, a `schedule: false` instance) follows. Real
 * schedulers started on one database: the first publishes, one with `schedule: false` that
 * disagrees says which setting differs and changes nothing, and a scheduling instance with other
 * settings replaces them, saying so; the instances already running say so too, within a minute
 * (a trial's replica deployed with another zone split one run's slots, and only it said a word).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { BUILT_IN_FREQUENCIES } from '../src/schedule/frequency-rules.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { SETTINGS_CHECK_MS } from '../src/runtime/settings-watch.js'
import { followPublished, readSharedSettings } from '../src/runtime/shared-settings.js'
import type { CapturedLogger } from '../src/testing.js'
import { createTestDatabase, ownPool } from './support/database.js'
import type { TestDatabase } from './support/database.js'

const WORKDAYS = { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] } as const
const BERLIN = { timezone: 'Europe/Berlin', runAt: '07:00', frequencies: { workdays: WORKDAYS } } satisfies SchedulerOptions

let db: TestDatabase
const started: SubscriptionScheduler[] = []

beforeAll(async () => {
  db = await createTestDatabase()
})

afterAll(async () => {
  for (const scheduler of started) await scheduler.stop({ timeoutMs: 2000 })
})

/** Starts a real scheduler (cron far away: no sweep fires during the test) and returns its logger. */
async function start(options: SchedulerOptions): Promise<CapturedLogger> {
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(db.pool, {
    workerClient: createFakeWorkerClient(), cron: '0 0 1 1 *', pollingIntervalSeconds: 0.5, logger, ...options,
  })
  await scheduler.start()
  started.push(scheduler)
  return logger
}

async function publishedRow() {
  const { rows } = await db.pool.query(`SELECT scope, timezone, run_at, catch_up, frequencies, retry, unknown_frequency, auto_enroll, pause_after_failures FROM subscription_scheduler.settings`)
  return rows
}

/** The warnings about the shared settings, whatever else the instance logged. */
const settingsWarnings = (logger: CapturedLogger) => logger.messages('warn').filter((m) => /schedule settings/.test(m))

describe('shared schedule settings', () => {
  test('the first scheduling instance publishes its settings, the built-in cadences with its own, and warns about nothing', async () => {
    const logger = await start(BERLIN)
    expect(settingsWarnings(logger)).toEqual([])
    expect(await publishedRow()).toEqual([
      {
        scope: 'subscription-scheduler',
        timezone: 'Europe/Berlin',
        run_at: '07:00',
        catch_up: 'latest',
        frequencies: { ...BUILT_IN_FREQUENCIES, workdays: WORKDAYS },
        retry: { limit: 3, delaySeconds: 30, maxDelaySeconds: 3600, failedSlotDelaySeconds: 300, failedSlotMaxDelaySeconds: 21_600 },
        unknown_frequency: 'daily',
        auto_enroll: true,
        pause_after_failures: 0,
      },
    ])
  })

  test('a schedule: false instance with the same settings says nothing; one with another zone names it, and changes nothing', async () => {
    const agreeing = await start({ ...BERLIN, schedule: false })
    expect(settingsWarnings(agreeing)).toEqual([])

    const before = await publishedRow()
    const disagreeing = await start({ ...BERLIN, timezone: 'America/New_York', schedule: false })
    const warnings = settingsWarnings(disagreeing)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("differ from those the scheduling instances published: timezone 'Europe/Berlin' → 'America/New_York'")
    // What it decides by its own options: above all the next slot of every subscription it calls.
    expect(warnings[0]).toContain('The next slot of each subscription it calls')
    // Only the setting that differs is named.
    expect(warnings[0]).not.toMatch(/runAt|catchUp|frequencies|retry/)
    expect(await publishedRow()).toEqual(before)
  })

  test('a schedule: false instance with another retry policy names it: the calls it makes would retry otherwise', async () => {
    const before = await publishedRow()
    const warnings = settingsWarnings(await start({ ...BERLIN, retry: { delaySeconds: 5 }, schedule: false }))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('differ from those the scheduling instances published: retry.delaySeconds 30 → 5 (published → this instance)')
    expect(warnings[0]).toContain('the retries of its calls follow its own options')
    expect(await publishedRow()).toEqual(before)
  })

  test('a scheduling instance with other settings replaces them, names each one, and the row holds the new ones', async () => {
    const logger = await start({ timezone: 'Asia/Tokyo', runAt: '06:30', catchUp: 'all', retry: { limit: 5 }, unknownFrequency: 'fail', autoEnroll: false, pauseAfterConsecutiveFailures: 3 })
    const warnings = settingsWarnings(logger)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^Replacing the published schedule settings: /)
    for (const phrase of [
      "timezone 'Europe/Berlin' → 'Asia/Tokyo'",
      "runAt '07:00' → '06:30'",
      "catchUp 'latest' → 'all'",
      'frequencies (workdays)',
      'retry.limit 3 → 5',
      "unknownFrequency 'daily' → 'fail'",
      'autoEnroll true → false',
      'pauseAfterConsecutiveFailures never → 3',
    ]) {
      expect(warnings[0]).toContain(phrase)
    }
    expect(await publishedRow()).toEqual([
      {
        scope: 'subscription-scheduler',
        timezone: 'Asia/Tokyo',
        run_at: '06:30',
        catch_up: 'all',
        frequencies: BUILT_IN_FREQUENCIES,
        retry: { limit: 5, delaySeconds: 30, maxDelaySeconds: 3600, failedSlotDelaySeconds: 300, failedSlotMaxDelaySeconds: 21_600 },
        unknown_frequency: 'fail',
        auto_enroll: false,
        pause_after_failures: 3,
      },
    ])
  })

  test('an older version publishing after this one (a rolling deploy, an old pod restarting) leaves the newer columns behind: they are read as never published, and the CLI says so', async () => {
    await start({ catchUp: 'all', catchUpWindowDays: 5, autoEnroll: false, pauseAfterConsecutiveFailures: 3 })
    await expect(readSharedSettings(db.pool, 'subscription-scheduler')).resolves.toMatchObject({ autoEnroll: false, pauseAfterConsecutiveFailures: 3, catchUpWindowDays: 5 })
    // What an instance before migration 0019 writes: the columns it knows, and updated_at.
    await db.pool.query(`UPDATE subscription_scheduler.settings SET run_at = '08:15', updated_at = now() + interval '1 second'`)
    const read = await readSharedSettings(db.pool, 'subscription-scheduler')
    expect(read).toMatchObject({ runAt: '08:15', catchUp: 'all', autoEnroll: null, pauseAfterConsecutiveFailures: null, catchUpWindowDays: undefined, olderWriter: true })
    const cli: SchedulerOptions = {}
    const logger = captureLogger()
    followPublished(cli, read!, logger)
    followPublished(cli, read!, logger)
    expect(cli).toMatchObject({ runAt: '08:15', catchUp: 'all', autoEnroll: undefined, pauseAfterConsecutiveFailures: undefined, catchUpWindowDays: undefined })
    expect(logger.messages('warn')).toEqual([expect.stringContaining('published last by an older version of the scheduler (before migration 0019)')])
    // An instance of this version publishing again makes them known again.
    await start({ catchUp: 'all', catchUpWindowDays: 5, autoEnroll: false, pauseAfterConsecutiveFailures: 3 })
    const again = await readSharedSettings(db.pool, 'subscription-scheduler')
    expect(again).toMatchObject({ autoEnroll: false, pauseAfterConsecutiveFailures: 3, catchUpWindowDays: 5 })
    expect(again).not.toHaveProperty('olderWriter')
  })

  /** A replica deployed with another zone or cron: the instances already running say so too. */
  const DRIFT = 'settings-drift'
  /** An instance on a queue prefix of its own (its own settings and schedule), on a clock of the test's. */
  const replicas: { stop(): Promise<void> }[] = []
  /** As another process would run it: on a pool of its own (each instance listens on its pool). */
  const replica = async (options: SchedulerOptions) => {
    const clock = createManualClock()
    const logger = captureLogger()
    const pool = ownPool(db.url, 4)
    const scheduler = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), pollingIntervalSeconds: 0.5, logger, clock, queuePrefix: DRIFT, ...options })
    replicas.push({ stop: async () => (await scheduler.stop({ timeoutMs: 2000 }), await pool.end()) })
    await scheduler.start()
    return { logger, clock }
  }
  const driftWarnings = (logger: CapturedLogger) => logger.messages('warn').filter((m) => /since this instance started/.test(m))

  afterAll(async () => {
    for (const one of replicas) await one.stop()
  })

  test('instances running when another replaces the settings and the cron warn within a minute, once, naming each difference; the one that replaced them does not', async () => {
    const first = await replica({ cron: '0 0 1 1 *', timezone: 'UTC' })
    const second = await replica({ cron: '0 0 1 1 *', timezone: 'UTC', schedule: false })
    const replacing = await replica({ cron: '0 0 2 1 *', timezone: 'America/New_York' })

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
    const restoring = await replica({ cron: '0 0 1 1 *', timezone: 'UTC' })
    for (const { clock } of [first, second, replacing, restoring]) clock.advance(SETTINGS_CHECK_MS + 1)
    await expect.poll(() => first.logger.messages('info').filter((m) => /agree with this instance's options again/.test(m)).length, { timeout: 15_000 }).toBe(1)
    await expect.poll(() => driftWarnings(replacing.logger), { timeout: 15_000 }).toEqual([
      expect.stringMatching(/^Another instance replaced the published schedule settings since this instance started: cron '0 0 2 1 \*' → '0 0 1 1 \*', timezone 'America\/New_York' → 'UTC'/),
    ])
    expect(driftWarnings(first.logger)).toHaveLength(1)
    expect(driftWarnings(restoring.logger)).toEqual([])
  })
})
