/**
 * What an operator sees of the call limits: `getStatus().limits` (the CLI's status and the
 * dashboard show it) and each instance in `listInstances()`. A fleet held back by a limit must
 * show it: the limit, how much of it is in use, and the calls waiting for it.
 */
import { beforeEach, expect, test } from 'vitest'
import type { SchedulerOptions, WorkerClient } from '../src/index.js'
import { configureLimits } from '../src/process/configure-limits.js'
import { limitsInForce, readCallLimits } from '../src/records/call-limits.js'
import { captureLogger } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { instancesStoppedAfterEach, pollUntil } from './support/reliability-support.js'
import type { Instance } from './support/reliability-support.js'
import { seedSubscriptions } from './support/seed.js'

let db: TestDatabase
const fleet = instancesStoppedAfterEach()

beforeEach(async () => {
  db = await createTestDatabase()
})

/** A worker whose calls wait until `open()`; after it, they answer at once. */
function gatedWorker() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  const client: WorkerClient = {
    async process() {
      await opened
      return { ok: true }
    },
  }
  return { client, open }
}

async function startOne(options: SchedulerOptions, worker: WorkerClient): Promise<Instance> {
  const [instance] = await fleet.start(db.url, 1, options, worker)
  return instance!
}

test('under maxConcurrentCalls: the cap, its permits held, and the calls in flight and held back, fleet-wide and per instance', async () => {
  const worker = gatedWorker()
  const { scheduler } = await startOne({ concurrency: 4, maxConcurrentCalls: 2 }, worker.client)
  await seedSubscriptions(db.pool, { count: 6 })
  const run = scheduler.runNow()
  // Two calls hold the two permits; four more are ready and held back. The instance says so
  // within 5 s of the change (its reports are 15 s apart when nothing changes).
  const held = await pollUntil(
    async () => {
      const { limits } = await scheduler.getStatus()
      return limits?.callsInFlight === 2 && limits
    },
    { timeoutMs: 12_000, intervalMs: 250, what: 'a report of the two calls in flight' },
  )
  expect(held).toEqual({ maxConcurrentCalls: 2, permitsHeld: 2, maxCallsPerSecond: null, bookedAheadMs: 0, callsInFlight: 2, callsWaiting: 4 })
  const [me] = await scheduler.listInstances()
  expect(me).toMatchObject({ state: 'running', concurrency: 4, maxConcurrentCalls: 2, maxCallsPerSecond: null, calls: { inFlight: 2, waiting: 4 } })
  worker.open()
  expect(await run).toMatchObject({ processed: 6, successful: 6 })
  // The permits are the database's own count: back as soon as the calls end.
  await pollUntil(async () => (await scheduler.getStatus()).limits?.permitsHeld === 0, { timeoutMs: 5_000, what: 'the permits back' })
})

test('under maxCallsPerSecond: the rate, and how far ahead start times are booked while calls wait their turn', async () => {
  const { scheduler } = await startOne({ concurrency: 8, maxCallsPerSecond: 2 }, { process: async () => ({ ok: true }) })
  expect((await scheduler.getStatus()).limits).toMatchObject({ maxConcurrentCalls: null, permitsHeld: 0, maxCallsPerSecond: 2, bookedAheadMs: 0 })
  await seedSubscriptions(db.pool, { count: 6 })
  const run = scheduler.runNow()
  // Six calls at two a second: a wave books its second's worth (two calls) while what is booked
  // reaches at most a second ahead, so never more than two seconds.
  const booked = await pollUntil(async () => {
    const bookedAheadMs = (await scheduler.getStatus()).limits?.bookedAheadMs ?? 0
    return bookedAheadMs > 0 && bookedAheadMs
  }, { timeoutMs: 10_000, intervalMs: 100, what: 'start times booked ahead' })
  expect(booked).toBeLessThanOrEqual(2_000)
  expect(await run).toMatchObject({ processed: 6, successful: 6 })
})

