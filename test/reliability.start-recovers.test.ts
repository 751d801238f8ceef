/**
 * A process that starts looks at once for jobs whose instance died, instead of a supervise
 * interval later. A trial ran the scheduler as triggered one-shot runs (start, runNow, stop, a
 * few seconds each): one was SIGKILLed mid-call, and every short run after it said "enqueued 0
 * subscriptions" while its 184 claimed subscriptions stayed with a job nobody held; only a
 * process that lived through pg-boss's first pass freed them.
 */
import { afterEach, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { prepareChildEntry, SchedulerChild } from './chaos/children.js'
import type { ChildEntry } from './chaos/children.js'
import { createTestDatabase } from './support/database.js'
import { pollUntil, startLocalWorker } from './support/reliability-support.js'
import type { LocalWorker } from './support/reliability-support.js'
import { stopAfterEach, TEST_DEFAULTS } from './support/schedulers.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const track = stopAfterEach()
let entry: ChildEntry | undefined
let child: SchedulerChild | undefined
let worker: LocalWorker | undefined

afterEach(async () => {
  child?.kill('SIGKILL')
  await child?.exited
  entry?.dispose()
  await worker?.close()
})

test("an instance that starts takes over a killed instance's jobs at once, not at its first supervise pass", async () => {
  const db = await createTestDatabase()
  const ids = await seedSubscriptions(db.pool, { count: 8 })
  worker = await startLocalWorker()
  // The killed instance's calls never answer.
  for (const id of ids) worker.on(id, () => ({ delayMs: 600_000 }))
  entry = await prepareChildEntry()
  child = new SchedulerChild({ entry, name: 'killed', databaseUrl: db.url, workerUrl: worker.url, env: { RUN_NOW: '1' }, schedulerOptions: { concurrency: 4 } })
  await child.waitForLine(/^RUN /, 60_000)
  await pollUntil(() => worker!.calls.length >= 4 || undefined, { timeoutMs: 60_000, what: "the killed instance's first calls" })
  child.kill('SIGKILL')
  await child.exited
  // Its jobs' heartbeats lapse (10 s) before any process may take them over.
  await pollUntil(async () => {
    const { rows } = await db.pool.query<{ lapsed: boolean }>(
      `SELECT bool_and(heartbeat_on < now() - interval '11 seconds') AS lapsed FROM pgboss.job
        WHERE name = 'subscription-scheduler.process' AND state = 'active'`,
    )
    return rows[0]?.lapsed || undefined
  }, { timeoutMs: 60_000, what: 'the heartbeats of the killed instance to lapse' })

  // pg-boss's own passes an hour apart: only the one at start can free the jobs in time.
  const healthy = createFakeWorkerClient()
  const s = track(createSubscriptionScheduler(db.pool, { ...TEST_DEFAULTS, workerClient: healthy, logger: captureLogger(), pgBoss: { superviseIntervalSeconds: 3600 } }))
  await s.start()
  const rows = await pollUntil(async () => {
    const current = await rowsFor(db.pool, ids)
    return current.every((row) => row.status === 'completed') ? current : undefined
  }, { timeoutMs: 30_000, what: "the killed instance's subscriptions to be completed by the new one" })
  expect(rows).toHaveLength(8)
  // Each called once more, under the key of the slot it was claimed for.
  for (const id of ids) expect(healthy.callsFor(id)).toHaveLength(1)
})

test('a start that fails after its queues are ready has taken no job and called no worker: "Nothing was started" holds', async () => {
  // A trial's start failed for want of connections (too many clients) after its workers had
  // fetched page jobs: 16 subscriptions called, their outcomes never recorded, called again by
  // another instance. Here the instance's report is what fails, as a full server refused it there.
  const db = await createTestDatabase()
  await seedSubscriptions(db.pool, { count: 20 })
  const steering = track(createSubscriptionScheduler(db.pool, { ...TEST_DEFAULTS, logger: captureLogger(), work: false, schedule: false }))
  await steering.start()
  await steering.runNow({ wait: false })
  await pollUntil(async () => (await steering.getStatus()).queue.waiting >= 20 || undefined, { timeoutMs: 30_000, what: 'the run enqueued' })
  await db.pool.query(`CREATE FUNCTION refuse_report() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'sorry, too many clients already'; END $$`)
  await db.pool.query(`CREATE TRIGGER refuse_report BEFORE INSERT OR UPDATE ON subscription_scheduler.instances FOR EACH ROW WHEN (NEW.works) EXECUTE FUNCTION refuse_report()`)
  const worker = createFakeWorkerClient()
  const failing = createSubscriptionScheduler(db.pool, { ...TEST_DEFAULTS, logger: captureLogger(), workerClient: worker })

  await expect(failing.start()).rejects.toThrow('sorry, too many clients already')

  expect(failing.health().state).toBe('stopped')
  expect(worker.calls).toEqual([])
  expect((await steering.getStatus()).queue.waiting).toBe(20)
})
