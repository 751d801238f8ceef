/**
 * Calls paused fleet-wide: an operator's switch every instance obeys at once. While it is on, no
 * run starts (on demand: `CallsPausedError`; on the cron: it passes, said once), rows waiting in
 * a job are let go of with their slot, a backfill skips its slots left; a call in flight finishes.
 * Once resumed, the next sweep calls what fell due meanwhile, under the same keys. Real Postgres
 * and pg-boss; the worker is a fake whose calls wait for the test.
 */
import { PgBoss } from 'pg-boss'
import { describe, expect, test } from 'vitest'
import { CallsPausedError, createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { heldWorker } from './support/held-worker.js'
import { TEST_DEFAULTS, useSchedulerHarness } from './support/schedulers.js'
import { seedSubscriptions } from './support/seed.js'

const harness = useSchedulerHarness()

/** Polls `condition` every 50 ms until it holds, failing after `ms`. */
async function until(condition: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('pauseCalls()', () => {
  test('refuses every run on demand while on, naming the pause and its note; status shows it; a second pause keeps the first', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient() })
    await scheduler.start()
    const [id] = await seedSubscriptions(harness.db.pool, { count: 1 })
    // An operator's process (the CLI, an admin server): no start() needed.
    const operator = createSubscriptionScheduler(harness.db.pool, { ...TEST_DEFAULTS, logger: captureLogger() })
    const pause = await operator.pauseCalls({ note: 'worker migration, ticket 88' })
    expect(pause).toEqual({ pausedAt: expect.any(Date), note: 'worker migration, ticket 88' })
    await expect(operator.pauseCalls({ note: 'again' })).resolves.toEqual(pause)

    const asked = [() => scheduler.runNow(), () => scheduler.retryFailed(), () => scheduler.runSubscription(id!), () => scheduler.backfill(id!, { from: new Date(Date.now() - 3 * 86_400_000), to: new Date() })]
    for (const ask of asked) {
      const error = await ask().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CallsPausedError)
      expect((error as CallsPausedError).message).toMatch(/^Cannot .+: calls are paused fleet-wide since .+ \("worker migration, ticket 88"\), so it would call nobody\. resumeCalls\(\) lifts the pause/)
      expect(error).toMatchObject({ code: 'CALLS_PAUSED', pausedAt: pause.pausedAt, note: 'worker migration, ticket 88' })
    }
    expect((await scheduler.getStatus()).callsPaused).toEqual(pause)
    const { rows } = await harness.db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.runs`)
    expect(rows[0].n).toBe(0)

    await expect(operator.resumeCalls()).resolves.toEqual(pause)
    await expect(operator.resumeCalls()).resolves.toBeNull()
    expect((await scheduler.getStatus()).callsPaused).toBeNull()
    await expect(scheduler.runNow()).resolves.toMatchObject({ processed: 1, successful: 1 })
  })

  test('rows waiting their turn in a job are let go of with their slot; the call in flight finishes; after the resume they are called under the same keys', async () => {
    const held = heldWorker()
    const scheduler = harness.scheduler({ workerClient: held.client, concurrency: 1 })
    await scheduler.start()
    await seedSubscriptions(harness.db.pool, { count: 5 })
    const run = scheduler.runNow()
    await held.firstCall
    // Paused by this process: the next call is held at once (another's pause, within a re-read of 250 ms).
    await scheduler.pauseCalls()
    held.release()
    await expect(run).resolves.toMatchObject({ processed: 5, successful: 1, skipped: 4 })
    expect(held.calls).toHaveLength(1)
    const { rows: waiting } = await harness.db.pool.query(`SELECT count(*)::int AS n FROM subscription_processing WHERE status = 'pending' AND next_run_at = scheduled_for`)
    expect(waiting[0].n).toBe(4)

    await scheduler.resumeCalls()
    await expect(scheduler.runNow()).resolves.toMatchObject({ processed: 4, successful: 4 })
    const keys = held.calls.map((c) => c.idempotencyKey)
    expect(new Set(keys).size).toBe(5)
  })

  test('rows waiting behind calls in flight are let go of at the pause, not when those calls end', async () => {
    const held = heldWorker()
    const scheduler = harness.scheduler({ workerClient: held.client, concurrency: 2 })
    await scheduler.start()
    await seedSubscriptions(harness.db.pool, { count: 6 })
    const run = scheduler.runNow()
    // Three jobs of two rows, all fetched: two calls in flight, held; four rows wait in the call gate.
    await until(async () => held.calls.length === 2)
    await until(async () => {
      const { rows } = await harness.db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'subscription-scheduler.process' AND state = 'active'`)
      return rows[0].n === 3
    })
    // Paused by another process (an operator's CLI): seen at the next re-check of the waiting rows.
    const operator = createSubscriptionScheduler(harness.db.pool, { ...TEST_DEFAULTS, logger: captureLogger() })
    await operator.pauseCalls({ note: 'worker outage' })
    // Let go of with their slot while the two calls still hang: an operator sees them pending.
    await until(async () => {
      const { rows } = await harness.db.pool.query(`SELECT count(*)::int AS n FROM subscription_processing WHERE status = 'pending' AND next_run_at = scheduled_for`)
      return rows[0].n === 4
    }, 5_000)
    expect(held.calls).toHaveLength(2)
    held.release()
    await expect(run).resolves.toMatchObject({ processed: 6, successful: 2, skipped: 4 })
    expect(held.calls).toHaveLength(2)
  })

  test('a scheduled sweep passes while calls are paused, saying so once', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient() })
    await scheduler.start()
    await seedSubscriptions(harness.db.pool, { count: 3 })
    await scheduler.pauseCalls({ note: 'incident 7' })
    const runs = async () => (await harness.db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.runs`)).rows[0].n as number
    const before = await runs()
    const boss = new PgBoss({ connectionString: harness.db.url })
    await boss.start()
    try {
      for (let fire = 0; fire < 2; fire++) {
        const job = await boss.send('subscription-scheduler.sweep', {})
        await until(async () => (await boss.getJobById('subscription-scheduler.sweep', job!))?.state === 'completed')
      }
    } finally {
      await boss.stop({ graceful: false })
    }
    expect(await runs()).toBe(before)
    const said = harness.logger.messages('info').filter((m) => m.startsWith('Scheduled sweeps pass while calls are paused'))
    expect(said).toEqual([expect.stringContaining('("incident 7")')])
  })

  test('two schedulers of one process, each on its own prefix and paused, each say their own pause once', async () => {
    const loggers = [captureLogger(), captureLogger()]
    const prefixes = ['subscription-scheduler', 'tenant-b']
    const schedulers = prefixes.map((queuePrefix, i) => harness.scheduler({ workerClient: createFakeWorkerClient(), queuePrefix, logger: loggers[i] }))
    for (const scheduler of schedulers) await scheduler.start()
    await schedulers[0]!.pauseCalls({ note: 'incident A' })
    await schedulers[1]!.pauseCalls({ note: 'incident B' })
    const boss = new PgBoss({ connectionString: harness.db.url })
    await boss.start()
    try {
      // Alternate fires: a pause said by one scheduler is not the one the other last said.
      for (let fire = 0; fire < 4; fire++) {
        const queue = `${prefixes[fire % 2]}.sweep`
        const job = await boss.send(queue, {})
        await until(async () => (await boss.getJobById(queue, job!))?.state === 'completed')
      }
    } finally {
      await boss.stop({ graceful: false })
    }
    const said = loggers.map((logger) => logger.messages('info').filter((m) => m.startsWith('Scheduled sweeps pass while calls are paused')))
    expect(said).toEqual([[expect.stringContaining('("incident A")')], [expect.stringContaining('("incident B")')]])
  })

  test('a backfill under way when calls are paused skips its slots left, and its run says why', async () => {
    const held = heldWorker()
    const scheduler = harness.scheduler({ workerClient: held.client })
    await scheduler.start()
    const [id] = await seedSubscriptions(harness.db.pool, { count: 1, status: 'completed', nextRunInSeconds: 86_400 })
    const day = 86_400_000
    const started = scheduler.backfill(id!, { from: new Date(Date.now() - 4 * day), to: new Date(Date.now() - day) })
    await held.firstCall
    await scheduler.pauseCalls({ note: 'incident 9' })
    held.release()
    const finished = await started
    // Three or four daily slots, as the time of day falls.
    const slots = finished.processed
    expect(slots).toBeGreaterThanOrEqual(3)
    expect(finished).toMatchObject({ successful: 1, skipped: slots - 1 })
    expect(finished.error).toMatch(new RegExp(`^Calls were paused fleet-wide since .+ \\("incident 9"\\) before slot 2 of ${slots}: the slots left are skipped; backfill them again after resumeCalls\\(\\)\\.$`))
    expect(held.calls).toHaveLength(1)
  })
})
