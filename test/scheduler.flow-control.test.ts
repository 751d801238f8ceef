/**
 * Protecting the worker service: a cap on calls in flight and a rate of calls, both shared by
 * every instance on the database, and a spread of each sweep's calls over a window.
 */
import { beforeEach, describe, expect, test } from 'vitest'
import { ConfigurationError, createSubscriptionScheduler } from '../src/index.js'
import type { ProcessRequest, SchedulerOptions, WorkerClient } from '../src/index.js'
import { createCallGate } from '../src/process/call-gate.js'
import { configureLimits } from '../src/process/configure-limits.js'
import { createGlobalLimits } from '../src/process/global-limits.js'
import { spreadOffsetMs } from '../src/schedule/spread.js'
import { captureLogger } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { instancesStoppedAfterEach, pollUntil, waitingForLocks } from './support/reliability-support.js'
import type { Instance } from './support/reliability-support.js'
import { heldRateClock } from './support/held-rate-clock.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

let db: TestDatabase
const fleet = instancesStoppedAfterEach()

beforeEach(async () => {
  db = await createTestDatabase()
})

/** A worker shared by every instance that records when each call started and how many overlapped. */
function recordingWorker(callMs: number) {
  const starts: { at: number; request: ProcessRequest }[] = []
  let inFlight = 0
  let maxInFlight = 0
  const client: WorkerClient = {
    async process(request) {
      starts.push({ at: Date.now(), request })
      inFlight += 1
      maxInFlight = Math.max(maxInFlight, inFlight)
      try {
        // The worker's own latency: long enough for calls from every instance to overlap.
        await new Promise((resolve) => setTimeout(resolve, callMs))
        return { ok: true }
      } finally {
        inFlight -= 1
      }
    },
  }
  return { client, starts, maxInFlight: () => maxInFlight }
}

/** `count` instances with their own pools, all calling the same worker service. */
function startInstances(count: number, options: SchedulerOptions, worker: WorkerClient): Promise<Instance[]> {
  return fleet.start(db.url, count, options, worker)
}

describe('maxConcurrentCalls', () => {
  test('holds across three instances: never more calls in flight than the cap, and every row completes', async () => {
    const worker = recordingWorker(40)
    const [first] = await startInstances(3, { concurrency: 8, maxConcurrentCalls: 5 }, worker.client)
    const ids = await seedSubscriptions(db.pool, { count: 90 })
    const run = await first!.scheduler.runNow()
    expect(run).toMatchObject({ processed: 90, successful: 90 })
    // Without the cap the three instances would run up to 24 calls at once.
    expect(worker.maxInFlight()).toBeLessThanOrEqual(5)
    expect(worker.maxInFlight()).toBe(5)
    expect(new Set(worker.starts.map((s) => s.request.subscriptionId))).toEqual(new Set(ids))
    expect((await rowsFor(db.pool, ids)).every((r) => r.status === 'completed')).toBe(true)
    // Every permit was given back.
    const { rows } = await db.pool.query(`SELECT count(*)::int AS held FROM subscription_scheduler.call_permits WHERE expires_at > now()`)
    expect(rows[0].held).toBe(0)
  })

  test('a permit held by an instance that died comes back when it expires', async () => {
    const worker = recordingWorker(1)
    const [instance] = await startInstances(1, { concurrency: 4, maxConcurrentCalls: 2 }, worker.client)
    // A dead instance's permits: one expired a moment ago, one still held for an hour.
    await db.pool.query(`UPDATE subscription_scheduler.call_permits SET holder = gen_random_uuid(), expires_at = now() - interval '1 second' WHERE slot = 0`)
    await db.pool.query(`UPDATE subscription_scheduler.call_permits SET holder = gen_random_uuid(), expires_at = now() + interval '1 hour' WHERE slot = 1`)
    await seedSubscriptions(db.pool, { count: 6 })
    const run = await instance!.scheduler.runNow()
    expect(run).toMatchObject({ processed: 6, successful: 6 })
    // One permit was usable, so the calls ran one at a time.
    expect(worker.maxInFlight()).toBe(1)
  })
})

