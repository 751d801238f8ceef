import { metrics, SpanStatusCode, trace } from '@opentelemetry/api'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import type { DataPoint, Histogram, ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { setTimeout as delay } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler, PermanentError, RetryableError } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'
import { seedSubscriptions } from './support/seed.js'

const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })
const spanExporter = new InMemorySpanExporter()
let db: TestDatabase
let pool: pg.Pool
let scheduler: SubscriptionScheduler
const worker = createFakeWorkerClient()

const DUE_COUNT = /SELECT count\(\*\)::int AS n FROM subscription_processing/
/**
 * The host's connections send the count of due rows half a second late, as a busy server might
 * run it: a run's claims then commit first, and the backlog gauge must still count what was due
 * as the run began.
 */
class SlowDueCount extends pg.Client {
  override query(...args: unknown[]): never {
    const config = args[0] as string | { text?: string } | undefined
    const text = typeof config === 'string' ? config : config?.text
    const send = () => (super.query as (...a: unknown[]) => unknown).apply(this, args)
    return (typeof text === 'string' && DUE_COUNT.test(text) ? delay(500).then(send) : send()) as never
  }
}

beforeAll(async () => {
  // Registered before the scheduler starts, as a host's SDK setup would be.
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] }))
  db = await createTestDatabase()
  pool = new pg.Pool({ connectionString: db.url, Client: SlowDueCount })
  pool.on('error', () => {})
  scheduler = createSubscriptionScheduler(pool, { workerClient: worker, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, retry: { limit: 2, delaySeconds: 1, maxDelaySeconds: 1 } })
  await scheduler.start()
})

afterAll(async () => {
  await scheduler?.stop({ timeoutMs: 2000 })
  await pool?.end()
  metrics.disable()
  trace.disable()
})

async function collect(): Promise<Map<string, DataPoint<unknown>[]>> {
  await reader.forceFlush()
  const batches: ResourceMetrics[] = metricExporter.getMetrics()
  const latest = batches.at(-1)!
  const points = new Map<string, DataPoint<unknown>[]>()
  for (const scope of latest.scopeMetrics) {
    if (scope.scope.name !== 'pg-subscription-scheduler') continue
    for (const metric of scope.metrics) points.set(metric.descriptor.name, metric.dataPoints as DataPoint<unknown>[])
  }
  return points
}

const sum = (points: DataPoint<unknown>[] | undefined, filter: Record<string, unknown> = {}) =>
  (points ?? []).filter((p) => Object.entries(filter).every(([k, v]) => p.attributes[k] === v)).reduce((n, p) => n + (p.value as number), 0)

/** The due backlog the gauge reports now, once it reports one. */
async function backlogReported(what: string, until: (backlog: number) => boolean = () => true): Promise<number> {
  return await pollUntil(async () => {
    const reported = (await collect()).get('pss.due.backlog')
    return reported?.length && until(sum(reported)) ? sum(reported) : undefined
  }, { timeoutMs: 10_000, what })
}

