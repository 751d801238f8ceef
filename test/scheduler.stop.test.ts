import { describe, expect, test } from 'vitest'
import { ConfigurationError, NotStartedError, PermanentError } from '../src/index.js'
import type { SchedulerEvents, WorkerClient } from '../src/index.js'
import { LINES_PER_MINUTE } from '../src/observe/limited-log.js'
import { createFakeWorkerClient } from '../src/testing.js'
import { pollUntil } from './support/reliability-support.js'
import { useSchedulerHarness } from './support/schedulers.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const harness = useSchedulerHarness()
const { scheduler } = harness

/** Polls the rows until `done` holds, or fails with the last rows seen after `timeoutMs`. */
async function rowsWhen(ids: string[], done: (rows: Awaited<ReturnType<typeof rowsFor>>) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const rows = await rowsFor(harness.db.pool, ids)
    if (done(rows)) return rows
    if (Date.now() > deadline) {
      throw new Error(`Rows did not reach the expected state within ${timeoutMs} ms: ${JSON.stringify(rows.map((r) => ({ sid: r.sid, status: r.status, error: r.error })))}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('stop', () => {
  test('health() follows start() and stop(): stopped, starting, running, stopping, stopped again', async () => {
    const worker = createFakeWorkerClient().otherwise({ delayMs: 300 })
    const s = scheduler({ workerClient: worker, queuePrefix: 'stop-health' })
    expect(s.health()).toEqual({ state: 'stopped', breaker: null, instanceId: null })
    const started = s.start()
    expect(s.health().state).toBe('starting')
    await started
    expect(s.health().state).toBe('running')
    await seedSubscriptions(harness.db.pool, { count: 2 })
    await s.runNow({ wait: false })
    await worker.waitForCalls(1)
    // A call is in flight: stop() waits for it.
    const stopped = s.stop({ timeoutMs: 5000 })
    expect(s.health().state).toBe('stopping')
    // A run asked for meanwhile (a timer, a request the SIGTERM did not stop) is told of the stop,
    // not to call start().
    const refused = await s.runNow().catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(NotStartedError)
    expect((refused as Error).message).toMatch(/^scheduler\.runNow\(\): this instance is stopping \(stop\(\) was called\), so it takes no new work/)
    expect((refused as Error).message).not.toContain('start()` first')
    await stopped
    expect(s.health()).toEqual({ state: 'stopped', breaker: null, instanceId: null })
  })

  test('lets in-flight calls finish and record their outcome, and leaves the pool open', async () => {
    const worker = createFakeWorkerClient().otherwise({ delayMs: 300 })
    const s = scheduler({ workerClient: worker, queuePrefix: 'stop-graceful' })
    await s.start()
    const ids = await seedSubscriptions(harness.db.pool, { count: 6 })
    await s.runNow({ wait: false })
    await worker.waitForCalls(1)

    const said = harness.logger.entries.length
    await s.stop({ timeoutMs: 5000 })

    const called = new Set(worker.calls.map((c) => c.subscriptionId))
    expect(called.size).toBeGreaterThan(0)
    // Its last line says what became of the calls in flight (a trial's SRE read only "Stopped.").
    // Its first, that calls are waited for and how long (a trial's SRE watched 30 s of silence);
    // its last, what became of them (a trial's SRE read only "Stopped.").
    const said2 = harness.logger.entries.slice(said).filter((e) => /^Stop(ping|ped)/.test(e.message))
    expect(said2).toEqual([
      { level: 'info', message: expect.stringMatching(/^Stopping: \d+ calls? in flight gets? up to 5\.0 s \(timeoutMs\) to end; the rows this instance holds and has not called go back to the queue now, for the other instances\.$/) },
      { level: 'info', message: expect.stringMatching(/^Stopped in \d+\.\d s: \d+ calls? in flight ended, each outcome recorded\.$/) },
    ])
    const rows = await rowsFor(harness.db.pool, ids)
    for (const row of rows) {
      if (called.has(row.sid)) {
        // The call was allowed to finish: recorded as a success, not cancelled for a retry.
        expect({ sid: row.sid, status: row.status, error: row.error }).toEqual({ sid: row.sid, status: 'completed', error: null })
      } else {
        // Never fetched: still claimed and queued for the next instance, not lost.
        expect({ sid: row.sid, status: row.status }).toEqual({ sid: row.sid, status: 'queued' })
      }
    }
    // stop() never closes the host's pool.
    const { rows: one } = await harness.db.pool.query('select 1 as one')
    expect(one).toEqual([{ one: 1 }])
    await expect(s.runNow()).rejects.toBeInstanceOf(NotStartedError)
  })

  test("rows a stop hands back go in jobs of a job's size, ahead of the queue, for every instance to take a share", async () => {
    // A trial's rolling restart: each stopping instance's 61–83 rows went back in one job per run,
    // behind the rest of the run; one instance fetched them all, and called them alone.
    const worker = createFakeWorkerClient().otherwise({ delayMs: 1_000 })
    const s = scheduler({ workerClient: worker, queuePrefix: 'stop-split', concurrency: 4 })
    await s.start()
    await seedSubscriptions(harness.db.pool, { count: 40 })
    await s.runNow({ wait: false })
    await worker.waitForCalls(4)
    // Every page job fetched first: a page the instance had not fetched stays as the sweep queued
    // it (priority 0), and a loaded machine can stop before the fetch loops took the last one.
    const queued = `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'stop-split.process' AND state = 'created'`
    await pollUntil(async () => (await harness.db.pool.query<{ n: number }>(queued)).rows[0]!.n === 0, {
      timeoutMs: 20_000,
      what: 'the instance to fetch every page job of the run',
    })
    await s.stop({ timeoutMs: 5_000 })
    const { rows } = await harness.db.pool.query<{ n: number; priority: number }>(
      `SELECT jsonb_array_length(data -> 'ids') AS n, priority FROM pgboss.job WHERE name = 'stop-split.process' AND state = 'created'`,
    )
    // The 36 rows not called, in jobs of 4 (a job's size at concurrency 4), each fetched before newer pages.
    expect(rows.reduce((sum, r) => sum + r.n, 0)).toBe(40 - worker.calls.length)
    expect(rows.map((r) => r.n).sort()).toEqual(Array.from({ length: rows.length }, () => 4))
    expect(new Set(rows.map((r) => r.priority))).toEqual(new Set([1]))
  })

  test('cancels calls that outlive timeoutMs, puts their rows back for a retry, and another instance completes them', async () => {
    const retry = { limit: 3, delaySeconds: 1, maxDelaySeconds: 1 }
    const hanging = createFakeWorkerClient().otherwise({ hang: true })
    const first = scheduler({ workerClient: hanging, retry, queuePrefix: 'stop-hang' })
    await first.start()
    const failedEvents: SchedulerEvents['subscription:failed'][] = []
    first.on('subscription:failed', (event) => void failedEvents.push(event))
    const ids = await seedSubscriptions(harness.db.pool, { count: 3 })
    await first.runNow({ wait: false })
    await hanging.waitForCalls(1)

    const started = Date.now()
    const said = harness.logger.entries.length
    await first.stop({ timeoutMs: 500 })
    const last = harness.logger.entries.slice(said).filter((e) => e.message.startsWith('Stopped'))
    expect(last).toEqual([{ level: 'info', message: expect.stringMatching(/^Stopped in \d+\.\d s: \d+ calls? cut short at timeoutMs \(500 ms\) went back to the queue, recorded as retries\.$/) }])
    // A deploy's cancellations are told apart from the worker's failures: an alert can leave them out.
    expect(failedEvents.length).toBeGreaterThan(0)
    for (const event of failedEvents) expect(event).toMatchObject({ cancelled: true, final: false, status: null })
    const took = Date.now() - started
    // Bounded by timeoutMs (plus settling), far below pg-boss's own graceful timeout (timeoutMs + 5 s).
    expect(took).toBeGreaterThanOrEqual(450)
    expect(took).toBeLessThan(3000)

    const afterStop = await rowsFor(harness.db.pool, ids)
    expect(afterStop.map((r) => r.status).sort()).toEqual(['queued', 'queued', 'queued'])
    const cancelled = afterStop.filter((r) => hanging.callsFor(r.sid).length > 0)
    expect(cancelled.length).toBeGreaterThan(0)
    for (const row of cancelled) expect(row.error).toContain('cancelled because the scheduler is stopping')
    await expect(harness.db.pool.query('select 1')).resolves.toBeDefined()

    const healthy = createFakeWorkerClient()
    const second = scheduler({ workerClient: healthy, retry, queuePrefix: 'stop-hang' })
    await second.start()
    const rows = await rowsWhen(ids, (rs) => rs.every((r) => r.status === 'completed'))
    for (const row of rows) expect({ sid: row.sid, error: row.error }).toEqual({ sid: row.sid, error: null })
    // Each subscription went to the new worker once, for the slot it was claimed for.
    for (const row of rows) {
      const calls = healthy.callsFor(row.sid)
      expect(calls).toHaveLength(1)
      expect(calls[0]!.scheduledFor).toBe(afterStop.find((r) => r.sid === row.sid)!.scheduled_for.toISOString())
    }
  })

  test('stop() says how many ended calls a worker client that ignores its signal still works on', async () => {
    // A trial's in-process client went on charging after stop() had resolved, and its host exited.
    let release = () => {}
    const answered = new Promise<void>((resolve) => (release = resolve))
    let called = 0
    const deaf: WorkerClient = {
      async process() {
        called += 1
        await answered
        return { ok: true }
      },
    }
    const s = scheduler({ workerClient: deaf, retry: { limit: 0 }, queuePrefix: 'stop-deaf' })
    await s.start()
    await seedSubscriptions(harness.db.pool, { count: 1 })
    await s.runNow({ wait: false })
    await expect.poll(() => called, { timeout: 10_000 }).toBe(1)
    const said = harness.logger.entries.length
    await s.stop({ timeoutMs: 300 })
    release()
    const last = harness.logger.entries.slice(said).filter((e) => e.message.startsWith('Stopped'))
    expect(last).toEqual([{
      level: 'info',
      message: expect.stringMatching(
        /^Stopped in \d+\.\d s: 1 call cut short at timeoutMs \(300 ms\) went back to the queue, recorded as retries\. The worker client has not answered 1 call that ended \(timed out or cut short\): it ignores their signal, so that work may go on until this process exits/,
      ),
    }])
  })

  test('a call cancelled by stop() goes back to the queue at once, not after the backoff of a failure', async () => {
    const retry = { limit: 3, delaySeconds: 600, maxDelaySeconds: 600 }
    const hanging = createFakeWorkerClient().otherwise({ hang: true })
    const first = scheduler({ workerClient: hanging, retry, queuePrefix: 'stop-requeue' })
    await first.start()
    const [id] = await seedSubscriptions(harness.db.pool, { count: 1 })
    await first.runNow({ wait: false })
    await hanging.waitForCalls(1)
    await first.stop({ timeoutMs: 300 })

    const healthy = createFakeWorkerClient()
    const second = scheduler({ workerClient: healthy, retry, queuePrefix: 'stop-requeue' })
    await second.start()
    // A failure would wait 300–600 s for its retry; a cancelled call is nobody's failure.
    const [row] = await rowsWhen([id!], (rs) => rs.every((r) => r.status === 'completed'))
    expect(row).toMatchObject({ status: 'completed', error: null, consecutive_failures: 0 })
    expect(healthy.callsFor(id!)).toHaveLength(1)
    // Logged as what it is, not as a failure.
    const about = (level: 'info' | 'warn') => harness.logger.messages(level).filter((m) => m.includes(id!))
    expect(about('warn')).toEqual([])
    expect(about('info').join('\n')).toMatch(/cancelled by stop\(\).*back in the queue/)
  })

  test('a call cancelled by stop() on its last attempt is not recorded as a failure; the next instance takes the slot again', async () => {
    const hanging = createFakeWorkerClient().otherwise({ hang: true })
    const first = scheduler({ workerClient: hanging, retry: { limit: 0 }, queuePrefix: 'stop-last-attempt' })
    await first.start()
    const [id] = await seedSubscriptions(harness.db.pool, { count: 1 })
    const { runId } = await first.runNow({ wait: false })
    await hanging.waitForCalls(1)
    await first.stop({ timeoutMs: 300 })
    // The log says where the row goes: no retry job follows a last attempt.
    expect(harness.logger.messages('info').join('\n')).toMatch(/cancelled by stop\(\) \(attempt 1\); on its last attempt, not a failure: the next sweep or rescue pass/)

    const [row] = await rowsFor(harness.db.pool, [id!])
    // Not failed, not counted against the subscription, and claimable at once.
    expect(row).toMatchObject({ status: 'queued', consecutive_failures: 0 })
    expect(row.lease_expires_at.getTime()).toBeLessThanOrEqual(Date.now())
    const { rows: runs } = await harness.db.pool.query(`SELECT failed, retried FROM subscription_scheduler.runs WHERE id = $1`, [runId])
    expect(runs[0]).toEqual({ failed: 0, retried: 1 })

    const healthy = createFakeWorkerClient()
    const second = scheduler({ workerClient: healthy, retry: { limit: 0 }, queuePrefix: 'stop-last-attempt' })
    await second.start()
    const summary = await second.runNow()
    expect(summary).toMatchObject({ processed: 1, successful: 1 })
    expect(healthy.callsFor(id!).map((c) => c.scheduledFor)).toEqual([row.scheduled_for.toISOString()])
    // The first run gave the subscription up to the rescue: it counts it as skipped, and finishes.
    const { rows: firstRun } = await harness.db.pool.query(`SELECT skipped, finished_at FROM subscription_scheduler.runs WHERE id = $1`, [runId])
    expect(firstRun[0].skipped).toBe(1)
    expect(firstRun[0].finished_at).not.toBeNull()
  })

  test('stop() within the minute says how many failed attempts it left out of the log, before "Stopped."', async () => {
    const worker = createFakeWorkerClient().otherwise({ fail: new PermanentError('no such customer') })
    const s = scheduler({ workerClient: worker, queuePrefix: 'stop-flush-log' })
    await s.start()
    await seedSubscriptions(harness.db.pool, { count: LINES_PER_MINUTE + 5 })
    expect(await s.runNow()).toMatchObject({ failed: LINES_PER_MINUTE + 5 })
    await s.stop({ timeoutMs: 5000 })
    const lines = harness.logger.entries.map((e) => `${e.level} ${e.message}`)
    const counted = lines.findIndex((line) => /^warn 5 more failures that gave up on their slot not logged one by one since \d{4}-\d\d-\d\dT[\d:.]+Z: each one is in listFailures\(\)/.test(line))
    expect(counted, lines.join('\n')).toBeGreaterThan(-1)
    expect(lines.indexOf('info Stopped.')).toBeGreaterThan(counted)
  })

  test('stop() twice, in sequence or at once, is harmless', async () => {
    const s = scheduler({ workerClient: createFakeWorkerClient(), queuePrefix: 'stop-twice' })
    await s.start()
    await s.stop({ timeoutMs: 1000 })
    await expect(s.stop({ timeoutMs: 1000 })).resolves.toBeUndefined()

    await s.start()
    await expect(Promise.all([s.stop({ timeoutMs: 1000 }), s.stop({ timeoutMs: 1000 })])).resolves.toEqual([undefined, undefined])
    await expect(harness.db.pool.query('select 1')).resolves.toBeDefined()
  })

  // A host that awaits the second stop() and then ends its pool must not cut off the settle.
  test('a stop() made while another is draining resolves only once the in-flight calls have settled', async () => {
    const worker = createFakeWorkerClient().otherwise({ delayMs: 500 })
    const s = scheduler({ workerClient: worker, queuePrefix: 'stop-concurrent' })
    await s.start()
    const ids = await seedSubscriptions(harness.db.pool, { count: 2 })
    await s.runNow({ wait: false })
    await worker.waitForCalls(1)
    const first = s.stop({ timeoutMs: 5000 })
    await s.stop({ timeoutMs: 5000 })
    const called = new Set(worker.calls.map((c) => c.subscriptionId))
    const rows = (await rowsFor(harness.db.pool, ids)).filter((r) => called.has(r.sid))
    await first
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'completed'))
  })

  test('stop() with a timeoutMs that is not a number of milliseconds is refused, and the scheduler keeps running', async () => {
    const s = scheduler({ workerClient: createFakeWorkerClient(), queuePrefix: 'stop-bad-timeout' })
    await s.start()
    for (const timeoutMs of [Number.NaN, -1, '5000', 5n]) {
      await expect(s.stop({ timeoutMs } as never), String(timeoutMs)).rejects.toThrow(/timeoutMs.*got/)
    }
    await seedSubscriptions(harness.db.pool, { count: 1 })
    await expect(s.runNow()).resolves.toMatchObject({ processed: 1 })
  })

  test('the list methods refuse a limit that is not a whole number from 1, naming it', async () => {
    const s = scheduler({ workerClient: createFakeWorkerClient(), queuePrefix: 'bad-limits' })
    for (const limit of [Number.NaN, 0, 2.5, '5', 5n]) {
      await expect(s.listRuns({ limit } as never), String(limit)).rejects.toThrow(/`limit`.*whole number from 1/)
      await expect(s.listFailures({ limit } as never), String(limit)).rejects.toThrow(/`limit`/)
    }
    await expect(s.listRuns({ limit: 5000 })).resolves.toBeInstanceOf(Array)
  })

  test("a method's option it does not take (a typo, another method's) is refused naming it, the nearest one and those it takes", async () => {
    const s = scheduler({ workerClient: createFakeWorkerClient(), queuePrefix: 'bad-method-options' })
    const id = '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9'
    const cases: [string, () => Promise<unknown>, string, RegExp][] = [
      ['listRuns', () => s.listRuns({ offset: 20 } as never), 'offset', /^Invalid option `offset`: unknown option of listRuns\(\); it takes limit, before, trigger, unfinished, subscriptionId\.$/],
      ['listRuns', () => s.listRuns({ limt: 5 } as never), 'limt', /unknown option of listRuns\(\); did you mean `limit`\? It takes limit, before, trigger, unfinished, subscriptionId\./],
      ['listFailures', () => s.listFailures({ run: id } as never), 'run', /unknown option of listFailures\(\); did you mean `runId`\?/],
      ['listFailing', () => s.listFailing({ before: id } as never), 'before', /unknown option of listFailing\(\); it takes limit\./],
      ['getSubscription', () => s.getSubscription(id, { limit: 5 } as never), 'limit', /unknown option of getSubscription\(\); it takes errors, history\./],
      ['upcoming', () => s.upcoming(id, { limit: 5 } as never), 'limit', /unknown option of upcoming\(\); it takes count\./],
      ['runNow', () => s.runNow({ wiat: false } as never), 'wiat', /unknown option of runNow\(\); did you mean `wait`\?$/],
      ['runSubscription', () => s.runSubscription(id, { subscriptionIds: [id] } as never), 'subscriptionIds', /unknown option of runSubscription\(\); it takes wait\./],
      ['retryFailed', () => s.retryFailed({ ids: [id] } as never), 'ids', /unknown option of retryFailed\(\); it takes subscriptionIds, wait\./],
      ['stop', () => s.stop({ timeout: 5000 } as never), 'timeout', /unknown option of stop\(\); did you mean `timeoutMs`\?/],
      // A true-or-false option given as a string: 'false' would have waited.
      ['runNow', () => s.runNow({ wait: 'false' } as never), 'wait', /^Invalid option `wait`: expected true \(resolve once the run has settled\) or false, got "false"\.$/],
      ['retryFailed', () => s.retryFailed({ wait: 0 } as never), 'wait', /expected true \(resolve once the run has settled\) or false, got 0\./],
      ['runSubscription', () => s.runSubscription(id, { wait: null } as never), 'wait', /got null\./],
      ['listRuns', () => s.listRuns(5 as never), 'options', /^Invalid option `options`: listRuns\(\) takes \{ limit, before, trigger, unfinished, subscriptionId \} \(each optional\), got 5\.$/],
    ]
    for (const [method, call, option, says] of cases) {
      const error = await call().catch((e: unknown) => e)
      expect(error, method).toBeInstanceOf(ConfigurationError)
      expect({ method, option: (error as ConfigurationError).option }).toEqual({ method, option })
      expect((error as Error).message, method).toMatch(says)
    }
  })

  test('stop() on a scheduler that never started resolves', async () => {
    const s = scheduler({ workerClient: createFakeWorkerClient(), queuePrefix: 'stop-never' })
    await expect(s.stop()).resolves.toBeUndefined()
  })
})

