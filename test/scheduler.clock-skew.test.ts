import { afterEach, expect, test, vi } from 'vitest'
import type { Pool } from 'pg'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { createSubscriptionScheduler, RetryableError } from '../src/index.js'
import type { SubscriptionScheduler, WorkerClient } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import type { CapturedLogger } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'

// A host whose clock is off: Date reads the real clock moved by `hostSkewMs`, exactly, as a host's
// clock that is off does (fake timers advanced by a timer fall behind real time on a loaded
// machine, which the scheduler rightly takes for steps of the clock). Timers, the monotonic clock
// and the database's clock are real.
const RealDate = Date
let hostSkewMs = 0
class HostDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + hostSkewMs)
    else super(...(args as [number]))
  }

  static override now(): number {
    return RealDate.now() + hostSkewMs
  }

  // A Date made before the clock was skewed is a Date still.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof RealDate
  }
}

let db: TestDatabase | undefined
let scheduler: SubscriptionScheduler | undefined

afterEach(async () => {
  await scheduler?.stop({ timeoutMs: 2000 })
  scheduler = undefined
  // Undone in the reverse order of doing: the fake timers put back the Date they found.
  vi.useRealTimers()
  globalThis.Date = RealDate
  hostSkewMs = 0
})

function skewHostClock(skewMs: number): void {
  hostSkewMs = skewMs
  globalThis.Date = HostDate as DateConstructor
}