test('exports runs, outcomes, worker latency, fire lateness and the due backlog as OpenTelemetry metrics, and spans', async () => {
  // The instance's own reading as it started, of a database with nothing due: in before the run's.
  expect(await backlogReported("the instance's first reading of the due backlog")).toBe(0)
  const [bad, ...good] = await seedSubscriptions(db.pool, { count: 5, nextRunInSeconds: -120 })
  worker.on(bad!, { fail: new PermanentError('no such customer') })
  const summary = await scheduler.runNow()
  expect(summary).toMatchObject({ processed: 5, successful: 4, failed: 1 })

  const points = await collect()
  expect(sum(points.get('pss.runs'), { trigger: 'manual' })).toBe(1)
  expect(sum(points.get('pss.subscriptions.succeeded'))).toBe(good.length)
  expect(sum(points.get('pss.subscriptions.failed'), { final: true })).toBe(1)
  // Failed for good because the worker said so, not because its retries ran out: told apart.
  expect(sum(points.get('pss.subscriptions.failed'), { final: true, permanent: true })).toBe(1)
  expect(sum(points.get('pss.subscriptions.failed'), { final: false })).toBe(0)
  expect(sum(points.get('pss.subscriptions.retried'))).toBe(0)
  const calls = (points.get('pss.worker.call.duration') ?? []) as DataPoint<Histogram>[]
  expect(calls.reduce((n, p) => n + p.value.count, 0)).toBe(5)
  expect(calls.find((p) => p.attributes.outcome === 'failure')?.value.count).toBe(1)
  // Each slot was due two minutes before its call: lateness is at least that.
  const lateness = (points.get('pss.fire.lateness') ?? []) as DataPoint<Histogram>[]
  expect(lateness[0]?.value.count).toBe(5)
  expect(lateness[0]?.value.min).toBeGreaterThanOrEqual(119_000)
  // Buckets that reach past the SDK's default 10 s: two minutes late is in a bucket of its own,
  // not the overflow one, and so are an hour's retry backoff and a half-minute call.
  const { boundaries, counts } = lateness[0]!.value.buckets
  expect(boundaries.at(-1)).toBeGreaterThanOrEqual(86_400_000)
  expect(counts.at(-1)).toBe(0)
  expect(boundaries).toContain(3_600_000)
  expect(calls[0]!.value.buckets.boundaries).toEqual(expect.arrayContaining([5, 30_000, 60_000]))
  // What was due as the run began. The gauge reports it once its count returns, which here (the
  // count is sent late) is after the run: a count taken after the claims would read 0.
  expect(await backlogReported("the run's reading of the due backlog", (backlog) => backlog !== 0)).toBe(5)

  const spans = spanExporter.getFinishedSpans()
  expect(spans.filter((s) => s.name === 'pss.sweep')).toHaveLength(1)
  const callSpans = spans.filter((s) => s.name === 'pss.worker.call')
  expect(callSpans).toHaveLength(5)
  expect(callSpans.filter((s) => s.status.code === 2).map((s) => s.attributes['pss.subscription_id'])).toEqual([bad])
  // Each call's span names its run, which the sweep's span names too: a run's calls can be found.
  expect(new Set(callSpans.map((s) => s.attributes['pss.run_id']))).toEqual(new Set([summary.runId]))
  // Every data point says which scheduler it is of.
  expect(points.get('pss.runs')?.[0]?.attributes).toEqual({ trigger: 'manual', queue_prefix: 'subscription-scheduler' })
})

test('a failed attempt that is retried counts as failed with final=false, and as retried', async () => {
  const before = await collect()
  const [flaky] = await seedSubscriptions(db.pool, { count: 1, nextRunInSeconds: -60 })
  worker.on(flaky!, { fail: new RetryableError('busy'), failTimes: 1 })
  const spansBefore = spanExporter.getFinishedSpans().length
  const summary = await scheduler.runSubscription(flaky!)
  expect(summary).toMatchObject({ processed: 1, successful: 1, retried: 1, failed: 0 })
  const after = await collect()
  const grew = (name: string, filter: Record<string, unknown> = {}) => sum(after.get(name), filter) - sum(before.get(name), filter)
  expect(grew('pss.subscriptions.failed', { final: false, cancelled: false, permanent: false })).toBe(1)
  expect(grew('pss.subscriptions.failed', { final: true })).toBe(0)
  expect(grew('pss.subscriptions.retried', { cancelled: false })).toBe(1)
  // Its retry's lateness holds the backoff: apart from first calls', which tell how late the schedule runs.
  const lateCount = (points: Map<string, DataPoint<unknown>[]>, retry: boolean) =>
    ((points.get('pss.fire.lateness') ?? []) as DataPoint<Histogram>[]).filter((p) => p.attributes.retry === retry).reduce((n, p) => n + p.value.count, 0)
  expect(lateCount(after, false) - lateCount(before, false)).toBe(1)
  expect(lateCount(after, true) - lateCount(before, true)).toBe(1)
  // runSubscription()'s sweep names its run, as every sweep does.
  const sweeps = spanExporter.getFinishedSpans().slice(spansBefore).filter((s) => s.name === 'pss.sweep')
  expect(sweeps.map((s) => s.attributes)).toEqual([{ 'pss.trigger': 'single', 'pss.run_id': summary.runId }])
})

test('with tracing on, a worker that throws null, a string or an object is recorded as it would be without: the span says what the failure records, class and cause included', async () => {
  const thrown = [null, 'no card on file', new PermanentError('gone'), { code: 42 }, new Error('charge failed', { cause: new Error('socket hang up') })]
  const ids = await seedSubscriptions(db.pool, { count: thrown.length, nextRunInSeconds: -60 })
  ids.forEach((id, i) => worker.on(id, { fail: thrown[i] }))
  const spansBefore = spanExporter.getFinishedSpans().length
  for (const id of ids) await scheduler.runSubscription(id)
  const recorded = await Promise.all(ids.map(async (id) => (await scheduler.getSubscription(id)).error))
  expect(recorded).toEqual(['null', 'no card on file', 'PermanentError: gone', '{"code":42}', 'charge failed (cause: socket hang up)'])
  const calls = spanExporter.getFinishedSpans().slice(spansBefore).filter((s) => s.name === 'pss.worker.call')
  const statusOf = (id: string) => calls.filter((s) => s.attributes['pss.subscription_id'] === id).map((s) => s.status)
  expect(ids.map((id) => statusOf(id)[0])).toEqual(recorded.map((message) => ({ code: SpanStatusCode.ERROR, message })))
  // Failed, they would be tried again by the other tests' sweeps.
  for (const id of ids) await scheduler.pause(id)
})

