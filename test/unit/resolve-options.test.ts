/**
 * Option validation, without a database: every bad option is a `ConfigurationError` thrown when
 * the scheduler is created, naming the option, the bad value and the fix; good options resolve to
 * the documented defaults. test/options.test.ts checks createSubscriptionScheduler() applies it.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { ConfigurationError } from '../../src/errors.js'
import type { RetryOptions, SchedulerOptions } from '../../src/config/options.js'
import { requireWorkerClient, resolveOptions } from '../../src/config/resolve-options.js'
import { captureLogger } from '../../src/testing.js'

const logger = captureLogger()

// Every test here controls SUBSCRIPTION_WORKER_URL itself; the machine's value must not leak in.
let savedWorkerUrl: string | undefined
beforeEach(() => {
  savedWorkerUrl = process.env.SUBSCRIPTION_WORKER_URL
  delete process.env.SUBSCRIPTION_WORKER_URL
})
afterEach(() => {
  if (savedWorkerUrl === undefined) delete process.env.SUBSCRIPTION_WORKER_URL
  else process.env.SUBSCRIPTION_WORKER_URL = savedWorkerUrl
})

/** The ConfigurationError that resolving `options` throws; fails the test if none. */
function rejectionOf(options: unknown): ConfigurationError {
  let thrown: unknown
  try {
    resolveOptions(options as SchedulerOptions)
  } catch (error) {
    thrown = error
  }
  if (thrown === undefined) throw new Error(`Expected a ConfigurationError for ${String(JSON.stringify(options))}, but the options resolved.`)
  expect(thrown).toBeInstanceOf(ConfigurationError)
  return thrown as ConfigurationError
}

interface BadCase {
  name: string
  options: Record<string, unknown>
  /** The option the error must name. */
  option: string
  /** Fragments the message must contain: the bad value, and the fix. */
  mentions: string[]
}