test('an instance that changes maxCallsPerSecond for the others says so; one that keeps it says nothing', async () => {
  const logger = captureLogger()
  await configureLimits(db.pool, 'changing-rate', { maxConcurrentCalls: null, maxCallsPerSecond: 5 }, logger)
  await configureLimits(db.pool, 'changing-rate', { maxConcurrentCalls: null, maxCallsPerSecond: 5 }, logger)
  expect(logger.messages('warn')).toEqual([])
  await configureLimits(db.pool, 'changing-rate', { maxConcurrentCalls: null, maxCallsPerSecond: 2.5 }, logger)
  expect(logger.messages('warn')).toEqual([
    "maxCallsPerSecond changes from 5 to 2.5 on queuePrefix 'changing-rate': every instance spaces its calls by the value it was started with, so until they all have the same one the fleet keeps neither rate exactly: give every instance the same value.",
  ])
})

test('an instance started without a limit the others are held to says it is not held to it', async () => {
  const logger = captureLogger()
  await configureLimits(db.pool, 'unheld', { maxConcurrentCalls: null, maxCallsPerSecond: null }, logger)
  expect(logger.messages('warn')).toEqual([])
  await configureLimits(db.pool, 'unheld', { maxConcurrentCalls: 5, maxCallsPerSecond: 20 }, logger)
  await configureLimits(db.pool, 'unheld', { maxConcurrentCalls: 5, maxCallsPerSecond: null }, logger)
  await configureLimits(db.pool, 'unheld', { maxConcurrentCalls: null, maxCallsPerSecond: null }, logger)
  expect(logger.messages('warn')).toEqual([
    "This instance was started without maxCallsPerSecond 20, which instances on queuePrefix 'unheld' set for the others: the calls it makes are not held to it, so the fleet may make more than it allows. Give every instance the same limits.",
    "This instance was started without maxConcurrentCalls 5 and maxCallsPerSecond 20, which instances on queuePrefix 'unheld' set for the others: the calls it makes are not held to it, so the fleet may make more than it allows. Give every instance the same limits.",
  ])
})

test('an instance started with limits names the running instances calling the worker without them; not stopped, admin-only or older ones', async () => {
  const scope = 'others-unheld'
  const report = (host: string, limits: [number | null, number | null], { running = true, says = true, works = true } = {}) =>
    db.pool.query(
      `INSERT INTO subscription_scheduler.instances (id, scope, host, pid, version, schedules, works, concurrency, max_concurrent_calls, max_calls_per_second, calls, started_at, seen_at, stopped_at)
       VALUES (gen_random_uuid(), $1, $2, 7, '0.1.0', false, $3, 16, $4, $5, $6, now(), now(), CASE WHEN $7 THEN NULL ELSE now() END)`,
      [scope, host, works, limits[0], limits[1], says ? { inFlight: 0, waiting: 0 } : null, running],
    )
  await report('free', [null, null])
  await report('capped', [5, null])
  await report('stopped', [null, null], { running: false })
  await report('admin', [null, null], { works: false })
  await report('older', [null, null], { says: false })
  const logger = captureLogger()
  await configureLimits(db.pool, scope, { maxConcurrentCalls: 5, maxCallsPerSecond: 2 }, logger)
  expect(logger.messages('warn')).toEqual([
    "Instances calling the worker on queuePrefix 'others-unheld' run without limits this one sets: 1 without maxConcurrentCalls (free:7); " +
      '2 without maxCallsPerSecond (free:7, capped:7). Their calls are not held to them, so the fleet may make more calls than they allow until those instances restart with the same limits.',
  ])
  // Started without limits itself, it sets none, and says nothing of the others.
  const quiet = captureLogger()
  await configureLimits(db.pool, 'others-unheld-too', { maxConcurrentCalls: null, maxCallsPerSecond: null }, quiet)
  expect(quiet.messages('warn')).toEqual([])
})

