import { describe, expect, test } from 'vitest'
import { PermanentError, RetryableError } from '../src/index.js'
import { createFakeWorkerClient } from '../src/testing.js'
import type { ProcessRequest } from '../src/index.js'
import { useSchedulerHarness } from './support/schedulers.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const harness = useSchedulerHarness()
const { scheduler } = harness

const key = (c: ProcessRequest) => `${c.subscriptionId} #${c.attempt}`

describe('circuit breaker', () => {
  test('a worker service that is down is called a few times, not once per row; the rows wait with their attempts, and all complete once it answers', async () => {
    let down = true
    const callsWhileDown: ProcessRequest[] = []
    const worker = createFakeWorkerClient().on(() => down, {
      fail: (request: ProcessRequest) => {
        callsWhileDown.push(request)
        return new RetryableError('503 Service Unavailable', { status: 503 })
      },
    })
    const s = scheduler({
      workerClient: worker,
      queuePrefix: 'breaker-down',
      concurrency: 4,
      retry: { limit: 3, delaySeconds: 1, maxDelaySeconds: 1 },
      circuitBreaker: { failureThreshold: 3, cooldownSeconds: 1, maxCooldownSeconds: 4 },
    })
    const opened: { probe: boolean; until: Date; error: string }[] = []
    const closed: number[] = []
    s.on('breaker:opened', (event) => {
      opened.push(event)
      // The first probe failed: the service comes back before the second.
      if (event.probe) down = false
    })
    s.on('breaker:closed', (event) => void closed.push(event.openForMs))
    await s.start()
    const ids = await seedSubscriptions(harness.db.pool, { count: 40 })

    const summary = await s.runNow()

    expect(summary).toMatchObject({ processed: 40, successful: 40, failed: 0, skipped: 0 })
    // Three failures in a row open it; calls already in flight (concurrency 4) may fail too, and
    // one probe: never one call per row.
    expect(callsWhileDown.length).toBeGreaterThanOrEqual(4)
    expect(callsWhileDown.length).toBeLessThanOrEqual(3 + 3 + 1)
    expect(opened.map((e) => e.probe)).toEqual([false, true])
    expect(opened[0]!.error).toContain('503 Service Unavailable')
    // The failed probe doubled the hold: 1 s, then 2 s.
    expect(closed).toHaveLength(1)
    expect(closed[0]!).toBeGreaterThanOrEqual(2_500)

    const rows = await rowsFor(harness.db.pool, ids)
    expect(rows.map((r) => r.status)).toEqual(ids.map(() => 'completed'))
    // Rows held back kept their attempt: a row not called while the service was down was called
    // once, as attempt 1.
    const failedFirst = new Set(callsWhileDown.map((c) => c.subscriptionId))
    for (const id of ids.filter((id) => !failedFirst.has(id))) expect(worker.callsFor(id).map(key)).toEqual([`${id} #1`])
    // The failed probe (the last call while down) used up no attempt either: its row was called
    // again with the same one. Each call that failed before the breaker opened used one.
    const probe = callsWhileDown.at(-1)!
    const probeRow = worker.callsFor(probe.subscriptionId).map((c) => c.attempt)
    expect(probeRow.slice(probeRow.lastIndexOf(probe.attempt) - 1)).toEqual([probe.attempt, probe.attempt])
    for (const id of [...failedFirst].filter((id) => id !== probe.subscriptionId)) {
      expect(worker.callsFor(id).map((c) => c.attempt)).toEqual(worker.callsFor(id).map((_, i) => i + 1))
    }
    expect(harness.logger.messages('warn').filter((m) => m.includes('Circuit breaker open'))).toHaveLength(2)
    expect(harness.logger.messages('info').some((m) => m.includes('Circuit breaker closed'))).toBe(true)
    // Each failed attempt logs a line; the failed probe, not an attempt, logs none.
    const failedLines = harness.logger.messages('warn').filter((m) => / failed \(attempt \d+, will retry in \d+\.\d s\)/.test(m))
    expect(failedLines).toHaveLength(callsWhileDown.length - 1)
    expect(failedLines.filter((m) => m.includes(`${probe.subscriptionId} failed (attempt ${probe.attempt},`))).toEqual([])
  })

  test('rows held back stay claimed, by a job that starts when the hold ends, even past the claim lease of an hour', async () => {
    const worker = createFakeWorkerClient().otherwise({ fail: new RetryableError('connect ECONNREFUSED 10.0.0.7:8080') })
    const s = scheduler({
      workerClient: worker,
      queuePrefix: 'breaker-hold',
      concurrency: 1,
      retry: { limit: 3, delaySeconds: 1, maxDelaySeconds: 1 },
      circuitBreaker: { failureThreshold: 2, cooldownSeconds: 7200 },
    })
    expect(s.health()).toEqual({ state: 'stopped', breaker: { state: 'closed', openSince: null, until: null }, instanceId: null })
    await s.start()
    const ids = await seedSubscriptions(harness.db.pool, { count: 10 })
    const startedAt = Date.now()
    await s.runNow({ wait: false })

    // Every row, the two that failed and retried included, ends with a job that starts in two hours.
    const deadline = Date.now() + 20_000
    let rows: { status: string; attempts: number; lease_in: number; start_in: number | null }[] = []
    for (;;) {
      ;({ rows } = await harness.db.pool.query(
        `SELECT sp.status, sp.attempts, extract(epoch FROM sp.lease_expires_at - now())::float8 AS lease_in,
                extract(epoch FROM j.start_after - now())::float8 AS start_in
           FROM subscription_processing sp LEFT JOIN pgboss.job j ON j.id = sp.job_id
          WHERE sp.subscription_id = ANY($1::uuid[])`,
        [ids],
      ))
      if (rows.every((r) => r.start_in !== null && r.start_in > 7000)) break
      if (Date.now() > deadline) throw new Error(`Rows were not all held back within 20 s: ${JSON.stringify(rows)}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(worker.calls).toHaveLength(2)
    for (const row of rows) {
      expect(row.status).toBe('queued')
      expect(row.lease_in).toBeGreaterThan(7200)
    }
    expect(rows.map((r) => r.attempts).sort()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    // What a readiness probe or an operator reads: running, its breaker open for two hours.
    const { state, breaker } = s.health()
    expect(state).toBe('running')
    expect(breaker?.state).toBe('open')
    expect(breaker!.openSince!.getTime()).toBeGreaterThanOrEqual(startedAt)
    expect(breaker!.until!.getTime() - breaker!.openSince!.getTime()).toBe(7_200_000)
  })

  test("a worker answering 429 with a Retry-After longer than the cooldown is left alone for that long, and its rows complete after it", async () => {
    let limited = true
    const worker = createFakeWorkerClient().on(() => limited, { fail: new RetryableError('429 Too Many Requests', { status: 429, retryAfterMs: 3_000 }) })
    const s = scheduler({
      workerClient: worker,
      queuePrefix: 'breaker-retry-after',
      concurrency: 1,
      retry: { limit: 3, delaySeconds: 1, maxDelaySeconds: 5 },
      circuitBreaker: { failureThreshold: 2, cooldownSeconds: 1, maxCooldownSeconds: 10 },
    })
    const opened: { heldMs: number; probe: boolean }[] = []
    s.on('breaker:opened', (event) => {
      opened.push({ heldMs: event.until.getTime() - Date.now(), probe: event.probe })
      limited = false
    })
    await s.start()
    await seedSubscriptions(harness.db.pool, { count: 6 })

    const summary = await s.runNow()

    expect(summary).toMatchObject({ processed: 6, successful: 6, failed: 0 })
    // Held for the 3 s it asked, not the 1 s cooldown.
    expect(opened).toHaveLength(1)
    expect(opened[0]!.heldMs).toBeGreaterThan(2_500)
    expect(harness.logger.messages('warn').filter((m) => m.includes("no worker call for 3 s (the worker's Retry-After)"))).toHaveLength(1)
  })

  test.each([
    ['4xx answers mean the service is up', 'breaker-4xx', new PermanentError('422 Unprocessable Entity', { status: 422 })],
    ["409s, a call under the row's key still in progress, mean the service is up and at work", 'breaker-409', new RetryableError('409 Conflict: request with this Idempotency-Key is in progress', { status: 409 })],
  ])('%s: they never open it', async (_, queuePrefix, fail) => {
    const worker = createFakeWorkerClient().otherwise({ fail })
    const s = scheduler({ workerClient: worker, queuePrefix, concurrency: 4, retry: { limit: 0 }, circuitBreaker: { failureThreshold: 3 } })
    const opened: unknown[] = []
    s.on('breaker:opened', (event) => void opened.push(event))
    await s.start()
    await seedSubscriptions(harness.db.pool, { count: 20 })

    const summary = await s.runNow()

    expect(summary).toMatchObject({ processed: 20, successful: 0, failed: 20 })
    expect(worker.calls).toHaveLength(20)
    expect(opened).toEqual([])
  })

  test("a worker refusing the scheduler's credentials (401) opens it, as a service down does: a few rows fail, the rest wait, and complete once it is fixed", async () => {
    // A trial's wrong token failed all 300 subscriptions for good in 2 s, with the breaker on:
    // a 4xx was taken for the service up and answering.
    let refused = true
    const worker = createFakeWorkerClient().on(() => refused, { fail: new PermanentError('Worker answered 401 Unauthorized', { status: 401 }) })
    const s = scheduler({ workerClient: worker, queuePrefix: 'breaker-401', concurrency: 4, circuitBreaker: { failureThreshold: 3, cooldownSeconds: 1 } })
    s.on('breaker:opened', (event) => {
      if (event.probe) refused = false // the token is fixed before the second probe
    })
    await s.start()
    await seedSubscriptions(harness.db.pool, { count: 40 })

    const summary = await s.runNow()

    // Those failed before it opened (three in a row, and calls already in flight) fail for good; the rest complete.
    expect(summary.failed).toBeGreaterThanOrEqual(2)
    expect(summary.failed).toBeLessThanOrEqual(3 + 3)
    expect(summary).toMatchObject({ processed: 40, successful: 40 - summary.failed })
  })

  test("without it, a run of refusals of the scheduler's credentials is said once, as one fault of the setup, with the ways out", async () => {
    const worker = createFakeWorkerClient().otherwise({ fail: new PermanentError('Worker answered 403 Forbidden', { status: 403 }) })
    const s = scheduler({ workerClient: worker, queuePrefix: 'refused-403', concurrency: 4 })
    await s.start()
    await seedSubscriptions(harness.db.pool, { count: 30 })

    expect(await s.runNow()).toMatchObject({ processed: 30, failed: 30 })

    expect(harness.logger.messages('error').filter((m) => m.includes('calls in a row'))).toEqual([
      "The worker answered 403 to 10 calls in a row: it refuses the scheduler's credentials, not one subscription. Check the worker client's headers " +
        "(createHttpWorkerClient({ headers }); the CLI's SUBSCRIPTION_WORKER_HEADERS) and the worker's auth. Each such call fails for good meanwhile " +
        "(retryFailed() calls them again once it is fixed): pauseCalls() (the CLI's pause-calls) stops every call until then, and `circuitBreaker: true` would hold them back.",
    ])
  })

  test('without the option, there is no breaker: every row is called, and spends its retries', async () => {
    const worker = createFakeWorkerClient().otherwise({ fail: new RetryableError('503 Service Unavailable', { status: 503 }) })
    const s = scheduler({ workerClient: worker, queuePrefix: 'breaker-off', concurrency: 4, retry: { limit: 0 } })
    await s.start()
    await seedSubscriptions(harness.db.pool, { count: 20 })

    const summary = await s.runNow()

    expect(summary).toMatchObject({ processed: 20, successful: 0, failed: 20 })
    expect(worker.calls).toHaveLength(20)
  })
})