const badCases: BadCase[] = [
  { name: 'cron that is not a cron expression', options: { cron: 'not a cron' }, option: 'cron', mentions: ['"not a cron"', "'0 9 * * *'"] },
  { name: 'cron with a minute out of range', options: { cron: '61 * * * *' }, option: 'cron', mentions: ['"61 * * * *"', '0-59', "'0 9 * * *'"] },
  { name: 'empty cron (cron-parser would read it as every minute)', options: { cron: '' }, option: 'cron', mentions: ['""', "'0 9 * * *'"] },
  { name: 'cron that is not a string', options: { cron: 9 }, option: 'cron', mentions: ['9', "'0 9 * * *'"] },
  { name: 'unknown time zone', options: { timezone: 'Mars/Olympus' }, option: 'timezone', mentions: ['"Mars/Olympus"', 'IANA', "'Europe/Berlin'"] },
  { name: 'offset written in a form the runtime does not read', options: { timezone: 'UTC+5' }, option: 'timezone', mentions: ['"UTC+5"', "A fixed offset is written ±HH:MM, such as '+05:00'"] },
  { name: 'time zone that is not a string', options: { timezone: 1 }, option: 'timezone', mentions: ['a string', "'Europe/Berlin'", 'got 1.'] },
  { name: 'runAt with am/pm', options: { runAt: '9am' }, option: 'runAt', mentions: ['"9am"', "'HH:MM'"] },
  { name: 'runAt at hour 24', options: { runAt: '24:00' }, option: 'runAt', mentions: ['"24:00"', "'HH:MM'", "midnight is '00:00'"] },
  { name: 'runAt with seconds', options: { runAt: '09:00:00' }, option: 'runAt', mentions: ['"09:00:00"', "'HH:MM'"] },
  { name: 'runAt at minute 60', options: { runAt: '09:60' }, option: 'runAt', mentions: ['"09:60"', "'HH:MM'"] },
  { name: 'catchUp that is neither latest nor all', options: { catchUp: 'every' }, option: 'catchUp', mentions: ['"every"', "'latest'", "'all'"] },
  { name: 'catchUpWindowDays of 0', options: { catchUp: 'all', catchUpWindowDays: 0 }, option: 'catchUpWindowDays', mentions: ['0', 'from 1 to 36500', 'null for no limit'] },
  { name: 'catchUpWindowDays under a day (it would skip slots waiting for the next sweep)', options: { catchUp: 'all', catchUpWindowDays: 1e-9 }, option: 'catchUpWindowDays', mentions: ['1e-9', 'from 1', 'next sweep'] },
  { name: 'catchUpWindowDays as a string', options: { catchUp: 'all', catchUpWindowDays: '30d' }, option: 'catchUpWindowDays', mentions: ['"30d"', 'number of days'] },
  { name: "catchUpWindowDays with catchUp 'latest'", options: { catchUpWindowDays: 30 }, option: 'catchUpWindowDays', mentions: ["catchUp 'latest'", "Set catchUp: 'all'"] },
  { name: 'frequencies that is not an object', options: { frequencies: 'fortnightly' }, option: 'frequencies', mentions: ['fortnightly', "{ every: 2, unit: 'week' }"] },
  { name: 'a frequency rule with a zero step', options: { frequencies: { fortnightly: { every: 0, unit: 'week' } } }, option: 'frequencies.fortnightly.every', mentions: ['0', 'whole number from 1'] },
  { name: 'a frequency rule with weekdays on months', options: { frequencies: { odd: { every: 1, unit: 'month', weekdays: ['mon'] } } }, option: 'frequencies.odd.weekdays', mentions: ["unit 'week'"] },
  { name: 'zero concurrency', options: { concurrency: 0 }, option: 'concurrency', mentions: ['got 0', 'integer from 1'] },
  { name: 'negative concurrency', options: { concurrency: -1 }, option: 'concurrency', mentions: ['got -1', 'integer from 1'] },
  { name: 'fractional concurrency', options: { concurrency: 1.5 }, option: 'concurrency', mentions: ['got 1.5', 'integer from 1'] },
  { name: 'concurrency given as a string', options: { concurrency: '4' }, option: 'concurrency', mentions: ['got "4"', 'integer from 1'] },
  { name: 'misspelt option', options: { concurency: 4 }, option: 'concurency', mentions: ['`concurency`', 'unknown option; did you mean `concurrency`?', 'concurrency'] },
  { name: 'misspelt retry key', options: { retry: { limt: 1 } }, option: 'retry.limt', mentions: ['unknown key; did you mean `limit`? Known keys:'] },
  { name: 'retry key cut short', options: { retry: { maxDelay: 60 } }, option: 'retry.maxDelay', mentions: ['unknown key; did you mean `maxDelaySeconds`?'] },
  { name: 'retry key in another unit', options: { retry: { delayMs: 1000 } }, option: 'retry.delayMs', mentions: ['unknown key; did you mean `delaySeconds`?'] },
  { name: 'misspelt circuitBreaker key', options: { circuitBreaker: { failureTreshold: 5 } }, option: 'circuitBreaker.failureTreshold', mentions: ['did you mean `failureThreshold`?'] },
  { name: 'retry that is not an object', options: { retry: 3 }, option: 'retry', mentions: ['got 3', 'limit: 3'] },
  { name: 'retry: null', options: { retry: null }, option: 'retry', mentions: ['got null', 'limit: 3'] },
  { name: 'negative retry.limit', options: { retry: { limit: -1 } }, option: 'retry.limit', mentions: ['got -1', 'integer >= 0'] },
  { name: 'retry.limit beyond 1000', options: { retry: { limit: 1e9 } }, option: 'retry.limit', mentions: ['got 1000000000', '<= 1000'] },
  { name: 'retry delays beyond 30 days (a date pg-boss cannot store)', options: { retry: { delaySeconds: 9e12, maxDelaySeconds: 9e12 } }, option: 'retry.delaySeconds', mentions: ['got 9000000000000', 'from 1 to 2592000'] },
  { name: 'fractional retry.limit', options: { retry: { limit: 1.5 } }, option: 'retry.limit', mentions: ['got 1.5', 'integer >= 0'] },
  { name: 'zero retry.delaySeconds', options: { retry: { delaySeconds: 0 } }, option: 'retry.delaySeconds', mentions: ['got 0', 'integer from 1'] },
  { name: 'non-numeric retry.maxDelaySeconds', options: { retry: { maxDelaySeconds: 'an hour' } }, option: 'retry.maxDelaySeconds', mentions: ['got "an hour"', 'integer from 1'] },
  {
    name: 'retry.maxDelaySeconds below retry.delaySeconds',
    options: { retry: { delaySeconds: 60, maxDelaySeconds: 10 } },
    option: 'retry.maxDelaySeconds',
    mentions: ['got 10', 'retry.delaySeconds (60)'],
  },
  { name: 'unknown retry key', options: { retry: { retries: 3 } }, option: 'retry.retries', mentions: ['unknown key', 'limit, delaySeconds, maxDelaySeconds'] },
  { name: 'circuitBreaker that is a number', options: { circuitBreaker: 10 }, option: 'circuitBreaker', mentions: ['got 10', 'failureThreshold: 10'] },
  { name: 'circuitBreaker.failureThreshold of 0', options: { circuitBreaker: { failureThreshold: 0 } }, option: 'circuitBreaker.failureThreshold', mentions: ['got 0', 'integer from 1'] },
  { name: 'circuitBreaker.cooldownSeconds as a string', options: { circuitBreaker: { cooldownSeconds: '30s' } }, option: 'circuitBreaker.cooldownSeconds', mentions: ['got "30s"', 'integer from 1 to 86400'] },
  {
    name: 'circuitBreaker.maxCooldownSeconds below its cooldownSeconds',
    options: { circuitBreaker: { cooldownSeconds: 60, maxCooldownSeconds: 30 } },
    option: 'circuitBreaker.maxCooldownSeconds',
    mentions: ['got 30', 'circuitBreaker.cooldownSeconds (60)'],
  },
  { name: 'unknown circuitBreaker key', options: { circuitBreaker: { threshold: 5 } }, option: 'circuitBreaker.threshold', mentions: ['unknown key', 'failureThreshold, cooldownSeconds, maxCooldownSeconds'] },
  { name: 'logger that is a string', options: { logger: 'console' }, option: 'logger', mentions: ['debug()', 'consola'] },
  { name: 'logger without error()', options: { logger: { debug() {}, info() {}, warn() {} } }, option: 'logger', mentions: ['error()'] },
  { name: 'clock without now()', options: { clock: {} }, option: 'clock', mentions: ['now(): Date'] },
  { name: 'clock whose now is not a function', options: { clock: { now: 1_700_000_000_000 } }, option: 'clock', mentions: ['now(): Date'] },
  { name: 'migrate as a string', options: { migrate: 'yes' }, option: 'migrate', mentions: ['got "yes"', 'true or false'] },
  { name: 'migrate as a number', options: { migrate: 1 }, option: 'migrate', mentions: ['got 1', 'true or false'] },
  { name: 'queuePrefix with a space', options: { queuePrefix: 'my queue' }, option: 'queuePrefix', mentions: ['got "my queue"', 'letters, digits'] },
  { name: 'empty queuePrefix', options: { queuePrefix: '' }, option: 'queuePrefix', mentions: ['got ""', 'letters, digits'] },
  { name: 'queuePrefix over 60 characters', options: { queuePrefix: 'q'.repeat(61) }, option: 'queuePrefix', mentions: [`got "${'q'.repeat(61)}"`, 'at most 60'] },
  { name: 'queuePrefix that is not a string', options: { queuePrefix: 42 }, option: 'queuePrefix', mentions: ['got 42', 'letters, digits'] },
  { name: 'workerClient without process()', options: { workerClient: {} }, option: 'workerClient', mentions: ['process(request'] },
  { name: 'workerUrl that is not a URL', options: { workerUrl: 'worker:8080/x y' }, option: 'workerUrl', mentions: ['"worker:8080/x y"', "'http://worker.internal:8080'"] },
  { name: 'workerUrl that is not http(s)', options: { workerUrl: 'ftp://worker.internal' }, option: 'workerUrl', mentions: ['"ftp://worker.internal"', 'http(s)'] },
  { name: 'zero workerTimeoutMs', options: { workerTimeoutMs: 0 }, option: 'workerTimeoutMs', mentions: ['got 0'] },
  { name: 'pollingIntervalSeconds below 0.5', options: { pollingIntervalSeconds: 0.1 }, option: 'pollingIntervalSeconds', mentions: ['got 0.1', 'from 0.5'] },
  { name: 'upper-case bossSchema', options: { bossSchema: 'PgBoss' }, option: 'bossSchema', mentions: ['got "PgBoss"', 'lower-case'] },
  { name: 'bossSchema Postgres reserves', options: { bossSchema: 'pg_boss' }, option: 'bossSchema', mentions: ['"pg_boss" is reserved by Postgres', "'pgboss'"] },
  { name: "bossSchema that is the scheduler's own schema", options: { bossSchema: 'subscription_scheduler' }, option: 'bossSchema', mentions: ['not for pg-boss'] },
  { name: 'bossSchema public, beside the host\'s own tables', options: { bossSchema: 'public' }, option: 'bossSchema', mentions: ['"public" is where your own tables live', 'subscription', "'pgboss'"] },
  // Options the table above did not cover: each is validated at creation, not at first use.
  { name: 'schedule as a string', options: { schedule: 'yes' }, option: 'schedule', mentions: ['got "yes"', 'true or false'] },
  { name: 'rescueCron that is not a cron expression', options: { rescueCron: 'every minute' }, option: 'rescueCron', mentions: ['"every minute"'] },
  { name: 'zero claimBatchSize', options: { claimBatchSize: 0 }, option: 'claimBatchSize', mentions: ['got 0', 'integer from 1'] },
  { name: 'zero pauseAfterConsecutiveFailures', options: { pauseAfterConsecutiveFailures: 0 }, option: 'pauseAfterConsecutiveFailures', mentions: ['got 0'] },
  { name: 'zero historyRetentionDays', options: { historyRetentionDays: 0 }, option: 'historyRetentionDays', mentions: ['got 0'] },
  { name: 'maxStoredResponseBytes over 1 MiB', options: { maxStoredResponseBytes: 2_000_000 }, option: 'maxStoredResponseBytes', mentions: ['got 2000000', 'to 1048576'] },
  { name: 'pgBoss that is not an object', options: { pgBoss: 5 }, option: 'pgBoss', mentions: ['got 5'] },
  { name: 'unknown pgBoss key', options: { pgBoss: { archiveSeconds: 60 } }, option: 'pgBoss.archiveSeconds', mentions: ['unknown key', 'maintenanceIntervalSeconds'] },
  { name: 'zero maxConcurrentCalls', options: { maxConcurrentCalls: 0 }, option: 'maxConcurrentCalls', mentions: ['got 0'] },
  {
    name: 'retry.delaySeconds above the default retry.maxDelaySeconds',
    options: { retry: { delaySeconds: 7200 } },
    option: 'retry.maxDelaySeconds',
    mentions: ['retry.delaySeconds (7200)', '(the default)'],
  },
  { name: 'workerTimeoutMs that is NaN, shown as NaN (JSON would say null)', options: { workerTimeoutMs: Number.NaN }, option: 'workerTimeoutMs', mentions: ['got NaN'] },
  { name: 'concurrency given as a string, shown quoted', options: { concurrency: '16' }, option: 'concurrency', mentions: ['got "16"'] },
  { name: 'concurrency given as a BigInt (JSON cannot show one)', options: { concurrency: 16n }, option: 'concurrency', mentions: ['got 16n'] },
  { name: 'retry.limit that is Infinity', options: { retry: { limit: Number.POSITIVE_INFINITY } }, option: 'retry.limit', mentions: ['got Infinity'] },
  { name: 'a clock whose now() is not a Date', options: { clock: { now: () => 'x' } }, option: 'clock', mentions: ['valid Date', 'got "x"'] },
  { name: 'workerUrl with credentials in it', options: { workerUrl: 'https://user:secret@worker.internal' }, option: 'workerUrl', mentions: ['carries credentials', 'headers'] },
]