test('an instance that changes maxConcurrentCalls for the others says so; one that keeps it says nothing', async () => {
  const logger = captureLogger()
  await configureLimits(db.pool, 'changing-cap', { maxConcurrentCalls: 5, maxCallsPerSecond: null }, logger)
  await configureLimits(db.pool, 'changing-cap', { maxConcurrentCalls: 5, maxCallsPerSecond: null }, logger)
  expect(logger.messages('warn')).toEqual([])
  await configureLimits(db.pool, 'changing-cap', { maxConcurrentCalls: 3, maxCallsPerSecond: null }, logger)
  expect(logger.messages('warn')).toEqual([
    "maxConcurrentCalls changes from 5 to 3 for every instance on queuePrefix 'changing-cap' (the last instance to start sets it): give every instance the same value.",
  ])
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.call_permits WHERE scope = 'changing-cap'`)
  expect(rows[0].n).toBe(3)
})

test('stop() while calls wait for a permit: they are never made, their rows stay owed, and the permit goes back', async () => {
  const starts: string[] = []
  let inFlight!: () => void
  const firstCall = new Promise<void>((resolve) => (inFlight = resolve))
  const worker: WorkerClient = {
    // Answers only when cancelled: the one call holding the only permit outlives the stop deadline.
    process: (request, { signal }) =>
      new Promise((_, reject) => {
        starts.push(request.subscriptionId)
        inFlight()
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      }),
  }
  const [instance] = await startInstances(1, { concurrency: 4, maxConcurrentCalls: 1 }, worker)
  const ids = await seedSubscriptions(db.pool, { count: 3 })
  await instance!.scheduler.runNow({ wait: false })
  await firstCall
  await instance!.scheduler.stop({ timeoutMs: 200 })
  expect(starts).toHaveLength(1)
  const rows = await rowsFor(db.pool, ids)
  // Nothing is recorded failed: every row is still owed its call, for this or another instance.
  expect(rows.map((r) => r.status).sort()).toEqual(['queued', 'queued', 'queued'])
  const { rows: held } = await db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.call_permits WHERE expires_at > now()`)
  expect(held[0].n).toBe(0)
})

describe('maxCallsPerSecond', () => {
  test('spaces the calls of two instances evenly at the shared rate', async () => {
    const worker = recordingWorker(1)
    const [first] = await startInstances(2, { concurrency: 16, maxCallsPerSecond: 20 }, worker.client)
    await seedSubscriptions(db.pool, { count: 30 })
    const run = await first!.scheduler.runNow()
    expect(run).toMatchObject({ processed: 30, successful: 30 })
    const at = worker.starts.map((s) => s.at).sort((a, b) => a - b)
    // 30 calls at 20/s: no ten consecutive calls within less than half a second (10 / 20 s),
    // where an unlimited drain makes all 30 within a few milliseconds. A call never starts
    // before its reserved time, but its timer may fire late on a loaded machine (52 ms was seen
    // with four test files at once, 119 ms in CI beside two other busy processes), which shortens
    // the window that call opens: allow 150 ms.
    for (let i = 0; i + 10 < at.length; i++) expect(at[i + 10]! - at[i]!).toBeGreaterThanOrEqual(350)
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(1_300)
  })

  test('start times are reserved at most about a second ahead, so an instance that stops leaves no long hole in the rate', async () => {
    const worker = recordingWorker(1)
    const [first, second] = await startInstances(2, { concurrency: 16, maxCallsPerSecond: 40 }, worker.client)
    const ids = await seedSubscriptions(db.pool, { count: 200 })
    const { runId } = await first!.scheduler.runNow({ wait: false })
    await pollUntil(() => worker.starts.length >= 5 || undefined, { timeoutMs: 30_000, what: 'the first calls' })
    // 200 calls at 40/s take 5 s; with every waiting call reserved, the clock stood about 5 s ahead.
    const { rows: [clock] } = await db.pool.query<{ ahead_s: number }>(
      `SELECT extract(epoch FROM next_at - clock_timestamp())::float8 AS ahead_s FROM subscription_scheduler.call_rates`,
    )
    expect(clock!.ahead_s).toBeLessThan(2.5)
    await second!.scheduler.stop({ timeoutMs: 5_000 })
    const run = await pollUntil(async () => {
      const current = await first!.scheduler.getRun(runId)
      return current.finishedAt ? current : undefined
    }, { timeoutMs: 60_000, what: 'the run to finish' })
    expect(run).toMatchObject({ processed: 200, successful: 200 })
    expect(new Set(worker.starts.map((s) => s.request.subscriptionId))).toEqual(new Set(ids))
  })
})

