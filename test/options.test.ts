import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { ConfigurationError, createSubscriptionScheduler, migrate, NotStartedError } from '../src/index.js'
import type { SchedulerOptions } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
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

async function insertHostSubscription(): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id::text`)
  return rows[0]!.id
}

// Each bad option, and the defaults, are checked without a database in test/unit/resolve-options.test.ts.
describe('createSubscriptionScheduler(pool, options) validates its options', () => {
  test('a bad option throws a ConfigurationError at once, naming it', () => {
    // Synchronous: the host finds out where it creates the scheduler, not at start().
    expect(() => createSubscriptionScheduler(db.pool, { concurrency: 0 })).toThrow(ConfigurationError)
    expect(() => createSubscriptionScheduler(db.pool, { concurency: 4 } as SchedulerOptions)).toThrow(/`concurency`: unknown option; did you mean `concurrency`\? Known options: /)
  })

  test('options that are not an object are a ConfigurationError too', () => {
    expect(() => createSubscriptionScheduler(db.pool, null as unknown as SchedulerOptions)).toThrow(/`options`: expected an object such as \{ workerUrl: 'http:\/\/worker:8080' \}, got null\./)
    // An array is an object to typeof, and has no unknown keys: it would pass as "no options".
    expect(() => createSubscriptionScheduler(db.pool, [] as unknown as SchedulerOptions)).toThrow(/`options`: expected an object such as .*, got \[\]\./)
  })
})

describe('options with a typo or an empty value are refused, never left to a default', () => {
  test('an empty workerUrl is refused where the scheduler is made, naming workerUrl; an empty SUBSCRIPTION_WORKER_URL is unset', () => {
    expect(() => createSubscriptionScheduler(db.pool, { workerUrl: '' })).toThrow(expect.objectContaining({ option: 'workerUrl', message: expect.stringContaining('"" is not an absolute URL') }))
    process.env.SUBSCRIPTION_WORKER_URL = ''
    expect(() => createSubscriptionScheduler(db.pool, {})).not.toThrow()
  })

  test("migrate()'s options: a typo names the option meant, and nothing is migrated", async () => {
    const error = await migrate(db.pool, { bosSchema: 'pgboss' } as never).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).message).toBe('Invalid option `bosSchema`: unknown option of migrate(); did you mean `bossSchema`? It takes migrationsFolder, bossSchema.')
  })

  test("a method's option with a typo reads as one sentence with its suggestion", async () => {
    const scheduler = createSubscriptionScheduler(db.pool, { logger, migrate: false })
    const id = await insertHostSubscription()
    await expect(scheduler.pause(id, { untill: new Date() } as never)).rejects.toThrow('Invalid option `untill`: unknown option of pause(); did you mean `until`? It takes until, note.')
  })
})

test('a call that outlasts workerTimeoutMs fails with a message naming the option to raise', async () => {
  const scheduler = createSubscriptionScheduler(db.pool, { logger, migrate: false, workerClient: createFakeWorkerClient().otherwise({ hang: true }), workerTimeoutMs: 200, retry: { limit: 0 }, pollingIntervalSeconds: 0.5 })
  const id = await insertHostSubscription()
  await scheduler.start()
  try {
    await scheduler.runSubscription(id)
    expect((await scheduler.getSubscription(id)).error).toBe(`RetryableError: Worker call for subscription ${id} timed out after 200 ms (the workerTimeoutMs option: raise it if the worker is just slow).`)
  } finally {
    await scheduler.stop({ timeoutMs: 1000 })
  }
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