describe('resolveOptions rejects a bad option with a ConfigurationError', () => {
  test.each(badCases)('$name', ({ options, option, mentions }) => {
    const error = rejectionOf(options)
    expect(error.option).toBe(option)
    expect(error.code).toBe('CONFIGURATION')
    expect(error.message).toContain(`\`${option}\``)
    for (const fragment of mentions) expect(error.message).toContain(fragment)
  })

  test('options that are not an object', () => {
    const error = rejectionOf(null)
    expect(error.option).toBe('options')
    expect(error.message).toContain('got null')
  })

  test('a bad SUBSCRIPTION_WORKER_URL is reported as workerUrl, naming the variable', () => {
    process.env.SUBSCRIPTION_WORKER_URL = 'worker.internal:8080'
    const error = rejectionOf({ logger })
    expect(error.option).toBe('workerUrl')
    expect(error.message).toContain('SUBSCRIPTION_WORKER_URL')
    expect(error.message).toContain('"worker.internal:8080"')
  })
})

describe('resolveOptions with good options', () => {
  test('accepts every documented option at a valid value, and keeps each value', () => {
    const workerClient = { process: async () => ({ ok: true }) }
    const clock = { now: () => new Date() }
    const resolved = resolveOptions({
      workerClient,
      workerTimeoutMs: 5000,
      cron: '30 6 * * 1-5',
      timezone: 'Europe/Berlin',
      runAt: '7:05',
      concurrency: 1,
      claimBatchSize: 10,
      retry: { limit: 0, delaySeconds: 1, maxDelaySeconds: 1 },
      migrate: false,
      schedule: false,
      queuePrefix: 'tenant-a.jobs_1',
      bossSchema: 'pgboss',
      pollingIntervalSeconds: 0.5,
      pauseAfterConsecutiveFailures: 3,
      historyRetentionDays: 7,
      rescueCron: '*/5 * * * *',
      interruptedSweepAfterSeconds: 600,
      maxStoredResponseBytes: 16_384,
      pgBoss: { maintenanceIntervalSeconds: 120 },
      maxConcurrentCalls: 4,
      maxCallsPerSecond: 2.5,
      spreadMinutes: 10,
      frequencies: { fortnightly: { every: 2, unit: 'week' } },
      catchUp: 'all',
      catchUpWindowDays: 45.5,
      logger,
      clock,
    })
    expect(resolved.frequencies).toMatchObject({ fortnightly: { every: 2, unit: 'week' }, daily: { every: 1, unit: 'day' } })
    expect(resolved).toMatchObject({
      workerClient,
      workerTimeoutMs: 5000,
      cron: '30 6 * * 1-5',
      timezone: 'Europe/Berlin',
      runAt: '7:05',
      concurrency: 1,
      claimBatchSize: 10,
      retry: { limit: 0, delaySeconds: 1, maxDelaySeconds: 1 },
      migrate: false,
      schedule: false,
      queuePrefix: 'tenant-a.jobs_1',
      bossSchema: 'pgboss',
      pollingIntervalSeconds: 0.5,
      pauseAfterConsecutiveFailures: 3,
      historyRetentionDays: 7,
      rescueCron: '*/5 * * * *',
      interruptedSweepAfterSeconds: 600,
      maxStoredResponseBytes: 16_384,
      pgBoss: { maintenanceIntervalSeconds: 120 },
      maxConcurrentCalls: 4,
      maxCallsPerSecond: 2.5,
      spreadMinutes: 10,
      catchUp: 'all',
      catchUpWindowDays: 45.5,
      clock,
    })
    // The logger is called through a guard (a logger that throws changes nothing): it hears all.
    resolved.logger.warn('kept %s', 'whole')
    expect(logger.messages('warn')).toContain('kept whole')
  })

  test('no options resolve to the defaults the README documents', () => {
    expect(resolveOptions({ logger })).toMatchObject({
      workerTimeoutMs: 30_000,
      cron: '0 9 * * *',
      timezone: 'UTC',
      runAt: '09:00',
      concurrency: 16,
      claimBatchSize: 500,
      retry: { limit: 3, delaySeconds: 30, maxDelaySeconds: 3600 },
      pauseAfterConsecutiveFailures: null,
      circuitBreaker: null,
      migrate: true,
      queuePrefix: 'subscription-scheduler',
      bossSchema: 'pgboss',
      pollingIntervalSeconds: 1,
      rescueCron: '* * * * *',
      historyRetentionDays: 30,
      maxStoredResponseBytes: 4096,
      pgBoss: {},
      maxConcurrentCalls: null,
      maxCallsPerSecond: null,
      spreadMinutes: 0,
      catchUp: 'latest',
      catchUpWindowDays: null,
      frequencies: { daily: { every: 1, unit: 'day' }, weekly: { every: 1, unit: 'week' }, biweekly: { every: 2, unit: 'week' }, monthly: { every: 1, unit: 'month' }, quarterly: { every: 3, unit: 'month' }, yearly: { every: 1, unit: 'year' } },
    })
  })

  test("'EST' and 'MST' are taken, with a warning: one offset all year, an hour off the region's summer clocks; a zone with DST is not said", () => {
    const said = captureLogger()
    expect(resolveOptions({ timezone: 'EST', logger: said }).timezone).toBe('EST')
    expect(said.messages('warn')).toEqual([
      "The `timezone` option: Time zone \"EST\" is UTC−5 all year, with no daylight saving time: for New York's clocks use 'America/New_York' (or 'America/Panama' to say UTC−5 all year by a place's name).",
    ])
    resolveOptions({ timezone: 'mst', logger: said })
    expect(said.messages('warn')[1]).toContain("for Denver's clocks use 'America/Denver'")
    for (const timezone of ['America/New_York', 'EST5EDT', 'UTC', 'Etc/GMT', 'Etc/GMT+0']) resolveOptions({ timezone, logger: said })
    expect(said.messages('warn')).toHaveLength(2)
  })

  test("an Etc/GMT zone is taken with a warning of its inverted sign: 'Etc/GMT+3' is three hours behind UTC", () => {
    const said = captureLogger()
    expect(resolveOptions({ timezone: 'Etc/GMT+3', logger: said }).timezone).toBe('Etc/GMT+3')
    resolveOptions({ timezone: 'Etc/GMT-10', logger: said })
    expect(said.messages('warn')).toEqual([
      "The `timezone` option: Time zone \"Etc/GMT+3\" is UTC−3 all year: the sign of an Etc/GMT zone is inverted (POSIX's), so it is 3 hours behind UTC. For UTC+3 use 'Etc/GMT-3', or a place's zone to follow its clocks.",
      "The `timezone` option: Time zone \"Etc/GMT-10\" is UTC+10 all year: the sign of an Etc/GMT zone is inverted (POSIX's), so it is 10 hours ahead of UTC. For UTC−10 use 'Etc/GMT+10', or a place's zone to follow its clocks.",
    ])
  })

  test("a zone written in another case resolves to the zone's own name", () => {
    expect(resolveOptions({ timezone: 'europe/berlin', logger }).timezone).toBe('Europe/Berlin')
    expect(resolveOptions({ timezone: 'utc', logger }).timezone).toBe('UTC')
    // Only the case: a current name ICU resolves to a legacy alias stays as given.
    expect(resolveOptions({ timezone: 'Asia/Kolkata', logger }).timezone).toBe('Asia/Kolkata')
    expect(resolveOptions({ timezone: 'Europe/Kyiv', logger }).timezone).toBe('Europe/Kyiv')
  })

  test('a partial retry keeps the defaults of the keys it leaves out', () => {
    expect(resolveOptions({ logger, retry: { limit: 0 } }).retry).toEqual({ limit: 0, delaySeconds: 30, maxDelaySeconds: 3600, failedSlotDelaySeconds: 300, failedSlotMaxDelaySeconds: 21_600 })
  })

  test('the failed-slot delay: 0 is every sweep; either bound alone moves the default of the other; both given, the bound must be the larger', () => {
    const failedSlot = (retry: RetryOptions) => {
      const { failedSlotDelaySeconds, failedSlotMaxDelaySeconds } = resolveOptions({ logger, retry }).retry
      return [failedSlotDelaySeconds, failedSlotMaxDelaySeconds]
    }
    expect(failedSlot({ failedSlotDelaySeconds: 0 })).toEqual([0, 21_600])
    expect(failedSlot({ failedSlotMaxDelaySeconds: 60 })).toEqual([60, 60])
    expect(failedSlot({ failedSlotDelaySeconds: 86_400 })).toEqual([86_400, 86_400])
    expect(() => resolveOptions({ logger, retry: { failedSlotDelaySeconds: 600, failedSlotMaxDelaySeconds: 60 } })).toThrow(
      /`retry\.failedSlotMaxDelaySeconds`: must be at least retry\.failedSlotDelaySeconds \(600\), got 60\. Raise/,
    )
    expect(() => resolveOptions({ logger, retry: { failedSlotDelaySeconds: -1 } })).toThrow(/`retry\.failedSlotDelaySeconds`: expected an integer >= 0/)
  })

  test('circuitBreaker: true is the documented defaults; a partial one keeps the rest, and either bound alone moves the default of the other', () => {
    expect(resolveOptions({ logger, circuitBreaker: true }).circuitBreaker).toEqual({ failureThreshold: 10, cooldownSeconds: 30, maxCooldownSeconds: 300 })
    expect(resolveOptions({ logger, circuitBreaker: { failureThreshold: 3 } }).circuitBreaker).toEqual({ failureThreshold: 3, cooldownSeconds: 30, maxCooldownSeconds: 300 })
    expect(resolveOptions({ logger, circuitBreaker: { cooldownSeconds: 600 } }).circuitBreaker).toEqual({ failureThreshold: 10, cooldownSeconds: 600, maxCooldownSeconds: 600 })
    expect(resolveOptions({ logger, circuitBreaker: { maxCooldownSeconds: 10 } }).circuitBreaker).toEqual({ failureThreshold: 10, cooldownSeconds: 10, maxCooldownSeconds: 10 })
    expect(resolveOptions({ logger, circuitBreaker: {} }).circuitBreaker).toEqual({ failureThreshold: 10, cooldownSeconds: 30, maxCooldownSeconds: 300 })
    for (const off of [false, null, undefined]) expect(resolveOptions({ logger, circuitBreaker: off }).circuitBreaker).toBeNull()
  })

  test('a claim lease outlives the job that carries it, so a slow call is never claimed twice', () => {
    for (const workerTimeoutMs of [1000, 30_000, 600_000]) {
      const resolved = resolveOptions({ logger, workerTimeoutMs })
      expect(resolved.jobExpirySeconds * 1000).toBeGreaterThan(workerTimeoutMs)
      expect(resolved.claimLeaseSeconds).toBeGreaterThan(resolved.jobExpirySeconds)
    }
  })
})

