/**
 * Bad input, one case at a time, and never at the expense of anything else: each bad option is a
 * `ConfigurationError` at creation; each bad row, bad answer or unreachable worker ends as a
 * clear error on that row (or a warning naming it), while a control group of good subscriptions
 * processed in the same run all complete, each called once. Then the retry machinery: Retry-After,
 * no retry on a 4xx, the dead-letter queue, `retryFailed()`, and pausing after repeated failures.
 *
 * Worker answers come from a real `node:http` server through the scheduler's own HTTP client
 * (`workerUrl`), so status codes, headers and bodies are real; only the deleted-row case uses the
 * fake client, to hold calls back.
 */
import { DateTime } from 'luxon'
import pg from 'pg'
import type { Pool } from 'pg'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { ConfigurationError, createSubscriptionScheduler, isConfigurationError, RetryableError } from '../src/index.js'
import type { RunSummary, SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import type { CapturedLogger } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { closedPortUrl, pollUntil, startLocalWorker } from './support/reliability-support.js'
import type { HttpAnswer, LocalWorker } from './support/reliability-support.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'
import type { SeedOptions } from './support/seed.js'

const DEAD_LETTER_QUEUE = 'subscription-scheduler.dead'
const MAX_STORED = 4096
/** What JSON wrapping may add to a stored answer: `{"text": …, "truncated": true}` and escapes. */
const STORED_OVERHEAD = 256
const DEFAULT_ZONE = 'America/New_York'
const CONTROL_ZONE = 'Asia/Tokyo'
const MB = 1024 * 1024

let worker: LocalWorker

beforeAll(async () => {
  worker = await startLocalWorker()
})

afterAll(async () => {
  await worker?.close()
})

interface Db extends TestDatabase {
  schedulers: SubscriptionScheduler[]
}

/**
 * A database of its own (call from `beforeAll`). Its schedulers are stopped when the suite ends,
 * before the database is dropped (after-hooks run in reverse order of registration).
 */
async function useDatabase(): Promise<Db> {
  const db = Object.assign(await createTestDatabase(), { schedulers: [] as SubscriptionScheduler[] })
  afterAll(async () => {
    await Promise.allSettled(db.schedulers.map((s) => s.stop({ timeoutMs: 2_000 })))
  })
  return db
}

/** A started scheduler on `db` whose worker is the local HTTP server (through `workerUrl`). */
async function startScheduler(db: Db, options: SchedulerOptions = {}): Promise<{ scheduler: SubscriptionScheduler; logger: CapturedLogger }> {
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(db.pool, {
    workerUrl: worker.url,
    logger,
    migrate: false,
    timezone: DEFAULT_ZONE,
    concurrency: 32,
    pollingIntervalSeconds: 0.5,
    retry: { limit: 1, delaySeconds: 1, maxDelaySeconds: 1 },
    ...options,
  })
  db.schedulers.push(scheduler)
  await scheduler.start()
  return { scheduler, logger }
}

async function seedOne(db: TestDatabase, options: Omit<SeedOptions, 'count'>): Promise<string> {
  return (await seedSubscriptions(db.pool, { count: 1, ...options }))[0]!
}

async function rowOf(db: TestDatabase, id: string) {
  const [row] = await rowsFor(db.pool, [id])
  return row
}

async function storedResponseBytes(db: TestDatabase, id: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(`SELECT octet_length(last_response::text) AS n FROM subscription_processing WHERE subscription_id = $1`, [id])
  return rows[0]!.n
}

async function deadLetterJobs(db: TestDatabase, subscriptionId: string) {
  const { rows } = await db.pool.query<{ id: string; data: { subscriptionId: string; error: string }; source_name: string }>(
    `SELECT id, data, source_name FROM pgboss.job WHERE name = $1 AND data->>'subscriptionId' = $2`,
    [DEAD_LETTER_QUEUE, subscriptionId],
  )
  return rows
}

/** The local wall time of an instant in a zone, 'HH:mm'. */
function wallTime(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toFormat('HH:mm')
}

/**
 * The next daily slot after a first (off-slot) run now: 09:00 in `zone` on the next local day.
 * The run spent today's local day, even if today's 09:00 is still ahead.
 */
function expectNextDailySlot(nextRunAt: Date, zone: string): void {
  const today = DateTime.now().setZone(zone)
  expect(DateTime.fromJSDate(nextRunAt, { zone }).toISODate()).toBe(today.plus({ days: 1 }).toISODate())
  expect(wallTime(nextRunAt, zone)).toBe('09:00')
}

/** A control group: good subscriptions in `CONTROL_ZONE`, answered 200 by the worker. */
async function seedControls(db: TestDatabase, count: number): Promise<string[]> {
  return await seedSubscriptions(db.pool, { count, timezone: CONTROL_ZONE })
}

/** Every control completed this slot, called exactly once, with its next slot at 09:00 in its zone. */
async function expectControlsCompleted(db: TestDatabase, controls: string[]): Promise<void> {
  const rows = await rowsFor(db.pool, controls)
  expect(rows).toHaveLength(controls.length)
  for (const row of rows) {
    expect({ id: row.sid, status: row.status, error: row.error }).toEqual({ id: row.sid, status: 'completed', error: null })
    expectNextDailySlot(row.next_run_at, CONTROL_ZONE)
    expect(worker.callsFor(row.sid)).toHaveLength(1)
  }
}

// -------------------------------------------------------------------------------------------------

describe('invalid options: a ConfigurationError at creation, naming the option, touching nothing', () => {
  const cases: { name: string; options: Record<string, unknown>; option: string }[] = [
    { name: 'cron that is not a cron expression', options: { cron: 'every morning' }, option: 'cron' },
    { name: 'empty cron', options: { cron: '  ' }, option: 'cron' },
    { name: 'cron of 4 fields', options: { cron: '0 9 * *' }, option: 'cron' },
    { name: 'cron of 6 fields (seconds)', options: { cron: '0 0 9 * * *' }, option: 'cron' },
    { name: 'rescue cron of 6 fields', options: { rescueCron: '*/30 * * * * *' }, option: 'rescueCron' },
    { name: 'worker URL that already ends in /process', options: { workerUrl: 'http://worker.internal/process' }, option: 'workerUrl' },
    { name: 'autoEnroll that is not a boolean', options: { autoEnroll: 'yes' }, option: 'autoEnroll' },
    { name: 'unknown time zone', options: { timezone: 'Mars/Olympus' }, option: 'timezone' },
    { name: 'runAt out of range', options: { runAt: '25:00' }, option: 'runAt' },
    { name: 'zero concurrency', options: { concurrency: 0 }, option: 'concurrency' },
    { name: 'negative retry limit', options: { retry: { limit: -1 } }, option: 'retry.limit' },
    { name: 'retry cap below the delay', options: { retry: { delaySeconds: 60, maxDelaySeconds: 10 } }, option: 'retry.maxDelaySeconds' },
    { name: 'circuit breaker threshold of 0', options: { circuitBreaker: { failureThreshold: 0 } }, option: 'circuitBreaker.failureThreshold' },
    { name: 'non-http worker URL', options: { workerUrl: 'ftp://worker.internal' }, option: 'workerUrl' },
    { name: 'pg-boss cron interval of 0', options: { pgBoss: { cronMonitorIntervalSeconds: 0 } }, option: 'pgBoss.cronMonitorIntervalSeconds' },
    { name: 'unknown pg-boss key', options: { pgBoss: { cronIntervalSeconds: 1 } }, option: 'pgBoss.cronIntervalSeconds' },
    { name: 'polling faster than 0.5 s', options: { pollingIntervalSeconds: 0.1 }, option: 'pollingIntervalSeconds' },
    { name: 'pausing after 0 failures', options: { pauseAfterConsecutiveFailures: 0 }, option: 'pauseAfterConsecutiveFailures' },
    { name: 'zero stored response bytes', options: { maxStoredResponseBytes: 0 }, option: 'maxStoredResponseBytes' },
    { name: 'worker client without process()', options: { workerClient: {} }, option: 'workerClient' },
    { name: 'unknown option', options: { colour: 'blue' }, option: 'colour' },
    { name: "unknownFrequency neither 'daily' nor 'fail'", options: { unknownFrequency: 'strict' }, option: 'unknownFrequency' },
  ]

  test.each(cases)('$name → ConfigurationError for `$option`', ({ options, option }) => {
    // Creation must not touch the database: a pool that throws on any use proves it.
    const untouchable = new Proxy({}, { get: () => { throw new Error('the pool was used at creation') } }) as Pool
    let thrown: unknown
    try {
      createSubscriptionScheduler(untouchable, options as SchedulerOptions)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ConfigurationError)
    expect(isConfigurationError(thrown)).toBe(true)
    expect((thrown as ConfigurationError).option).toBe(option)
    expect((thrown as ConfigurationError).message).toContain(`\`${option}\``)
  })
})

describe('a pool that is not a pg.Pool: a ConfigurationError at creation', () => {
  const cases: { name: string; pool: unknown; says: RegExp }[] = [
    { name: 'undefined', pool: undefined, says: /expected a pg\.Pool, got undefined/ },
    { name: 'a connection string', pool: 'postgres://localhost/db', says: /got a string \(a connection string\?\)/ },
    { name: 'a pg.Client', pool: new pg.Client(), says: /not a pool \(a pg\.Client\?\)/ },
  ]
  test.each(cases)('$name', ({ pool, says }) => {
    let thrown: unknown
    try {
      createSubscriptionScheduler(pool as Pool, { workerClient: createFakeWorkerClient() })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ConfigurationError)
    expect((thrown as ConfigurationError).option).toBe('pool')
    expect((thrown as ConfigurationError).message).toMatch(says)
    expect((thrown as ConfigurationError).message).toContain('new pg.Pool(')
  })
})

describe("a pool whose connection settings are wrong: start() rejects with the driver's error, and logs what to check", () => {
  // A role the server refuses any connection to: its CONNECTION LIMIT is reached at once (roles are the server's).
  const limited = `pss_limited_${process.pid}_${Date.now()}`
  afterAll(async () => {
    const admin = new pg.Pool({ connectionString: inject('pgAdminUrl'), max: 1 })
    await admin.query(`DROP ROLE IF EXISTS ${limited}`).finally(() => admin.end())
  })
  const cases: { name: string; url: () => Promise<string>; says: RegExp }[] = [
    {
      name: "a role whose connection limit is reached: the server is up, and said to be",
      url: async () => {
        const admin = new pg.Pool({ connectionString: inject('pgAdminUrl'), max: 1 })
        await admin.query(`CREATE ROLE ${limited} LOGIN PASSWORD 'limited-password' CONNECTION LIMIT 0`).finally(() => admin.end())
        const u = new URL(inject('pgAdminUrl'))
        u.username = limited
        u.password = 'limited-password'
        return u.toString()
      },
      says: new RegExp(`^start\\(\\) could not use the database \\(too many connections for role "${limited}"\\): the server is up, but refused one more connection \\(the role's CONNECTION LIMIT or the server's max_connections is reached\\): lower the pools' max of the instances, or raise the limit\\. Nothing was started\\.$`),
    },
    { name: 'a port nobody listens on', url: async () => (await closedPortUrl()).replace('http:', 'postgres:') + '/none', says: /^start\(\) could not use the database \(connect ECONNREFUSED [^)]+\): the database did not answer, or went away: check the pool's connection settings \(host and port\) and that PostgreSQL is up\. Nothing was started\.$/ },
    { name: 'a database that does not exist', url: async () => { const u = new URL(inject('pgAdminUrl')); u.pathname = '/pss_no_such_database'; return u.toString() }, says: /^start\(\) could not use the database \(database "pss_no_such_database" does not exist\): the database named does not exist: check the database name in the pool's connection settings, or create it\. Nothing was started\.$/ },
  ]
  test.each(cases)('$name', async ({ url, says }) => {
    const pool = new pg.Pool({ connectionString: await url(), max: 2 })
    const logger = captureLogger()
    try {
      const scheduler = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), logger })
      await expect(scheduler.start()).rejects.toThrow()
      expect(logger.messages('error')).toEqual([expect.stringMatching(says)])
    } finally {
      await pool.end()
    }
  })
})