describe('spreadMinutes', () => {
  test("fans a sweep's calls out over the window, each at its slot plus its subscription's fixed offset", async () => {
    const worker = recordingWorker(1)
    const windowMs = 6_000
    const [instance] = await startInstances(1, { concurrency: 16, spreadMinutes: windowMs / 60_000 }, worker.client)
    const ids = await seedSubscriptions(db.pool, { count: 12, nextRunInSeconds: 0 })
    const run = await instance!.scheduler.runNow()
    expect(run).toMatchObject({ processed: 12, successful: 12 })
    const rows = await rowsFor(db.pool, ids)
    const slotOf = new Map(rows.map((r) => [r.sid as string, (r.last_completed_for as Date).getTime()]))
    const offsets = ids.map((id) => spreadOffsetMs(id, windowMs))
    // The offsets are spread over the window, not bunched at its start.
    expect(Math.max(...offsets) - Math.min(...offsets)).toBeGreaterThan(windowMs / 3)
    for (const { at, request } of worker.starts) {
      // pg-boss starts a job at its start time or a little after, never before (the database's
      // clock and this process's may differ by a few milliseconds).
      expect(at).toBeGreaterThanOrEqual(slotOf.get(request.subscriptionId)! + spreadOffsetMs(request.subscriptionId, windowMs) - 50)
    }
  })

  test("on a host whose clock is behind the scheduler's, each call starts at its spread start by the scheduler's clock, not later by the skew", async () => {
    const worker = recordingWorker(1)
    const windowMs = 6_000
    // The scheduler's clock two minutes ahead of this host's, as the database's is of a host behind it.
    const aheadMs = 120_000
    const clock = { now: () => new Date(Date.now() + aheadMs) }
    const [instance] = await startInstances(1, { concurrency: 16, spreadMinutes: windowMs / 60_000, clock }, worker.client)
    // Due by the scheduler's clock, two minutes from now by this host's.
    const ids = await seedSubscriptions(db.pool, { count: 12, nextRunInSeconds: aheadMs / 1000 - windowMs / 1000 })
    const run = await instance!.scheduler.runNow()
    expect(run).toMatchObject({ processed: 12, successful: 12 })
    const rows = await rowsFor(db.pool, ids)
    for (const { at, request } of worker.starts) {
      const row = rows.find((r) => r.sid === request.subscriptionId)!
      const startOnHost = (row.last_completed_for as Date).getTime() + spreadOffsetMs(request.subscriptionId, windowMs) - aheadMs
      expect(at).toBeGreaterThanOrEqual(startOnHost - 50)
      // Late by the skew, a call would start nearly two minutes after its start.
      expect(at - startOnHost).toBeLessThan(10_000)
    }
  })

  test('the offset is a pure function of the subscription id, inside the window', () => {
    const id = '6f1c9a52-3d2e-4b8e-9c0a-1f2e3d4c5b6a'
    expect(spreadOffsetMs(id, 600_000)).toBe(spreadOffsetMs(id, 600_000))
    const many = Array.from({ length: 2000 }, (_, i) => spreadOffsetMs(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 600_000))
    expect(Math.min(...many)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...many)).toBeLessThan(600_000)
    // Ids that differ in their last digits still land all over the window: ten equal buckets
    // each get a share near a tenth.
    const buckets = new Array<number>(10).fill(0)
    for (const offset of many) buckets[Math.floor(offset / 60_000)]! += 1
    for (const count of buckets) expect(count).toBeGreaterThan(120)
  })
})