test('a backfill counts as a run (trigger backfill), and each of its calls has a span and a duration, but no fire lateness: its slots are past on purpose', async () => {
  const before = await collect()
  const spansBefore = spanExporter.getFinishedSpans().length
  // Not due: left due, the tests below would sweep it with their own rows.
  const [id] = await seedSubscriptions(db.pool, { count: 1, nextRunInSeconds: 86_400 })
  const day = 86_400_000
  // Three days at 09:00 UTC, the scheduler's default time of day.
  const midnight = Math.floor(Date.now() / day) * day
  const summary = await scheduler.backfill(id!, { from: new Date(midnight - 4 * day), to: new Date(midnight - day) })
  expect(summary).toMatchObject({ processed: 3, successful: 3 })
  const after = await collect()
  const grew = (name: string, filter: Record<string, unknown> = {}) => sum(after.get(name), filter) - sum(before.get(name), filter)
  const count = (points: Map<string, DataPoint<unknown>[]>, name: string) => ((points.get(name) ?? []) as DataPoint<Histogram>[]).reduce((n, p) => n + p.value.count, 0)
  expect(grew('pss.runs', { trigger: 'backfill' })).toBe(1)
  expect(grew('pss.subscriptions.succeeded')).toBe(3)
  expect(count(after, 'pss.worker.call.duration') - count(before, 'pss.worker.call.duration')).toBe(3)
  expect(count(after, 'pss.fire.lateness') - count(before, 'pss.fire.lateness')).toBe(0)
  const calls = spanExporter.getFinishedSpans().slice(spansBefore).filter((s) => s.name === 'pss.worker.call')
  expect(calls.map((s) => s.attributes['pss.subscription_id'])).toEqual([id, id, id])
})

test('a circuit breaker counts its openings and the calls it held back, once each however often it was restarted', async () => {
  const before = await collect()
  const down = createFakeWorkerClient().otherwise({ fail: new RetryableError('503 Service Unavailable') })
  const held = createSubscriptionScheduler(pool, {
    workerClient: down, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, queuePrefix: 'telemetry-breaker', concurrency: 1,
    retry: { limit: 2, delaySeconds: 1, maxDelaySeconds: 1 }, circuitBreaker: { failureThreshold: 2, cooldownSeconds: 3600 },
  })
  // Started twice, as a host that restarts it: each opening still counts once.
  await held.start()
  await held.stop({ timeoutMs: 1000 })
  await held.start()
  try {
    await seedSubscriptions(db.pool, { count: 6, nextRunInSeconds: -60 })
    await held.runNow({ wait: false })
    // Two calls fail and open it; the four rows left, then the two retries, are held back.
    const grew = (points: Map<string, DataPoint<unknown>[]>, name: string) => sum(points.get(name)) - sum(before.get(name))
    const after = await pollUntil(async () => {
      const points = await collect()
      return grew(points, 'pss.worker.calls.held') >= 6 ? points : undefined
    }, { timeoutMs: 15_000, what: 'six calls held back' })
    expect(grew(after, 'pss.worker.calls.held')).toBe(6)
    expect(grew(after, 'pss.worker.breaker.opened')).toBe(1)
    expect(down.calls).toHaveLength(2)
  } finally {
    await held.stop({ timeoutMs: 1000 })
  }
})

