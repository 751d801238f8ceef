/**
 * An instance started with `work: false` enqueues, and only instances that work call. With none
 * running, its runs wait in the queue, and a `runNow()` waiting for one waits with them: it says
 * so. The check itself against a real instances table (written by the instances' own reports),
 * then a real admin instance alone, whose run a working instance started later finishes.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { markInstanceStopped, reportInstance } from '../src/records/instances.js'
import { createRun, finishSweep } from '../src/records/runs.js'
import type { InstanceIdentity } from '../src/records/instances.js'
import { UNWORKED_TIMING, watchUnworkedRuns } from '../src/runtime/unworked-runs.js'
import type { UnworkedTiming } from '../src/runtime/unworked-runs.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'
import { stopAfterEach } from './support/schedulers.js'
import { seedSubscriptions } from './support/seed.js'

let db: TestDatabase
const track = stopAfterEach()

beforeAll(async () => {
  db = await createTestDatabase()
})

let pid = 1
function instance(scope: string, works: boolean, bossSchema = 'pgboss'): InstanceIdentity {
  return {
    id: crypto.randomUUID(), queuePrefix: scope, bossSchema, host: 'test', pid: pid++, version: '0.0.0', schedules: false, works,
    concurrency: 16, maxConcurrentCalls: null, maxCallsPerSecond: null,
  }
}
const report = { breaker: null, calls: null }
/** A run whose sweep is still open, as a run that enqueued and waits looks. */
const openRun = async () => await createRun(db.pool, 'manual', new Date())

/** A `work: false` instance's watch, looking at once and then every 50 ms rather than after its waits. */
function watch(scope: string, work = false, timing: Partial<UnworkedTiming> = {}) {
  const logger = captureLogger()
  const unworked = watchUnworkedRuns(db.pool, { work, queuePrefix: scope, bossSchema: 'pgboss', logger }, { ...UNWORKED_TIMING, firstMs: 0, everyMs: 50, ...timing })
  return { logger, unworked }
}

/** A watch of a run that goes on, then finishes (as a working instance finishes it); resolves with its warnings. */
async function warningsUntilFinished(scope: string): Promise<string[]> {
  const { logger, unworked } = watch(scope)
  const run = await openRun()
  let watching = true
  const watched = unworked.enqueued(run, 3).finally(() => (watching = false))
  // It goes on looking while the run does: finished, the watch ends.
  await finishSweep(db.pool, run, new Date())
  await pollUntil(() => !watching, { timeoutMs: 10_000, what: 'the watch to end with its run' })
  await watched
  return logger.messages('warn')
}

describe('a run enqueued by an instance that calls no worker', () => {
  test('is said to wait when no running instance of its scope works: a stopped one, one of another prefix or pg-boss schema and a steering one do not count', async () => {
    const scope = 'alone'
    await reportInstance(db.pool, instance(scope, false), report)
    const stopped = instance(scope, true)
    await reportInstance(db.pool, stopped, report)
    await markInstanceStopped(db.pool, stopped.id)
    await reportInstance(db.pool, instance('another-prefix', true), report)
    await reportInstance(db.pool, instance(scope, true, 'pss_boss'), report)

    // Counted, any of them would hold the warning back for the 30 s it stays recent.
    const { logger, unworked } = watch(scope)
    const run = await openRun()
    const watched = unworked.enqueued(run, 3)
    await pollUntil(() => logger.messages('warn').length > 0 || undefined, { timeoutMs: 10_000, what: 'the warning' })
    unworked.stop()
    await watched
    expect(logger.messages('warn')).toEqual([
      `Run ${run} enqueued 3 subscriptions from this instance (work: false), and no running instance calls the worker: none reporting ` +
        "under queue prefix 'alone' and pg-boss schema 'pgboss' started with `work: true`. They wait in the queue, and a runNow() waiting for the run waits with " +
        "them, until an instance with `work: true` (the default) and the same `queuePrefix` and `bossSchema` starts.",
    ])
  })

  test('is not while an instance of its scope that works is running, until the run finishes', async () => {
    const scope = 'staffed'
    await reportInstance(db.pool, instance(scope, true), report)
    expect(await warningsUntilFinished(scope)).toEqual([])
  })

  test('is not while a working instance of an older version runs: its row names no pg-boss schema, and counts in every one', async () => {
    const scope = 'older'
    const older = instance(scope, true)
    await reportInstance(db.pool, older, report)
    await db.pool.query('UPDATE subscription_scheduler.instances SET boss_schema = NULL WHERE id = $1', [older.id])
    expect(await warningsUntilFinished(scope)).toEqual([])
  })

  test('is, when the only instance that worked goes silent mid-run (killed, no stop): at a later look', async () => {
    const scope = 'crashed'
    // Reported now, so counted at the first look; killed, it reports no more, and ages past the window.
    await reportInstance(db.pool, instance(scope, true), report)
    const { logger, unworked } = watch(scope, false, { aliveWithinSeconds: 1 })
    const run = await openRun()
    await unworked.enqueued(run, 3)
    expect(logger.messages('warn')).toEqual([expect.stringContaining(`Run ${run} enqueued 3 subscriptions from this instance (work: false), and no running instance calls the worker`)])
  })

  test('is not, when the run has finished meanwhile (called by an instance that has stopped since)', async () => {
    const run = await openRun()
    expect(await finishSweep(db.pool, run, new Date())).toMatchObject({ runId: run })
    const { logger, unworked } = watch('alone')
    await unworked.enqueued(run, 3)
    expect(logger.messages('warn')).toEqual([])
  })

  test('is not looked at when the instance works itself, when it enqueued nothing, or once stop() has begun', async () => {
    const run = await openRun()
    const mine = watch('nobody-here', true)
    await mine.unworked.enqueued(run, 3)
    const empty = watch('nobody-here')
    await empty.unworked.enqueued(run, 0)
    const stopping = watch('nobody-here')
    const waiting = watchUnworkedRuns(db.pool, { work: false, queuePrefix: 'nobody-here', bossSchema: 'pgboss', logger: stopping.logger })
    const pending = waiting.enqueued(run, 3)
    waiting.stop()
    await pending
    for (const { logger } of [mine, empty, stopping]) expect(logger.messages('warn')).toEqual([])
  })

  test("an admin instance alone: its runNow()'s run is said to wait, and a working instance started later calls it", async () => {
    const ids = await seedSubscriptions(db.pool, { count: 3, nextRunInSeconds: -60 })
    const logger = captureLogger()
    const admin = track(createSubscriptionScheduler(db.pool, { work: false, schedule: false, cron: '0 0 1 1 *', logger }))
    await admin.start()
    const { runId } = await admin.runNow({ wait: false })
    const warning = await pollUntil(() => logger.messages('warn').find((m) => m.startsWith(`Run ${runId} enqueued`)), { timeoutMs: 30_000, what: 'the warning that nothing calls the run' })
    expect(warning).toContain(`Run ${runId} enqueued 3 subscriptions from this instance (work: false), and no running instance calls the worker`)
    expect(warning).toContain("queue prefix 'subscription-scheduler'")

    const worker = createFakeWorkerClient()
    const working = track(createSubscriptionScheduler(db.pool, { workerClient: worker, cron: '0 0 1 1 *', logger: captureLogger() }))
    await working.start()
    const run = await pollUntil(async () => {
      const read = await admin.getRun(runId)
      return read?.finishedAt ? read : null
    }, { timeoutMs: 30_000, what: `run ${runId} to finish` })
    expect(run).toMatchObject({ processed: 3, successful: 3 })
    expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
  })
})