test.each([
  ['maxConcurrentCalls', 0],
  ['maxConcurrentCalls', 2.5],
  ['maxCallsPerSecond', -1],
  ['maxCallsPerSecond', Number.NaN],
  ['spreadMinutes', 1441],
  ['spreadMinutes', '5'],
])('rejects %s = %s with a ConfigurationError naming it', (option, value) => {
  const make = () => createSubscriptionScheduler(db.pool, { workerClient: { process: async () => ({}) }, logger: captureLogger(), [option]: value })
  expect(make).toThrow(ConfigurationError)
  expect(make).toThrow(option)
})

test('first reservations racing on a fresh rate clock all get their times, none an error', async () => {
  // The clock row held, so that all three reservations start (and take their snapshots) before
  // any of them moves it: each asks for a second's worth, and the last finds the clock past the
  // horizon, which its snapshot still shows at -infinity.
  const { global, release } = await heldRateClock(db.pool, 'fresh-clock', 4)
  const grants = Promise.all(Array.from({ length: 3 }, () => global.acquire(4, new AbortController().signal)))
  await waitingForLocks(db.pool, 3, 'three reservations waiting for the clock')
  await release()
  expect((await grants).map((g) => g.count)).toEqual([4, 4, 4])
})

test('a permit goes back as its own call ends, not when the slowest call of its wave does', async () => {
  // Calls of mixed latency: a slow call held the permits of its whole wave, so the fast ones
  // waited for it and the cap was used at a fraction of its size.
  const limits = { maxConcurrentCalls: 2, maxCallsPerSecond: null }
  await configureLimits(db.pool, 'per-call-permits', limits)
  const global = createGlobalLimits(db.pool, { scope: 'per-call-permits', limits, holdSeconds: 60, logger: captureLogger() })
  const gate = createCallGate(4, global, captureLogger())
  let finishSlow!: () => void
  const slow = new Promise<void>((resolve) => (finishSlow = resolve))
  const fastEnded: number[] = []
  let inFlight = 0
  let maxInFlight = 0
  const items = [0, 1, 2, 3, 4, 5, 6] // 0 is slow, and in the first wave
  const run = gate.runEach(items, async (item) => {
    inFlight += 1
    maxInFlight = Math.max(maxInFlight, inFlight)
    try {
      if (item === 0) await slow
      else await new Promise((resolve) => setTimeout(resolve, 20))
    } finally {
      inFlight -= 1
    }
    if (item !== 0) fastEnded.push(item)
  }, { signal: new AbortController().signal })
  try {
    await pollUntil(async () => fastEnded.length === 6 || undefined, { timeoutMs: 10_000, what: () => `the 6 fast calls to end while the slow one runs (${fastEnded.length} did)` })
  } finally {
    finishSlow()
  }
  await run
  expect(maxInFlight).toBe(2)
  const { rows } = await db.pool.query(`SELECT count(*)::int AS held FROM subscription_scheduler.call_permits WHERE scope = 'per-call-permits' AND expires_at > now()`)
  expect(rows[0].held).toBe(0)
})

test('spread calls behind a shared cap all start, though a timer may wake before the start it waits for', async () => {
  // Timers run on the event loop's clock, which lags Date.now(): a wait for a start often ends a
  // millisecond early, above all for starts between two milliseconds. A gate that then found no
  // call ready asked the limits for none, and waited for that grant for ever (a fleet stalled
  // under spreadMinutes with maxConcurrentCalls, every permit free).
  const limits = { maxConcurrentCalls: 2, maxCallsPerSecond: null }
  await configureLimits(db.pool, 'early-timer', limits)
  const global = createGlobalLimits(db.pool, { scope: 'early-timer', limits, holdSeconds: 60, logger: captureLogger() })
  const gate = createCallGate(4, global, captureLogger())
  const t0 = Date.now()
  const items = Array.from({ length: 40 }, (_, i) => i)
  const started: number[] = []
  const run = gate.runEach(items, async (item) => void started.push(item), { signal: new AbortController().signal, startAt: (item) => t0 + 20 + item * 20.5 })
  await pollUntil(async () => started.length === items.length || undefined, { timeoutMs: 15_000, what: () => `all 40 spread calls to start (${started.length} did)` })
  await run
  expect(started).toEqual(items)
  // Asked for none, the limits say so at once rather than wait for a free permit for ever.
  await expect(global!.acquire(0, new AbortController().signal)).rejects.toThrow(RangeError)
})