test("calls cut short by stop() count apart (cancelled=true, outcome cancelled): no failure of the worker's for alerts to count", async () => {
  const before = await collect()
  const hung = createFakeWorkerClient().otherwise({ hang: true })
  const stopping = createSubscriptionScheduler(pool, { workerClient: hung, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, queuePrefix: 'telemetry-stop' })
  await stopping.start()
  const mine = { queue_prefix: 'telemetry-stop' }
  try {
    const ids = await seedSubscriptions(db.pool, { count: 2, nextRunInSeconds: -60 })
    void stopping.runNow().catch(() => {})
    await hung.waitForCalls(2)
    expect(hung.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
  } finally {
    await stopping.stop({ timeoutMs: 200 })
  }
  const after = await collect()
  const grew = (name: string, filter: Record<string, unknown>) => sum(after.get(name), { ...mine, ...filter }) - sum(before.get(name), { ...mine, ...filter })
  expect(grew('pss.subscriptions.failed', { final: false, cancelled: true })).toBe(2)
  expect(grew('pss.subscriptions.failed', { cancelled: false })).toBe(0)
  expect(grew('pss.subscriptions.retried', { cancelled: true })).toBe(2)
  expect(grew('pss.subscriptions.retried', { cancelled: false })).toBe(0)
  const calls = ((after.get('pss.worker.call.duration') ?? []) as DataPoint<Histogram>[]).filter((p) => p.attributes.queue_prefix === 'telemetry-stop')
  expect(calls.map((p) => [p.attributes.outcome, p.value.count])).toEqual([['cancelled', 2]])
})

test('runs finished are counted by trigger and outcome, with their duration; the fleet is gauged for unfinished runs and the age of the oldest', async () => {
  // A run that never finishes (its instance lost, say), then an instance of its own, which reads the counts as it starts.
  const { rows: [stuck] } = await db.pool.query<{ id: string }>(`INSERT INTO subscription_scheduler.runs (trigger, started_at) VALUES ('manual', now() - interval '10 minutes') RETURNING id`)
  // Its claim: three rows waiting for a job that never comes, their lease an hour ahead.
  const claimed = await seedSubscriptions(db.pool, { count: 3, status: 'queued' })
  await db.pool.query(`UPDATE subscription_processing SET scheduled_for = now(), lease_expires_at = now() + interval '1 hour', run_id = $2 WHERE subscription_id = ANY($1::uuid[])`, [claimed, stuck!.id])
  const own = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, queuePrefix: 'telemetry-runs' })
  const mine = { queue_prefix: 'telemetry-runs' }
  await own.start()
  try {
    const gauged = await pollUntil(async () => {
      const points = await collect()
      return sum(points.get('pss.runs.unfinished'), mine) > 0 ? points : null
    }, { timeoutMs: 10_000, what: 'the unfinished runs gauge to report' })
    // Runs of the tests before may be unfinished too; none is as old as this one.
    expect(sum(gauged.get('pss.runs.unfinished'), mine)).toBeGreaterThanOrEqual(1)
    expect(sum(gauged.get('pss.run.oldest_unfinished.age'), mine)).toBeGreaterThanOrEqual(600)
    expect(sum(gauged.get('pss.run.oldest_unfinished.age'), mine)).toBeLessThan(3_600)
    // Rows claimed and not settled, fleet-wide (those of the claim made above among them): read in the same pass.
    expect(sum(gauged.get('pss.subscriptions.queued'), mine)).toBeGreaterThanOrEqual(3)

    const finished = (points: Map<string, DataPoint<unknown>[]>, outcome: string) => sum(points.get('pss.runs.finished'), { ...mine, trigger: 'manual', outcome })
    const durations = (points: Map<string, DataPoint<unknown>[]>) =>
      ((points.get('pss.run.duration') ?? []) as DataPoint<Histogram>[]).filter((p) => p.attributes.queue_prefix === mine.queue_prefix).reduce((n, p) => n + p.value.count, 0)
    await seedSubscriptions(db.pool, { count: 2, nextRunInSeconds: -60 })
    expect(await own.runNow()).toMatchObject({ processed: 2, successful: 2, failed: 0 })
    const after = await pollUntil(async () => {
      const points = await collect()
      return finished(points, 'ok') > 0 ? points : null
    }, { timeoutMs: 10_000, what: 'the finished run to be counted' })
    expect([finished(after, 'ok'), finished(after, 'failures'), finished(after, 'error')]).toEqual([1, 0, 0])
    expect(durations(after)).toBe(1)
    expect((after.get('pss.run.duration') as DataPoint<Histogram>[])[0]!.value.buckets.boundaries).toEqual(expect.arrayContaining([1, 60, 3_600, 86_400]))
  } finally {
    await own.stop({ timeoutMs: 1_000 })
    await db.pool.query(`UPDATE subscription_scheduler.runs SET finished_at = now() WHERE id = $1`, [stuck!.id])
    await db.pool.query(`DELETE FROM subscriptions WHERE id = ANY($1::uuid[])`, [claimed])
  }
})