// -------------------------------------------------------------------------------------------------

interface RowCase {
  name: string
  seed: Omit<SeedOptions, 'count'>
  answer?: HttpAnswer
  /** Worker calls expected for this subscription. */
  calls: number
  status: 'completed' | 'failed'
  /** For failed rows: what the recorded error must say. */
  error?: (id: string) => (string | RegExp)[]
  check?: (ctx: { db: TestDatabase; id: string; logger: CapturedLogger }) => Promise<void>
}

const ROW_CASES: RowCase[] = [
  {
    name: "unknown frequency 'fortnightly' → processed daily, with a warning naming the subscription",
    seed: { frequency: 'fortnightly' },
    calls: 1,
    status: 'completed',
    async check({ db, id, logger }) {
      expectNextDailySlot((await rowOf(db, id)).next_run_at, DEFAULT_ZONE)
      expect(logger.messages('warn').filter((m) => m.includes(id) && m.includes('fortnightly') && m.includes('daily'))).toHaveLength(1)
    },
  },
  {
    name: 'null frequency → processed daily, with a warning naming the subscription',
    seed: { frequency: null },
    calls: 1,
    status: 'completed',
    async check({ db, id, logger }) {
      expectNextDailySlot((await rowOf(db, id)).next_run_at, DEFAULT_ZONE)
      expect(logger.messages('warn').filter((m) => m.includes(id) && m.includes('frequency') && m.includes('daily'))).toHaveLength(1)
    },
  },
  {
    name: "unknown row time zone 'Mars/Olympus' → failed naming the zone, worker not called",
    seed: { timezone: 'Mars/Olympus' },
    calls: 0,
    status: 'failed',
    error: () => ['Mars/Olympus', /time zone/],
  },
  {
    name: "null row time zone → the scheduler's zone is used",
    seed: { timezone: null },
    calls: 1,
    status: 'completed',
    async check({ db, id }) {
      expectNextDailySlot((await rowOf(db, id)).next_run_at, DEFAULT_ZONE)
    },
  },
  {
    name: 'null user_id → failed mentioning user_id, worker not called',
    seed: { userId: null },
    calls: 0,
    status: 'failed',
    error: (id) => ['user_id', id],
  },
  {
    name: 'non-JSON answer → success, stored as text',
    seed: {},
    answer: { headers: { 'content-type': 'text/plain' }, body: 'OK, queued for later' },
    calls: 1,
    status: 'completed',
    async check({ db, id }) {
      expect((await rowOf(db, id)).last_response).toEqual({ text: 'OK, queued for later' })
    },
  },
  {
    name: 'empty 200 answer → success, nothing stored',
    seed: {},
    answer: { body: '' },
    calls: 1,
    status: 'completed',
    async check({ db, id }) {
      expect((await rowOf(db, id)).last_response).toBeNull()
    },
  },
  {
    name: '204 No Content → success, nothing stored',
    seed: {},
    answer: { status: 204, body: '' },
    calls: 1,
    status: 'completed',
    async check({ db, id }) {
      expect((await rowOf(db, id)).last_response).toBeNull()
    },
  },
  {
    name: '1 MB JSON answer → success, stored truncated',
    seed: {},
    answer: { body: JSON.stringify({ report: 'x'.repeat(MB) }) },
    calls: 1,
    status: 'completed',
    async check({ db, id }) {
      const row = await rowOf(db, id)
      expect(row.last_response).toMatchObject({ truncated: true })
      expect(await storedResponseBytes(db, id)).toBeLessThanOrEqual(MAX_STORED + STORED_OVERHEAD)
      expect(JSON.stringify(row.last_response)).toContain('xxxxxxxx')
    },
  },
  {
    name: '1 MB non-JSON answer → success, stored truncated',
    seed: {},
    answer: { headers: { 'content-type': 'text/html' }, body: `<html>${'<p>hello</p>'.repeat(MB / 12)}</html>` },
    calls: 1,
    status: 'completed',
    async check({ db, id }) {
      const row = await rowOf(db, id)
      expect(row.last_response).toMatchObject({ truncated: true })
      expect(await storedResponseBytes(db, id)).toBeLessThanOrEqual(MAX_STORED + STORED_OVERHEAD)
      expect(JSON.stringify(row.last_response)).toContain('<p>hello</p>')
    },
  },
]

