/**
 * A run's row can read "finished" to another connection a moment before the instance that
 * finished it has the database's answer, and so before it has emitted the run's last events and
 * counted them in its metrics. `runNow()` and `backfill()` wait by polling that row as well as by
 * this instance's events: once they resolve, every event and metric of the run this instance
 * emits must be out. Here the library's connections get the answer to each statement that writes
 * a run (and each COMMIT) 600 ms late, as on a loaded host, so a poll finds the run finished
 * first. Real Postgres and pg-boss.
 */
import { setTimeout as delay } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SchedulerEvents, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

/** A COMMIT, or a statement that writes the scheduler's runs table (a settle that may finish one). */
const writesARun = (text: string) => text === 'COMMIT' || (/\.runs\b/.test(text) && !/^\s*SELECT/i.test(text))

/** Hands back the answer to such a statement 600 ms after the database gave it (pool.query() passes a callback). */
class LateRunWrites extends pg.Client {
  override query(...args: unknown[]): never {
    const config = args[0] as string | { text?: string } | undefined
    const text = typeof config === 'string' ? config : config?.text
    const late = typeof text === 'string' && writesARun(text)
    const callback = args.at(-1)
    if (late && typeof callback === 'function') args[args.length - 1] = (...answer: unknown[]) => void delay(600).then(() => callback(...answer))
    const result = (super.query as (...a: unknown[]) => unknown).apply(this, args)
    if (!late || !(result instanceof Promise)) return result as never
    return result.then(async (answer) => (await delay(600), answer)) as never
  }
}

let db: TestDatabase
let pool: pg.Pool
let scheduler: SubscriptionScheduler
const worker = createFakeWorkerClient()

beforeAll(async () => {
  db = await createTestDatabase()
  pool = new pg.Pool({ connectionString: db.url, Client: LateRunWrites, max: 10 })
  pool.on('error', () => {})
  scheduler = createSubscriptionScheduler(pool, { workerClient: worker, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
})

afterAll(async () => {
  await scheduler?.stop({ timeoutMs: 2000 })
  await pool?.end()
})

/** Records the events named while `work` runs, up to the moment it resolves. */
async function eventsDuring<T>(work: () => Promise<T>): Promise<{ result: T; seen: { [E in keyof SchedulerEvents]?: SchedulerEvents[E][] } }> {
  const seen: { [E in keyof SchedulerEvents]?: SchedulerEvents[E][] } = {}
  const off = (['run:finished', 'subscription:succeeded'] as const).map((event) => scheduler.on(event, (payload) => void (seen[event] ??= []).push(payload as never)))
  try {
    const result = await work()
    return { result, seen: structuredClone(seen) }
  } finally {
    off.forEach((unsubscribe) => unsubscribe())
  }
}

test('runNow() resolves after this instance has emitted the run:finished and every subscription:succeeded of its run', async () => {
  const ids = await seedSubscriptions(db.pool, { count: 3, nextRunInSeconds: -60 })
  // The calls outlast the sweep: their settle is what finishes the run.
  for (const id of ids) worker.on(id, { delayMs: 2500 })
  const { result: summary, seen } = await eventsDuring(() => scheduler.runNow())
  expect(summary).toMatchObject({ processed: 3, successful: 3 })
  expect(seen['subscription:succeeded']?.filter((e) => e.runId === summary.runId).map((e) => e.subscriptionId).sort()).toEqual([...ids].sort())
  expect(seen['run:finished']?.map((run) => run.runId)).toContain(summary.runId)
})

test('backfill() resolves after this instance has emitted an event for each of its slots, and the run:finished', async () => {
  const [id] = await seedSubscriptions(db.pool, { count: 1, nextRunInSeconds: 3600 })
  const day = 86_400_000
  const midnight = Math.floor(Date.now() / day) * day
  const { result: summary, seen } = await eventsDuring(() => scheduler.backfill(id!, { from: new Date(midnight - 3 * day), to: new Date(midnight - day) }))
  expect(summary).toMatchObject({ processed: 2, successful: 2 })
  expect(seen['subscription:succeeded']?.filter((e) => e.runId === summary.runId).map((e) => e.subscriptionId)).toEqual([id, id])
  expect(seen['run:finished']?.map((run) => run.runId)).toContain(summary.runId)
})
