/**
 * `listInstances()`: the scheduler's instances as they report themselves, on real Postgres and
 * pg-boss. Three instances of one scheduler in different roles and two of other schedulers
 * (another queue prefix; the same prefix under another pg-boss schema) start on one database; one stops; one goes silent as a killed instance
 * does (its last report set back, since a kill cannot be made to happen a minute ago), and comes
 * back at its next report; rows gone for a day are pruned.
 */
import { hostname } from 'node:os'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { pruneInstances } from '../src/records/instances.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import pkg from '../package.json' with { type: 'json' }
import { createTestDatabase, ownPool } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'

describe('listInstances', () => {
  let db: TestDatabase
  const pools: pg.Pool[] = []
  const started: SubscriptionScheduler[] = []
  let scheduling: SubscriptionScheduler
  let working: SubscriptionScheduler
  let steering: SubscriptionScheduler
  let other: SubscriptionScheduler
  let otherSchema: SubscriptionScheduler

  function instance(options: Partial<SchedulerOptions>): SubscriptionScheduler {
    // A pool each, as separate processes would have.
    const pool = ownPool(db.url)
    pools.push(pool)
    const scheduler = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, ...options })
    started.push(scheduler)
    return scheduler
  }

  const idOf = (s: SubscriptionScheduler) => s.health().instanceId!

  beforeAll(async () => {
    db = await createTestDatabase()
    scheduling = instance({ concurrency: 8, circuitBreaker: true })
    working = instance({ schedule: false, concurrency: 32 })
    steering = instance({ schedule: false, work: false })
    other = instance({ queuePrefix: 'billing' })
    otherSchema = instance({ bossSchema: 'pss_instances' })
    await Promise.all(started.map((s) => s.start()))
  })

  afterAll(async () => {
    for (const s of started) await s.stop({ timeoutMs: 2000 })
    for (const pool of pools) await pool.end()
  })

  test("lists each running instance of the scheduler once, with its host, process, version, role and breaker; not another scheduler's", async () => {
    const ids = [scheduling, working, steering].map(idOf)
    expect(new Set(ids).size).toBe(3)
    const listed = await working.listInstances()
    expect(new Set(listed.map((i) => i.instanceId))).toEqual(new Set(ids))
    const byId = new Map(listed.map((i) => [i.instanceId, i]))
    const common = { host: hostname(), pid: process.pid, version: pkg.version, state: 'running', stoppedAt: null }
    expect(byId.get(idOf(scheduling))).toMatchObject({ ...common, schedules: true, works: true, concurrency: 8, breaker: { state: 'closed', openSince: null, until: null } })
    expect(byId.get(idOf(working))).toMatchObject({ ...common, schedules: false, works: true, concurrency: 32, breaker: null })
    expect(byId.get(idOf(steering))).toMatchObject({ ...common, schedules: false, works: false })
    expect((await other.listInstances()).map((i) => i.instanceId)).toEqual([idOf(other)])
    // The same prefix under another pg-boss schema works other queues: another scheduler.
    expect((await otherSchema.listInstances()).map((i) => i.instanceId)).toEqual([idOf(otherSchema)])
  })

  test('an instance that stops is listed stopped, after the running ones, and says no id of its own any more', async () => {
    const id = idOf(steering)
    await steering.stop({ timeoutMs: 2000 })
    expect(steering.health()).toMatchObject({ state: 'stopped', instanceId: null })
    const listed = await scheduling.listInstances()
    expect(listed.map((i) => i.state)).toEqual(['running', 'running', 'stopped'])
    expect(listed[2]).toMatchObject({ instanceId: id, state: 'stopped', stoppedAt: expect.any(Date) })
  })

  test('an instance not heard from for a minute is silent (killed, or cut off); alive, it is running again at its next report', async () => {
    const id = idOf(working)
    await db.pool.query(`UPDATE subscription_scheduler.instances SET seen_at = now() - interval '2 minutes' WHERE id = $1`, [id])
    const silent = (await scheduling.listInstances()).find((i) => i.instanceId === id)
    expect(silent).toMatchObject({ state: 'silent', stoppedAt: null })
    // It reports every 15 s.
    const back = await pollUntil(async () => (await scheduling.listInstances()).find((i) => i.instanceId === id && i.state === 'running'), { timeoutMs: 25_000, intervalMs: 500, what: 'the next report' })
    expect(back.seenAt.getTime()).toBeGreaterThan(silent!.seenAt.getTime())
  }, 30_000)

  test('the rows of instances gone for a day are pruned, the others stay; one still alive is written again at its next report', async () => {
    const gone = idOf(other)
    // It reports every 15 s: a report landing between the ageing and the prune (or just after
    // it) writes the row again, so age and prune until a listing finds it gone (it failed once
    // in CI so).
    await pollUntil(async () => {
      await db.pool.query(`UPDATE subscription_scheduler.instances SET seen_at = now() - interval '25 hours' WHERE id = $1`, [gone])
      await pruneInstances(db.pool)
      return (await other.listInstances()).length === 0 || undefined
    }, { timeoutMs: 20_000, intervalMs: 200, what: 'a prune that no report undid' })
    expect(await scheduling.listInstances()).toHaveLength(3)
    const back = await pollUntil(async () => (await other.listInstances())[0], { timeoutMs: 25_000, intervalMs: 500, what: 'the next report' })
    expect(back).toMatchObject({ instanceId: gone, state: 'running' })
  }, 30_000)

  test('a stopped instance shows no circuit breaker: the one it had, open or not, went with it', async () => {
    const breakered = instance({ schedule: false, circuitBreaker: true })
    await breakered.start()
    const id = idOf(breakered)
    expect((await scheduling.listInstances()).find((i) => i.instanceId === id)).toMatchObject({ state: 'running', breaker: { state: 'closed' } })
    await breakered.stop({ timeoutMs: 2000 })
    expect((await scheduling.listInstances()).find((i) => i.instanceId === id)).toMatchObject({ state: 'stopped', breaker: null })
  })

  test('a stopped instance shows no calls: not those of its last report, made while it stopped', async () => {
    const busy = instance({ schedule: false })
    await busy.start()
    const id = idOf(busy)
    // Its last report as a rolling deploy's stop left it: calls in flight and waiting.
    await db.pool.query(`UPDATE subscription_scheduler.instances SET calls = '{"inFlight": 16, "waiting": 167}' WHERE id = $1`, [id])
    await busy.stop({ timeoutMs: 2000 })
    expect((await scheduling.listInstances()).find((i) => i.instanceId === id)).toMatchObject({ state: 'stopped', calls: { inFlight: 0, waiting: 0 } })
    // One that called no worker (work: false, stopped above) still says so.
    expect((await scheduling.listInstances()).find((i) => i.state === 'stopped' && !i.works)).toMatchObject({ calls: null })
  })
})