describe('bad rows and bad answers, processed in one run with a control group', () => {
  let db: Db
  let logger: CapturedLogger
  let summary: RunSummary
  let controls: string[]
  const ids = new Map<string, string>()

  beforeAll(async () => {
    db = await useDatabase()
    const started = await startScheduler(db)
    logger = started.logger
    // Controls before and after the bad rows: they share batches with them.
    controls = await seedControls(db, 15)
    for (const c of ROW_CASES) {
      const id = await seedOne(db, c.seed)
      ids.set(c.name, id)
      if (c.answer) worker.on(id, () => c.answer!)
    }
    controls.push(...(await seedControls(db, 15)))
    summary = await started.scheduler.runNow()
  })

  test('the run settles and adds up', () => {
    const completed = ROW_CASES.filter((c) => c.status === 'completed').length
    expect(summary).toMatchObject({
      processed: controls.length + ROW_CASES.length,
      successful: controls.length + completed,
      failed: ROW_CASES.length - completed,
      retried: 0,
      skipped: 0,
      error: null,
    })
  })

  test.each(ROW_CASES)('$name', async (c) => {
    const id = ids.get(c.name)!
    const row = await rowOf(db, id)
    expect(row.status).toBe(c.status)
    expect(worker.callsFor(id)).toHaveLength(c.calls)
    if (c.status === 'failed') {
      for (const part of c.error!(id)) expect(row.error).toMatch(part)
      // Bad data is not retried: one final failure, recorded for operators.
      expect(row.consecutive_failures).toBe(1)
      const { rows: failures } = await db.pool.query(`SELECT final, error FROM subscription_scheduler.failures WHERE subscription_id = $1`, [id])
      expect(failures).toEqual([{ final: true, error: row.error }])
    } else {
      expect(row.error).toBeNull()
    }
    await c.check?.({ db, id, logger })
  })

  test('the control group all completed, each called once', async () => {
    await expectControlsCompleted(db, controls)
    expect(logger.messages('error')).toEqual([])
  })
})

