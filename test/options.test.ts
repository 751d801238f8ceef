import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { ConfigurationError, createSubscriptionScheduler, NotStartedError } from '../src/index.js'
import type { SchedulerOptions } from '../src/index.js'
import { captureLogger } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'

let db: TestDatabase
const logger = captureLogger()

beforeAll(async () => {
  db = await createTestDatabase()
})

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

/** The ConfigurationError that creating a scheduler with `options` throws; fails the test if none. */
function rejectionOf(options: unknown): ConfigurationError {
  let thrown: unknown
  try {
    createSubscriptionScheduler(db.pool, options as SchedulerOptions)
  } catch (error) {
    thrown = error
  }
  if (thrown === undefined) throw new Error(`Expected a ConfigurationError for ${String(JSON.stringify(options))}, but the scheduler was created.`)
  expect(thrown).toBeInstanceOf(ConfigurationError)
  return thrown as ConfigurationError
}

async function insertHostSubscription(): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id::text`)
  return rows[0]!.id
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
  { name: 'runAt with am/pm', options: { runAt: '9am' }, option: 'runAt', mentions: ['"9am"', "'HH:MM'"] },
  { name: 'runAt at hour 24', options: { runAt: '24:00' }, option: 'runAt', mentions: ['"24:00"', "'HH:MM'"] },
  { name: 'runAt with seconds', options: { runAt: '09:00:00' }, option: 'runAt', mentions: ['"09:00:00"', "'HH:MM'"] },
  { name: 'runAt at minute 60', options: { runAt: '09:60' }, option: 'runAt', mentions: ['"09:60"', "'HH:MM'"] },
  { name: 'zero concurrency', options: { concurrency: 0 }, option: 'concurrency', mentions: ['got 0', 'integer from 1'] },
  { name: 'negative concurrency', options: { concurrency: -1 }, option: 'concurrency', mentions: ['got -1', 'integer from 1'] },
  { name: 'fractional concurrency', options: { concurrency: 1.5 }, option: 'concurrency', mentions: ['got 1.5', 'integer from 1'] },
  { name: 'concurrency given as a string', options: { concurrency: '4' }, option: 'concurrency', mentions: ['got "4"', 'integer from 1'] },
  { name: 'misspelt option', options: { concurency: 4 }, option: 'concurency', mentions: ['`concurency`', 'unknown option', 'concurrency'] },
  { name: 'retry that is not an object', options: { retry: 3 }, option: 'retry', mentions: ['got 3', 'limit: 3'] },
  { name: 'retry: null', options: { retry: null }, option: 'retry', mentions: ['got null', 'limit: 3'] },
  { name: 'negative retry.limit', options: { retry: { limit: -1 } }, option: 'retry.limit', mentions: ['got -1', 'integer >= 0'] },
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
]

describe('createSubscriptionScheduler(pool, options) validates its options', () => {
  test.each(badCases)('throws a ConfigurationError for $name', ({ options, option, mentions }) => {
    const error = rejectionOf(options)
    expect(error.option).toBe(option)
    expect(error.code).toBe('CONFIGURATION')
    expect(error.message).toContain(`\`${option}\``)
    for (const fragment of mentions) expect(error.message).toContain(fragment)
  })

  test('throws a ConfigurationError when options is not an object', () => {
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

  test('accepts every documented option at a valid value', () => {
    const scheduler = createSubscriptionScheduler(db.pool, {
      workerClient: { process: async () => ({ ok: true }) },
      workerTimeoutMs: 5000,
      cron: '30 6 * * 1-5',
      timezone: 'Europe/Berlin',
      runAt: '7:05',
      concurrency: 1,
      claimBatchSize: 10,
      retry: { limit: 0, delaySeconds: 1, maxDelaySeconds: 1 },
      migrate: false,
      queuePrefix: 'tenant-a.jobs_1',
      bossSchema: 'pgboss',
      pollingIntervalSeconds: 0.5,
      logger,
      clock: { now: () => new Date() },
    })
    expect(typeof scheduler.start).toBe('function')
  })
})

describe('a scheduler without a worker', () => {
  test('can enrol and report, but start() refuses with a ConfigurationError naming workerClient and SUBSCRIPTION_WORKER_URL', async () => {
    const scheduler = createSubscriptionScheduler(db.pool, { migrate: false, logger })
    const id = await insertHostSubscription()
    const enrolled = await scheduler.enroll(id)
    expect(enrolled).toMatchObject({ subscriptionId: id, status: 'pending', created: true })
    const status = await scheduler.getStatus()
    expect(status.counts.pending).toBeGreaterThanOrEqual(1)

    const error = await scheduler.start().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).option).toBe('workerClient')
    expect((error as ConfigurationError).message).toContain('SUBSCRIPTION_WORKER_URL')
    expect((error as ConfigurationError).message).toContain('workerUrl')
    // The failed start left nothing running, and stop() has nothing to do.
    await expect(scheduler.runNow()).rejects.toBeInstanceOf(NotStartedError)
    await scheduler.stop()
  })

  test('uses SUBSCRIPTION_WORKER_URL when set: start() succeeds and runNow() posts to that worker', async () => {
    const received: { url: string | undefined; body: { subscriptionId: string } }[] = []
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        received.push({ url: req.url, body: JSON.parse(body) as { subscriptionId: string } })
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}')
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    process.env.SUBSCRIPTION_WORKER_URL = `http://127.0.0.1:${port}`
    const scheduler = createSubscriptionScheduler(db.pool, { migrate: false, logger, queuePrefix: 'options-env', pollingIntervalSeconds: 0.5 })
    try {
      await scheduler.start()
      const id = await insertHostSubscription()
      await scheduler.enroll(id)
      const summary = await scheduler.runNow()
      expect(summary.successful).toBe(summary.processed)
      expect(received.filter((r) => r.body.subscriptionId === id)).toEqual([{ url: '/process', body: expect.objectContaining({ subscriptionId: id }) }])
    } finally {
      await scheduler.stop({ timeoutMs: 1000 })
      server.close()
    }
  })
})

describe('defaults', () => {
  /** The first 09:00 UTC strictly after `at`. */
  function next0900Utc(at: Date): string {
    const candidate = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate(), 9, 0, 0, 0))
    if (candidate.getTime() <= at.getTime()) candidate.setUTCDate(candidate.getUTCDate() + 1)
    return candidate.toISOString()
  }

  test('with default options the next sweep fires at the next 09:00 UTC', async () => {
    const before = new Date()
    const status = await createSubscriptionScheduler(db.pool).getStatus()
    const after = new Date()
    // Both bounds agree except within a call that straddles 09:00 UTC itself.
    expect([next0900Utc(before), next0900Utc(after)]).toContain(status.nextFireAt.toISOString())
  })

  test('the default cron is 09:00 daily in UTC, whatever the time of day', async () => {
    const cases = [
      ['2026-07-14T08:59:59.000Z', '2026-07-14T09:00:00.000Z'],
      ['2026-07-14T09:00:00.001Z', '2026-07-15T09:00:00.000Z'],
      ['2026-12-31T23:30:00.000Z', '2027-01-01T09:00:00.000Z'],
    ] as const
    for (const [now, expected] of cases) {
      const status = await createSubscriptionScheduler(db.pool, { clock: { now: () => new Date(now) }, logger }).getStatus()
      expect({ now, next: status.nextFireAt.toISOString() }).toEqual({ now, next: expected })
    }
  })
})