async function databaseNow(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ ms: number }>(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`)
  return rows[0]!.ms
}

/** A subscription whose next run is `inSeconds` from now by the database's clock. */
async function dueIn(s: SubscriptionScheduler, pool: Pool, inSeconds: number): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
  const id = rows[0]!.id
  await s.enroll(id)
  await pool.query(
    `UPDATE subscription_processing SET next_run_at = clock_timestamp() + make_interval(secs => $2) WHERE subscription_id = $1`,
    [id, inSeconds],
  )
  return id
}

async function startSkewed(skewMs: number): Promise<{ s: SubscriptionScheduler; logger: CapturedLogger; worker: ReturnType<typeof createFakeWorkerClient>; pool: Pool }> {
  db = await createTestDatabase()
  skewHostClock(skewMs)
  const logger = captureLogger()
  const worker = createFakeWorkerClient()
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
  return { s: scheduler, logger, worker, pool: db.pool }
}

test('a host clock 90 s ahead of the database calls no slot before its time, and says by how much', async () => {
  const { s, logger, worker, pool } = await startSkewed(90_000)
  const due = await dueIn(s, pool, -30)
  const early = await dueIn(s, pool, 60)
  const before = await databaseNow(pool)
  const summary = await s.runNow()
  // By the host's clock both were due; by the database's, one is, the other in a minute.
  expect(summary).toMatchObject({ processed: 1, successful: 1 })
  expect(worker.calls.map((c) => c.subscriptionId)).toEqual([due])
  expect(worker.calls.map((c) => c.subscriptionId)).not.toContain(early)
  // The run's times are the database's too.
  expect(Math.abs(summary.startedAt.getTime() - before)).toBeLessThan(10_000)
  const warned = logger.messages('warn').filter((m) => m.includes("This host's clock"))
  expect(warned).toHaveLength(1)
  expect(warned[0]).toMatch(/This host's clock is (89|9\d)\.\d s ahead of the database server's\. The scheduler goes by the database's time/)
  // pg-boss's own line ("will not break scheduling") is not repeated beside it.
  expect(logger.messages('warn').filter((m) => /clock skew/i.test(m))).toEqual([])
})

test("a test runner's fake Date is named as such, with the scheduler's own clock as the way to move its time, not blamed on the host's time sync", async () => {
  // A trial's test faked only Date, as a warning suggested, and read "fix the host's time sync (NTP)".
  db = await createTestDatabase()
  vi.useFakeTimers({ toFake: ['Date'], now: new Date(RealDate.now() + 30 * 86_400_000) })
  const logger = captureLogger()
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger, migrate: false })
  await scheduler.start()
  const warned = logger.messages('warn').filter((m) => m.includes('database server'))
  expect(warned).toEqual([expect.stringMatching(/^This process's Date is a test runner's fake .*, 25\d{5}\.\d s ahead of the database server's clock\. .*createManualClock\(\) \(the `clock` option\)/)])
  expect(warned[0]).not.toMatch(/NTP/)
})

test('a host clock less than a second ahead is corrected all the same, without a word: no slot is called before its time', async () => {
  // A trial's host 0.9 s fast went uncorrected (only a second or more was), and called a slot 0.7 s early.
  db = await createTestDatabase()
  skewHostClock(900)
  const pool = db.pool
  const arrivals: { scheduledFor: number; arrivedAt: number }[] = []
  const worker: WorkerClient = {
    async process(request) {
      arrivals.push({ scheduledFor: Date.parse(request.scheduledFor), arrivedAt: await databaseNow(pool) })
      return { ok: true }
    },
  }
  const logger = captureLogger()
  scheduler = createSubscriptionScheduler(pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
  await dueIn(scheduler, pool, 0.5)
  // Asked again and again from the moment it is enrolled: by a clock 0.9 s fast it is due at once.
  await pollUntil(async () => ((await scheduler!.runNow()).processed === 1 ? true : null), { timeoutMs: 20_000, what: 'the slot to be called' })
  expect(arrivals).toHaveLength(1)
  expect(arrivals[0]!.arrivedAt).toBeGreaterThanOrEqual(arrivals[0]!.scheduledFor)
  expect(logger.messages('warn').filter((m) => m.includes("This host's clock"))).toEqual([])
})

test('a host clock 90 s behind the database calls a slot that is due, not a minute and a half late', async () => {
  const { s, logger, worker, pool } = await startSkewed(-90_000)
  const due = await dueIn(s, pool, -30)
  const summary = await s.runNow()
  expect(summary).toMatchObject({ processed: 1, successful: 1 })
  expect(worker.calls.map((c) => c.subscriptionId)).toEqual([due])
  expect(logger.messages('warn').filter((m) => m.includes("This host's clock"))).toEqual([
    expect.stringMatching(/This host's clock is (89|9\d)\.\d s behind the database server's/),
  ])
})

test("a host clock 10 minutes behind reports its circuit breaker's opening and hold by the database's clock, as the dashboard and the other instances read them", async () => {
  db = await createTestDatabase()
  skewHostClock(-600_000)
  const worker = createFakeWorkerClient().otherwise({ fail: new RetryableError('connect ECONNREFUSED 10.0.0.7:8080') })
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, retry: { limit: 0 }, circuitBreaker: { failureThreshold: 1, cooldownSeconds: 120 } })
  const opened: Date[] = []
  scheduler.on('breaker:opened', (e) => void opened.push(e.until))
  await scheduler.start()
  await dueIn(scheduler, db.pool, -30)
  await scheduler.runNow()
  const now = await databaseNow(db.pool)
  const { breaker } = scheduler.health()
  expect(breaker?.state).toBe('open')
  // Ten minutes early, by the host's clock.
  expect(Math.abs(breaker!.openSince!.getTime() - now)).toBeLessThan(30_000)
  expect(Math.abs(breaker!.until!.getTime() - (now + 120_000))).toBeLessThan(30_000)
  expect(opened.map((until) => until.getTime())).toEqual([breaker!.until!.getTime()])
})

test('an admin API served without start() on a host 10 minutes ahead keeps its sessions: the first sign-in reads the database\'s clock before minting one', async () => {
  db = await createTestDatabase()
  skewHostClock(600_000)
  // Not started: an admin-only process.
  const s = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger: captureLogger(), migrate: false })
  const token = 'skewed-admin-token-0123456789abcdef'
  const admin = createAdminHandler(s, { authorize: bearerToken(token), logger: captureLogger() })
  const signedIn = await admin.fetch(new Request('http://admin.test/sign-in', { method: 'POST', body: new URLSearchParams({ token }) }))
  expect(signedIn.status).toBe(303)
  const cookie = signedIn.headers.getSetCookie()[0]!.split(';')[0]!
  const status = () => admin.fetch(new Request('http://admin.test/status', { headers: { cookie } })).then((r) => r.status)
  // The first read corrects the clock (getStatus); minted by the host's, the session then ended
  // later than a sign-in now would, and was refused.
  expect([await status(), await status(), await status()]).toEqual([200, 200, 200])
})

test('a host clock that agrees with the database is not corrected, and nothing is said', async () => {
  const { s, logger, worker, pool } = await startSkewed(0)
  const due = await dueIn(s, pool, -5)
  await dueIn(s, pool, 60)
  expect(await s.runNow()).toMatchObject({ processed: 1 })
  expect(worker.calls.map((c) => c.subscriptionId)).toEqual([due])
  expect(logger.messages('warn').filter((m) => /clock/i.test(m))).toEqual([])
})

test('a method called without start() goes by the database\'s clock too, and says so once', async () => {
  db = await createTestDatabase()
  skewHostClock(90_000)
  const logger = captureLogger()
  // Not started: what the CLI's commands do.
  const s = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger, migrate: false })
  await dueIn(s, db.pool, -30)
  await dueIn(s, db.pool, 60)
  expect((await s.getStatus()).due).toBe(1)
  expect((await s.getStatus()).due).toBe(1)
  expect(logger.messages('warn').filter((m) => m.includes("This host's clock"))).toHaveLength(1)
})

test('a step of the host\'s clock while running (a VM resumed, NTP) calls no slot early: it is undone at once and read again', async () => {
  const { s, logger, worker, pool } = await startSkewed(0)
  const tomorrow = await dueIn(s, pool, 86_400 - 60)
  // The host's clock jumps a day ahead; the last reading of the database's is seconds old.
  hostSkewMs += 86_400_000
  const summary = await s.runNow()
  expect(summary).toMatchObject({ processed: 0 })
  expect(worker.calls.map((c) => c.subscriptionId)).not.toContain(tomorrow)
  expect(Math.abs(summary.startedAt.getTime() - (await databaseNow(pool)))).toBeLessThan(10_000)
  // The step asked for a reading at once, which says so.
  await expect.poll(() => logger.messages('warn').some((m) => /This host's clock is (86399|8640\d)\.\d s ahead of the database server's/.test(m)), { timeout: 10_000 }).toBe(true)
})