// -------------------------------------------------------------------------------------------------

describe('answers Postgres cannot store as they are (NUL bytes, broken surrogates)', () => {
  // The worker said 2xx (or failed with such a body); the row must record that, and the batch it
  // shares with the controls must still settle. jsonb refuses \u0000 and lone surrogates, and text
  // refuses NUL bytes, so the answer has to be sanitised before it is stored.
  let db: Db
  let scheduler: SubscriptionScheduler

  beforeAll(async () => {
    db = await useDatabase()
    ;({ scheduler } = await startScheduler(db, { retry: { limit: 0 } }))
  })

  async function runWithControls(answer: HttpAnswer): Promise<{ id: string; controls: string[]; run: RunSummary | undefined }> {
    await db.pool.query(`UPDATE subscriptions SET active = false`) // earlier cases stay out of this run
    const controls = await seedControls(db, 10)
    const id = await seedOne(db, {})
    worker.on(id, () => answer)
    const { runId } = await scheduler.runNow({ wait: false })
    const run = await pollUntil(async () => {
      const r = await scheduler.getRun(runId)
      return r.finishedAt ? r : undefined
    }, { timeoutMs: 8_000, what: 'the run to settle' }).catch(() => undefined)
    return { id, controls, run }
  }

  // Regression test (fixed in 58f4c71): the answer was stored verbatim, Postgres rejected it, and
  // the whole batch's settlement failed; pg-boss then retried the batch, calling every control again.
  test('a 2xx answer containing a NUL byte: success recorded, controls unaffected', async () => {
    const { id, controls, run } = await runWithControls({ headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0x4f, 0x4b, 0x00, 0x01]) })
    expect(run).toMatchObject({ successful: controls.length + 1, failed: 0 })
    expect((await rowOf(db, id)).status).toBe('completed')
    await expectControlsCompleted(db, controls)
  }, 30_000)

  test('a 500 answer whose body contains a NUL byte: failure recorded, controls unaffected', async () => {
    const { id, controls, run } = await runWithControls({ status: 500, body: 'boom\u0000' })
    expect(run).toMatchObject({ successful: controls.length, failed: 1 })
    expect((await rowOf(db, id)).error).toMatch(/500/)
    await expectControlsCompleted(db, controls)
  }, 30_000)

  // Regression test (fixed in 58f4c71): a 4,094-byte text answer is under the HTTP client's cap,
  // but wrapped as `{"text": …}` it is over 4096 bytes, and boundResponse() cut the JSON at 4096
  // UTF-16 units: through the middle of the first emoji. The lone surrogate is invalid jsonb.
  test('a 2xx answer whose stored prefix would cut an emoji in half: success recorded, controls unaffected', async () => {
    const { id, controls, run } = await runWithControls({ headers: { 'content-type': 'text/plain' }, body: `${'a'.repeat(4086)}😀😀` })
    expect(run).toMatchObject({ successful: controls.length + 1, failed: 0 })
    expect((await rowOf(db, id)).status).toBe('completed')
    await expectControlsCompleted(db, controls)
  }, 30_000)
})