describe('the worker', () => {
  test('with no workerClient and no URL there is none, and start() would refuse naming both ways to set one', () => {
    const resolved = resolveOptions({ logger })
    expect(resolved.workerClient).toBeUndefined()
    const error = (() => {
      try {
        requireWorkerClient(resolved)
      } catch (e) {
        return e as ConfigurationError
      }
    })()
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error?.option).toBe('workerClient')
    expect(error?.message).toContain('workerUrl')
    expect(error?.message).toContain('SUBSCRIPTION_WORKER_URL')
  })

  test('workerUrl, or else SUBSCRIPTION_WORKER_URL, gives the HTTP worker client', () => {
    expect(typeof resolveOptions({ logger, workerUrl: 'http://worker.internal:8080' }).workerClient?.process).toBe('function')
    process.env.SUBSCRIPTION_WORKER_URL = 'http://worker.internal:8080'
    const fromEnv = resolveOptions({ logger })
    expect(requireWorkerClient(fromEnv)).toBe(fromEnv.workerClient)
  })

  test('a workerClient wins over workerUrl, and over a SUBSCRIPTION_WORKER_URL the machine happens to have', () => {
    const workerClient = { process: async () => null }
    expect(resolveOptions({ logger, workerClient, workerUrl: 'http://worker.internal:8080' }).workerClient).toBe(workerClient)
    process.env.SUBSCRIPTION_WORKER_URL = 'not a URL'
    expect(resolveOptions({ logger, workerClient }).workerClient).toBe(workerClient)
  })
})