describe('start', () => {
  test('runNow() on a scheduler that was never started rejects with NotStartedError', async () => {
    const worker = createFakeWorkerClient()
    const s = scheduler({ workerClient: worker, queuePrefix: 'never-started' })
    const ids = await seedSubscriptions(harness.db.pool, { count: 1 })
    const runs = async () => (await harness.db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.runs`)).rows[0].n as number
    const runsBefore = await runs()
    const error = await s.runNow().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotStartedError)
    expect((error as NotStartedError).runId).toBeUndefined()
    expect((error as Error).message).toContain('start()')
    // Nothing was recorded or claimed.
    expect(worker.calls).toEqual([])
    expect(await runs()).toBe(runsBefore)
    expect((await rowsFor(harness.db.pool, ids))[0]).toMatchObject({ status: 'pending', run_id: null })
  })

  test('a runNow() still waiting when stop() begins rejects with NotStartedError naming its run, which goes on', async () => {
    const hanging = createFakeWorkerClient().otherwise({ hang: true })
    const s = scheduler({ workerClient: hanging, queuePrefix: 'stop-while-waiting' })
    await s.start()
    await seedSubscriptions(harness.db.pool, { count: 1 })
    let settled = false
    const waiting = s.runNow().catch((e: unknown) => ((settled = true), e))
    await hanging.waitForCalls(1)
    const [runId] = (await harness.db.pool.query<{ id: string }>(`SELECT id::text FROM subscription_scheduler.runs ORDER BY started_at DESC LIMIT 1`)).rows.map((r) => r.id)
    await s.stop({ timeoutMs: 300 })
    // Settled before stop() resolved: a host that exits right after `await stop()` has seen it.
    expect(settled).toBe(true)
    const error = await waiting
    expect(error).toBeInstanceOf(NotStartedError)
    expect((error as Error).message).toContain(`run ${runId}`)
    expect((error as Error).message).toMatch(/stop\(\).*getRun/)
    expect((error as NotStartedError).runId).toBe(runId)
  })

  test('a runNow() waiting when stop() begins waits for the drain: calls that finish in it resolve it with the run', async () => {
    const slow = createFakeWorkerClient().otherwise({ delayMs: 800 })
    const s = scheduler({ workerClient: slow, queuePrefix: 'stop-drains-run' })
    await s.start()
    const ids = await seedSubscriptions(harness.db.pool, { count: 3 })
    let settled: 'resolved' | 'rejected' | undefined
    const waiting = s.runNow().then(
      (run) => ((settled = 'resolved'), run),
      (error: unknown) => ((settled = 'rejected'), error),
    )
    await slow.waitForCalls(3)
    const stopping = s.stop({ timeoutMs: 10_000 })
    // A host awaiting runNow() is not ended while its calls drain (a script's top-level await would exit).
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBeUndefined()
    await stopping
    expect(settled).toBe('resolved')
    expect(await waiting).toMatchObject({ processed: 3, successful: 3 })
    expect(slow.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
  })

  test('start() twice, at once or in sequence, is harmless: one stop() leaves no worker behind', async () => {
    const leaked = createFakeWorkerClient()
    const a = scheduler({ workerClient: leaked, queuePrefix: 'start-twice' })
    await Promise.all([a.start(), a.start()])
    await a.start()
    const ids = await seedSubscriptions(harness.db.pool, { count: 2 })
    const summary = await a.runNow()
    expect(summary).toMatchObject({ processed: 2, successful: 2 })
    expect(leaked.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
    await a.stop({ timeoutMs: 1000 })

    // Had a second start() left a pg-boss worker running, it would compete for this queue's jobs.
    leaked.reset()
    const worker = createFakeWorkerClient()
    const b = scheduler({ workerClient: worker, queuePrefix: 'start-twice' })
    await b.start()
    const more = await seedSubscriptions(harness.db.pool, { count: 20 })
    const second = await b.runNow()
    expect(second).toMatchObject({ processed: 20, successful: 20 })
    expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([...more].sort())
    expect(leaked.calls).toEqual([])
  })

  test('a stopped scheduler can be started again', async () => {
    const worker = createFakeWorkerClient()
    const s = scheduler({ workerClient: worker, queuePrefix: 'restart' })
    await s.start()
    await s.stop({ timeoutMs: 1000 })
    await s.start()
    const [id] = await seedSubscriptions(harness.db.pool, { count: 1 })
    expect(await s.runNow()).toMatchObject({ processed: 1, successful: 1 })
    expect(worker.callsFor(id!)).toHaveLength(1)
  })
})