// -------------------------------------------------------------------------------------------------

describe('stored answers are bounded by maxStoredResponseBytes', () => {
  let db: Db
  let small: SubscriptionScheduler
  let large: SubscriptionScheduler

  beforeAll(async () => {
    db = await useDatabase()
    ;({ scheduler: small } = await startScheduler(db))
    ;({ scheduler: large } = await startScheduler(db, { maxStoredResponseBytes: 16_384, queuePrefix: 'pss-large' }))
  })

  async function storedFor(scheduler: SubscriptionScheduler, body: string): Promise<{ id: string; bytes: number }> {
    const id = await seedOne(db, { nextRunInSeconds: 3600 })
    worker.on(id, () => ({ body }))
    expect(await scheduler.runSubscription(id)).toMatchObject({ successful: 1 })
    return { id, bytes: await storedResponseBytes(db, id) }
  }

  // Regression test (fixed in 58f4c71): boundResponse() measured bytes but cut UTF-16 units of JSON
  // text, then stored that text as a JSON string, escaped again: quotes and backslashes doubled.
  test('a 1 MB answer made of quotes is stored within 4096 bytes plus a small overhead', async () => {
    const { bytes } = await storedFor(small, '"'.repeat(MB))
    expect(bytes).toBeLessThanOrEqual(MAX_STORED + STORED_OVERHEAD)
  })

  test("a 1 MB error page is cut in the log line to its first 500 characters, which say where the rest is; the row keeps what it stores", async () => {
    const { scheduler, logger } = await startScheduler(db, { queuePrefix: 'pss-error-page', retry: { limit: 0 } })
    const id = await seedOne(db, { nextRunInSeconds: 3600 })
    worker.on(id, () => ({ status: 500, body: 'E'.repeat(MB) }))
    expect(await scheduler.runSubscription(id)).toMatchObject({ failed: 1 })
    const [line, ...others] = logger.messages('warn').filter((m) => m.includes(`Subscription ${id} failed`))
    expect(others).toEqual([])
    expect(line).toMatch(/Worker answered 500 .*: E+… \(\d+ more characters in the row's error, getSubscription\(\) and listFailures\(\)\)$/)
    expect(line!.length).toBeLessThan(800)
    const row = await rowOf(db, id)
    expect(row.error.length).toBeGreaterThan(1_900)
    expect((await scheduler.getSubscription(id)).error).toBe(row.error)
  })

  // Regression test (fixed in 58f4c71): resolveOptions() built the HTTP client without the option,
  // so the client kept reading 4096 bytes whatever maxStoredResponseBytes said.
  test('maxStoredResponseBytes: 16384 keeps more than 4096 bytes of a 1 MB answer', async () => {
    const { bytes } = await storedFor(large, JSON.stringify({ report: 'x'.repeat(MB) }))
    expect(bytes).toBeGreaterThan(16_384 - STORED_OVERHEAD)
    expect(bytes).toBeLessThanOrEqual(16_384 + STORED_OVERHEAD)
  })
})

// -------------------------------------------------------------------------------------------------

describe('an unreachable worker', () => {
  let db: Db
  beforeAll(async () => {
    db = await useDatabase()
  })

  test('with retry { limit: 1 }: the row fails with a network error after 2 attempts; a concurrent run is unaffected', async () => {
    const closed = await closedPortUrl()
    const retry = { limit: 1, delaySeconds: 1, maxDelaySeconds: 1 }
    // Two instances on one database: one whose workerUrl is a closed port, one whose worker works.
    const { scheduler: up } = await startScheduler(db, { retry })
    const { scheduler: down } = await startScheduler(db, { retry, workerUrl: closed, queuePrefix: 'pss-unreachable' })
    const controls = await seedControls(db, 20)
    // Not due, so only the run that names it takes it.
    const id = await seedOne(db, { nextRunInSeconds: 3600 })

    const [runUp, runDown] = await Promise.all([up.runNow(), down.runSubscription(id)])
    expect(runDown).toMatchObject({ processed: 1, successful: 0, failed: 1, retried: 1 })
    const row = await rowOf(db, id)
    expect(row.status).toBe('failed')
    expect(row.attempts).toBe(2)
    expect(row.error).toMatch(/^RetryableError: Network error calling the worker/)
    expect(row.error).toContain(`${closed}/process`)
    expect(row.error).toContain('ECONNREFUSED')
    const details = await down.getSubscription(id)
    expect(details.recentErrors.map((e) => [e.attempt, e.final])).toEqual([[2, true], [1, false]])

    expect(runUp).toMatchObject({ processed: controls.length, successful: controls.length, failed: 0 })
    await expectControlsCompleted(db, controls)
  }, 60_000)
})

// -------------------------------------------------------------------------------------------------

describe('a host subscription deleted while its job waits', () => {
  let db: Db
  beforeAll(async () => {
    db = await useDatabase()
  })

  test('the job is skipped, the run still settles, and nothing else is affected', async () => {
    // One call at a time, each slow: the rest of the run waits in the queue.
    const fake = createFakeWorkerClient().otherwise({ delayMs: 800 })
    const logger = captureLogger()
    const scheduler = createSubscriptionScheduler(db.pool, { workerClient: fake, logger, migrate: false, concurrency: 1, pollingIntervalSeconds: 0.5 })
    db.schedulers.push(scheduler)
    await scheduler.start()
    const ids = await seedSubscriptions(db.pool, { count: 6 })

    const { runId } = await scheduler.runNow({ wait: false })
    const [first] = await fake.waitForCalls(1, 10_000)
    const inFlight = first!.subscriptionId
    // One whose call is in flight, and one still waiting for its call. The sweep's two claim
    // loops may split the six over two pages, the second still committing at the first call.
    const queued = await pollUntil(async () => {
      const { rows } = await db.pool.query<{ sid: string }>(
        `SELECT subscription_id::text AS sid FROM subscription_processing
          WHERE subscription_id = ANY($1::uuid[]) AND subscription_id <> $2 AND status = 'queued' LIMIT 1`,
        [ids, inFlight],
      )
      return rows[0]?.sid
    }, { timeoutMs: 5_000, what: 'a second row to be claimed' })
    await db.pool.query(`DELETE FROM subscriptions WHERE id = ANY($1::uuid[])`, [[inFlight, queued]])

    const run = await pollUntil(async () => {
      const r = await scheduler.getRun(runId)
      return r.finishedAt ? r : undefined
    }, { timeoutMs: 20_000, what: 'the run to settle' })
    expect(run).toMatchObject({ processed: 6, successful: 4, failed: 0, retried: 0, skipped: 2, error: null })
    // Their rows went with the host rows (ON DELETE CASCADE); the queued one was never called.
    expect(await rowsFor(db.pool, [inFlight, queued])).toEqual([])
    expect(fake.callsFor(queued)).toEqual([])
    const others = ids.filter((id) => id !== inFlight && id !== queued)
    const rows = await rowsFor(db.pool, others)
    expect(rows.map((r) => r.status)).toEqual(others.map(() => 'completed'))
    for (const id of others) expect(fake.callsFor(id)).toHaveLength(1)
    // pg-boss holds nothing for them: no failed job, nothing dead-lettered. A job is completed
    // by pg-boss just after its last outcome is recorded (the run can finish first).
    const jobs = await pollUntil(async () => {
      const { rows } = await db.pool.query<{ state: string; name: string }>(`SELECT state, name FROM pgboss.job WHERE data->>'runId' = $1`, [runId])
      return rows.every((j) => j.state !== 'active') ? rows : undefined
    }, { timeoutMs: 10_000, what: "the run's jobs to be completed" })
    expect(jobs.every((j) => j.state === 'completed' && j.name === 'subscription-scheduler.process')).toBe(true)
    expect(logger.messages('error')).toEqual([])
  }, 60_000)

  test('many deleted while their retries wait: each retry is skipped, the run settles, with no deadlock between the settles', async () => {
    const fake = createFakeWorkerClient().otherwise({ fail: new RetryableError('busy'), failTimes: 1 })
    const logger = captureLogger()
    const scheduler = createSubscriptionScheduler(db.pool, {
      // Retries 3-6 s after their failure: all 40 first calls have failed, and the subscriptions
      // are deleted, before the first retry runs, even on a slow machine (at 1-2 s, a CI run saw
      // 8 retries called before the delete).
      workerClient: fake, logger, migrate: false, pollingIntervalSeconds: 0.5, queuePrefix: 'deleted-retries', retry: { limit: 3, delaySeconds: 6, maxDelaySeconds: 6 },
    })
    db.schedulers.push(scheduler)
    await scheduler.start()
    const ids = await seedSubscriptions(db.pool, { count: 40 })
    let retries = 0
    let firstRetryAt = Infinity
    scheduler.on('retry:scheduled', (e) => {
      retries += 1
      firstRetryAt = Math.min(firstRetryAt, e.retryAt?.getTime() ?? Infinity)
    })
    const { runId } = await scheduler.runNow({ wait: false })
    await pollUntil(() => retries >= ids.length, { timeoutMs: 20_000, what: 'every first call to fail' })
    await db.pool.query(`DELETE FROM subscriptions WHERE id = ANY($1::uuid[])`, [ids])
    expect(Date.now(), 'the delete came before the first retry was due (else this machine is too slow for this test)').toBeLessThan(firstRetryAt)

    const run = await pollUntil(async () => {
      const r = await scheduler.getRun(runId)
      return r.finishedAt ? r : undefined
    }, { timeoutMs: 30_000, what: 'the run to settle' })
    expect(run).toMatchObject({ processed: 40, successful: 0, retried: 40, skipped: 40, error: null })
    expect(logger.messages('warn').filter((m) => /deadlock/.test(m))).toEqual([])
    for (const id of ids) expect(fake.callsFor(id)).toHaveLength(1)
  }, 60_000)
})

// -------------------------------------------------------------------------------------------------

describe('retries, dead letters, retryFailed and pausing after repeated failures', () => {
  let db: Db
  let scheduler: SubscriptionScheduler
  let logger: CapturedLogger
  let first: RunSummary
  let controls: string[]
  // Scripted per subscription:
  let retryAfter: string // 503 + Retry-After: 3 once, then 200
  let unprocessable: string // 422 until the worker recovers
  let flaky: string // 500 on every attempt until the worker recovers
  let broken: string // 422 always: fails its slot twice, then is paused
  let recovered = false

  beforeAll(async () => {
    db = await useDatabase()
    ;({ scheduler, logger } = await startScheduler(db, {
      // Failed runs in a row, one sweep after another: no delay before a sweep retries a failed slot.
      retry: { limit: 2, delaySeconds: 1, maxDelaySeconds: 10, failedSlotDelaySeconds: 0 },
      pauseAfterConsecutiveFailures: 2,
    }))
    controls = await seedControls(db, 10)
    ;[retryAfter, unprocessable, flaky, broken] = await seedSubscriptions(db.pool, { count: 4 }) as [string, string, string, string]
    worker.on(retryAfter, (_, i) => (i === 0 ? { status: 503, headers: { 'retry-after': '3' }, body: 'busy' } : {}))
    worker.on(unprocessable, () => (recovered ? {} : { status: 422, body: '{"error":"bad subscription"}' }))
    worker.on(flaky, () => (recovered ? {} : { status: 500, body: 'database down' }))
    worker.on(broken, () => ({ status: 422, body: 'still broken' }))
    first = await scheduler.runNow()
  }, 60_000)

  test('the first run adds up', () => {
    expect(first).toMatchObject({
      processed: controls.length + 4,
      successful: controls.length + 1, // retryAfter, on its second attempt
      failed: 3, // unprocessable, flaky, broken
      retried: 3, // retryAfter once, flaky twice
      skipped: 0,
    })
  })

  test('Retry-After is honoured: the second call comes at least 3 s after the first, with the same key', async () => {
    const calls = worker.callsFor(retryAfter)
    expect(calls).toHaveLength(2)
    // delaySeconds is 1: only the worker's Retry-After explains a 3 s wait.
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(2_900)
    expect(calls.map((c) => c.request.attempt)).toEqual([1, 2])
    expect(calls[1]!.request.idempotencyKey).toBe(calls[0]!.request.idempotencyKey)
    expect(calls[1]!.headers['idempotency-key']).toBe(calls[0]!.request.idempotencyKey)
    // The log says when the retry comes, and why then: a trial could not tell a Retry-After
    // honoured from one capped or ignored.
    const said = logger.messages('warn').filter((m) => m.startsWith(`Subscription ${retryAfter} failed`))
    expect(said).toEqual([expect.stringMatching(/\(attempt 1, will retry in (2\.9|3\.0) s \(its Retry-After\)\): RetryableError: Worker answered 503/)])
    expect(logger.messages('warn').find((m) => m.startsWith(`Subscription ${flaky} failed (attempt 1`))).toMatch(/will retry in [01]\.\d s\): /)
    expect(await rowOf(db, retryAfter)).toMatchObject({ status: 'completed', error: null, consecutive_failures: 0 })
    expect(await deadLetterJobs(db, retryAfter)).toEqual([])
  })

  test('a 4xx is not retried: one call, the row failed, the job in the dead-letter queue', async () => {
    expect(worker.callsFor(unprocessable)).toHaveLength(1)
    const row = await rowOf(db, unprocessable)
    expect(row).toMatchObject({ status: 'failed', attempts: 1, consecutive_failures: 1 })
    expect(row.error).toMatch(/^PermanentError: Worker answered 422/)
    expect(row.error).toContain('bad subscription')
    const dead = await deadLetterJobs(db, unprocessable)
    expect(dead).toHaveLength(1)
    expect(dead[0]!.data).toMatchObject({ subscriptionId: unprocessable, scheduledFor: row.scheduled_for.toISOString(), status: 422 })
    expect(dead[0]!.data.error).toMatch(/^PermanentError: Worker answered 422/)
    // Its attempts were not spent: the log says why it is not retried (it said "no retry left").
    expect(logger.messages('warn').filter((m) => m.startsWith(`Subscription ${unprocessable} failed`))).toEqual([expect.stringMatching(/^Subscription \S+ failed \(attempt 1, permanent, not retried in this run: the row is failed until /)])
  })

  test('a 5xx is retried up to the limit; after the last attempt the row is failed and its job dead-lettered', async () => {
    const calls = worker.callsFor(flaky)
    expect(calls.map((c) => c.request.attempt)).toEqual([1, 2, 3])
    expect(new Set(calls.map((c) => c.request.idempotencyKey)).size).toBe(1)
    const row = await rowOf(db, flaky)
    expect(row).toMatchObject({ status: 'failed', attempts: 3, consecutive_failures: 1 })
    expect(row.error).toMatch(/^RetryableError: Worker answered 500/)
    expect(await deadLetterJobs(db, flaky)).toHaveLength(1)
    const details = await scheduler.getSubscription(flaky)
    expect(details.recentErrors.map((e) => [e.attempt, e.final])).toEqual([[3, true], [2, false], [1, false]])
    expect(details.recentErrors.every((e) => e.error.includes('500'))).toBe(true)
  })

  test('retryFailed() re-drives the failed rows: they complete once the worker recovers; a row that fails again is paused after its next failed run, not by the re-drive', async () => {
    recovered = true
    const before = new Map(controls.map((id) => [id, worker.callsFor(id).length]))
    const again = await scheduler.retryFailed()
    expect(again).toMatchObject({ trigger: 'retry', processed: 3, successful: 2, failed: 1, skipped: 0 })

    for (const id of [unprocessable, flaky]) {
      const row = await rowOf(db, id)
      expect(row).toMatchObject({ status: 'completed', error: null, consecutive_failures: 0 })
      // The same slot, retried: the same idempotency key as the failed attempts.
      const calls = worker.callsFor(id)
      expect(new Set(calls.map((c) => c.request.idempotencyKey)).size).toBe(1)
      expect(calls.at(-1)!.request.attempt).toBe(1)
    }

    // `broken` failed its slot again, but an operator's re-drive of a failed slot is not another
    // failed run: still failed, not paused.
    expect(await rowOf(db, broken)).toMatchObject({ status: 'failed', consecutive_failures: 1 })
    // The next sweep tries the slot again: a second run in a row that ends it failed.
    const next = await scheduler.runNow()
    expect(next).toMatchObject({ processed: 1, failed: 1 })
    // `broken` has now failed two runs in a row: paused, counted, and its errors listed.
    const row = await rowOf(db, broken)
    expect(row).toMatchObject({ status: 'paused', paused_reason: 'failures', consecutive_failures: 2 })
    expect(worker.callsFor(broken)).toHaveLength(3)
    const status = await scheduler.getStatus()
    expect(status.pausedForFailures).toBe(1)
    expect(status.counts.paused).toBe(1)
    const details = await scheduler.getSubscription(broken)
    expect(details.status).toBe('paused')
    expect(details.recentErrors).toHaveLength(3)
    expect(details.recentErrors.every((e) => e.final && e.error.includes('422') && e.error.includes('still broken') && e.status === 422)).toBe(true)
    expect(logger.messages('warn').some((m) => m.includes(broken) && m.includes('paused'))).toBe(true)
    // A paused row is not picked by a sweep.
    expect((await scheduler.runNow()).processed).toBe(0)
    expect(worker.callsFor(broken)).toHaveLength(3)

    // The controls were done, and stayed done: not called again by the retry.
    for (const id of controls) expect(worker.callsFor(id)).toHaveLength(before.get(id)!)
    await expectControlsCompleted(db, controls)

    // The pause is in the subscription's history, and so is retryFailed() lifting it.
    const paused = ['paused', row.scheduled_for, expect.stringMatching(/after 2 failed runs in a row .*retryFailed\(\) or resume\(\)/)]
    expect(details.history.map((h) => [h.kind, h.slot, h.detail])).toEqual([paused])
    await expect(scheduler.retryFailed({ subscriptionIds: [broken] })).resolves.toMatchObject({ processed: 1, failed: 1 })
    const lifted = (await scheduler.getSubscription(broken)).history.map((h) => [h.kind, h.slot, h.detail])
    // Newest first: paused again (its re-drive failed, and it had failed two runs in a row), lifted by the re-drive, paused.
    expect(lifted).toEqual([paused, ['resumed', row.scheduled_for, 'by retryFailed(), from its pause for failures'], paused])
  }, 30_000)
})