test('a permit held by a live call is renewed past its lease; one whose instance stopped renewing comes back within its lease', async () => {
  const limits = { maxConcurrentCalls: 1, maxCallsPerSecond: null }
  await configureLimits(db.pool, 'renewed-permits', limits)
  const make = () => createGlobalLimits(db.pool, { scope: 'renewed-permits', limits, holdSeconds: 1.5, logger: captureLogger() })!
  const alive = make()
  const other = make()
  const expiry = async () => {
    const { rows } = await db.pool.query<{ at: Date; passed: boolean }>(
      `SELECT expires_at AS at, expires_at < clock_timestamp() AS passed FROM subscription_scheduler.call_permits WHERE scope = 'renewed-permits'`,
    )
    return rows[0]!
  }
  try {
    const grant = await alive.acquire(1, new AbortController().signal)
    const first = (await expiry()).at.getTime()
    let taken = false
    const waiting = other.acquire(1, new AbortController().signal).then((g) => ((taken = true), g))
    // Renewed twice over: its lease now ends three seconds after the first one did.
    await pollUntil(async () => (await expiry()).at.getTime() >= first + 3_000 || undefined, { timeoutMs: 10_000, what: 'the held permit\'s lease to be renewed' })
    expect(taken).toBe(false)
    await grant.releaseOne()
    const next = await waiting
    expect(next.count).toBe(1)
    // The other instance now holds it, and "dies": it stops renewing, so the permit lapses.
    other.close()
    await pollUntil(async () => (await expiry()).passed || undefined, { timeoutMs: 10_000, what: 'the dead holder\'s lease to lapse' })
    const again = await alive.acquire(1, new AbortController().signal)
    expect(again.count).toBe(1)
    await again.releaseOne()
  } finally {
    alive.close()
    other.close()
  }
})

test('a permit is taken only for a call that has one of this instance\'s slots, so permits are never held by calls waiting here', async () => {
  // Two page jobs of five calls on an instance of concurrency 2, under a cap of 10: each job took
  // permits for its five, so ten were held for two calls in flight (the fleet's cap ran below its
  // size, and a SIGKILL took more permits with it than the instance could ever use).
  const limits = { maxConcurrentCalls: 10, maxCallsPerSecond: null }
  await configureLimits(db.pool, 'slots-first', limits)
  const global = createGlobalLimits(db.pool, { scope: 'slots-first', limits, holdSeconds: 60, logger: captureLogger() })!
  const gate = createCallGate(2, global, captureLogger())
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  let inFlight = 0
  const call = async () => {
    inFlight += 1
    await held
    inFlight -= 1
  }
  const signal = new AbortController().signal
  const jobs = [gate.runEach([1, 2, 3, 4, 5], call, { signal }), gate.runEach([6, 7, 8, 9, 10], call, { signal })]
  try {
    await pollUntil(async () => inFlight === 2 || undefined, { timeoutMs: 10_000, what: () => `two calls in flight (${inFlight})` })
    const { rows } = await db.pool.query<{ held: number }>(
      `SELECT count(*)::int AS held FROM subscription_scheduler.call_permits WHERE scope = 'slots-first' AND expires_at > clock_timestamp()`,
    )
    expect(rows[0]!.held).toBe(2)
  } finally {
    release()
    await Promise.all(jobs)
    global.close()
  }
  expect(inFlight).toBe(0)
})
