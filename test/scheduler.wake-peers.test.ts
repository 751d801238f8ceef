/**
 * Instances wake each other: the pages one instance's sweep enqueues are taken by an instance
 * that only works at once (pg-boss's LISTEN/NOTIFY, on a connection of its own), not at its next
 * poll; and stopping closes that connection.
 */
import type pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase, ownPool } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

let db: TestDatabase
const pools: pg.Pool[] = []
const sweeperWorker = createFakeWorkerClient()
const peerWorker = createFakeWorkerClient()
let sweeper: SubscriptionScheduler
let peer: SubscriptionScheduler

async function listeners(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`,
  )
  return rows[0]!.n
}

beforeAll(async () => {
  db = await createTestDatabase()
  const pool = () => {
    const p = ownPool(db.url)
    pools.push(p)
    return p
  }
  // Slow calls, two at a time: the sweeping instance alone would take seconds.
  sweeperWorker.otherwise({ delayMs: 100 })
  peerWorker.otherwise({ delayMs: 100 })
  sweeper = createSubscriptionScheduler(pool(), { workerClient: sweeperWorker, logger: captureLogger(), concurrency: 2, claimBatchSize: 100 })
  // A peer that would poll once an hour: only a notification can wake it during the run.
  peer = createSubscriptionScheduler(pool(), { workerClient: peerWorker, logger: captureLogger(), concurrency: 2, schedule: false, pollingIntervalSeconds: 3600 })
  await sweeper.start()
  await peer.start()
})

afterAll(async () => {
  await sweeper.stop({ timeoutMs: 2000 })
  await peer.stop({ timeoutMs: 2000 })
  for (const p of pools) await p.end()
})

test("a peer that only works takes a share of a run's pages at once, without waiting for its poll", async () => {
  expect(await listeners()).toBe(2)
  await seedSubscriptions(db.pool, { count: 60 })
  const run = await sweeper.runNow()
  expect(run.successful).toBe(60)
  expect(peerWorker.calls.length).toBeGreaterThan(0)
  expect(sweeperWorker.calls.length + peerWorker.calls.length).toBe(60)
})

test('an instance that does not work (work: false, no worker client) enqueues a run that a working peer calls; it calls nobody', async () => {
  const logger = captureLogger()
  const enqueuer = createSubscriptionScheduler(db.pool, { logger, schedule: false, work: false })
  await enqueuer.start()
  try {
    // Its start line says it calls nobody, not a concurrency it does not use.
    const started = logger.messages('info').find((m) => m.startsWith('Started'))
    // And which version it is, for a rolling deploy's logs.
    expect(started).toMatch(/^Started \(pg-subscription-scheduler \d+\.\d+\.\d+[^)]*\), steering only/)
    expect(started).toContain('steering only')
    expect(started).toContain('calling no worker')
    expect(started).not.toContain('concurrency')
    const before = { sweeper: sweeperWorker.calls.length, peer: peerWorker.calls.length }
    const ids = await seedSubscriptions(db.pool, { count: 10 })
    const run = await enqueuer.runNow()
    expect(run).toMatchObject({ processed: 10, successful: 10 })
    const called = sweeperWorker.calls.length - before.sweeper + (peerWorker.calls.length - before.peer)
    expect(called).toBe(ids.length)
  } finally {
    await enqueuer.stop({ timeoutMs: 2000 })
  }
})

test('stop() closes the listening connection', async () => {
  await peer.stop({ timeoutMs: 2000 })
  expect(await listeners()).toBe(1)
})
