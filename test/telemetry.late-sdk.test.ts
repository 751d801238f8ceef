/**
 * A host that registers its OpenTelemetry SDK after the scheduler has started (an import order
 * it does not control): the metrics still reach it. A file of its own, since the SDK is global.
 */
import { metrics } from '@opentelemetry/api'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import type { DataPoint } from '@opentelemetry/sdk-metrics'
import { afterAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'
import { pollUntil } from './support/reliability-support.js'

let scheduler: SubscriptionScheduler | undefined

afterAll(async () => {
  await scheduler?.stop({ timeoutMs: 2000 })
  metrics.disable()
})

test('an SDK registered after start() gets every metric from then on, the due backlog included', async () => {
  const db = await createTestDatabase()
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, queuePrefix: 'late-sdk' })
  await scheduler.start()

  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
  await seedSubscriptions(db.pool, { count: 3, nextRunInSeconds: -60 })
  expect(await scheduler.runNow()).toMatchObject({ processed: 3, successful: 3 })

  const points = new Map<string, DataPoint<unknown>[]>()
  const sum = (name: string) => (points.get(name) ?? []).reduce((n, p) => n + (p.value as number), 0)
  const read = async () => {
    await reader.forceFlush()
    points.clear()
    for (const scope of exporter.getMetrics().at(-1)?.scopeMetrics ?? []) {
      if (scope.scope.name !== 'pg-subscription-scheduler') continue
      for (const metric of scope.metrics) points.set(metric.descriptor.name, metric.dataPoints as DataPoint<unknown>[])
    }
  }
  // runNow() can read its run finished in the database before the instance that settled it has
  // counted the completions, just after that commit; and the backlog gauge reports the count the
  // run started, which resolves on its own (a CI run read before it had): wait for both, with a
  // deadline.
  await pollUntil(async () => {
    await read()
    return sum('pss.subscriptions.succeeded') >= 3 && points.has('pss.due.backlog') ? true : null
  }, { timeoutMs: 10_000, what: 'the completions to be counted and the backlog checked' }).catch(() => {})
  expect(sum('pss.runs')).toBe(1)
  expect(sum('pss.subscriptions.succeeded')).toBe(3)
  expect(points.get('pss.due.backlog')?.map((p) => p.attributes)).toEqual([{ queue_prefix: 'late-sdk' }])
  expect(points.get('pss.runs')?.[0]?.attributes).toEqual({ trigger: 'manual', queue_prefix: 'late-sdk' })
})