test("the CLI's calls are held to a stored limit while an instance calling the worker is: running ones decide, else the last started", async () => {
  const scope = 'in-force'
  await configureLimits(db.pool, scope, { maxConcurrentCalls: 5, maxCallsPerSecond: 2 })
  const report = (host: string, limits: [number | null, number | null], { running = true, says = true, works = true, startedAgo = 60 } = {}) =>
    db.pool.query(
      `INSERT INTO subscription_scheduler.instances (id, scope, host, pid, version, schedules, works, concurrency, max_concurrent_calls, max_calls_per_second, calls, started_at, seen_at, stopped_at)
       VALUES (gen_random_uuid(), $1, $2, 1, '0.1.0', false, $3, 16, $4, $5, $6, now() - make_interval(secs => $7), now(), CASE WHEN $8 THEN NULL ELSE now() END)`,
      [scope, host, works, limits[0], limits[1], says ? { inFlight: 0, waiting: 0 } : null, startedAgo, running],
    )
  // No instance has reported: the stored limits are all there is.
  expect(await limitsInForce(db.pool, scope)).toEqual({ maxConcurrentCalls: 5, maxCallsPerSecond: 2 })
  // None running, the last one started had neither: the fleet dropped them.
  await report('old', [5, 2], { running: false, startedAgo: 600 })
  await report('dropped', [null, null], { running: false, startedAgo: 300 })
  expect(await limitsInForce(db.pool, scope)).toEqual({ maxConcurrentCalls: null, maxCallsPerSecond: null })
  // One running instance held to the cap only (an admin server calling no worker does not count).
  await report('capped', [5, null])
  await report('admin', [null, 2], { works: false })
  expect(await limitsInForce(db.pool, scope)).toEqual({ maxConcurrentCalls: 5, maxCallsPerSecond: null })
  // A running instance of a version that does not say its limits may be held to both.
  await report('older', [null, null], { says: false })
  expect(await limitsInForce(db.pool, scope)).toEqual({ maxConcurrentCalls: 5, maxCallsPerSecond: 2 })
})

test('without limits, and before any instance reported: no limit, nothing held, no calls', async () => {
  const { scheduler } = await startOne({ work: false }, { process: async () => ({ ok: true }) })
  expect((await scheduler.getStatus()).limits).toEqual({
    maxConcurrentCalls: null, permitsHeld: 0, maxCallsPerSecond: null, bookedAheadMs: 0, callsInFlight: 0, callsWaiting: 0,
  })
  expect((await scheduler.listInstances())[0]).toMatchObject({ works: false, maxConcurrentCalls: null, maxCallsPerSecond: null, calls: null })
})

test("a killed instance's calls drop out of the calls in flight and waiting once its last report is 30 s old, though it counts as running for a minute", async () => {
  const scope = 'killed-calls'
  const report = (host: string, calls: { inFlight: number; waiting: number }, seenAgoSeconds: number) =>
    db.pool.query(
      `INSERT INTO subscription_scheduler.instances (id, scope, host, pid, version, schedules, works, concurrency, calls, started_at, seen_at)
       VALUES (gen_random_uuid(), $1, $2, 7, '0.1.0', true, true, 16, $3, now() - interval '10 minutes', now() - make_interval(secs => $4))`,
      [scope, host, calls, seenAgoSeconds],
    )
  await report('alive', { inFlight: 3, waiting: 1 }, 4)
  await report('killed', { inFlight: 16, waiting: 219 }, 45)
  expect(await readCallLimits(db.pool, scope)).toMatchObject({ callsInFlight: 3, callsWaiting: 1 })
  // Reported 20 s ago, it may just be between reports: counted.
  await report('between-reports', { inFlight: 2, waiting: 0 }, 20)
  expect(await readCallLimits(db.pool, scope)).toMatchObject({ callsInFlight: 5, callsWaiting: 1 })
})
