/**
 * OpenTelemetry metrics and spans through `@opentelemetry/api`: free until the host registers an
 * SDK, when they flow to whatever exporter it configured.
 */
import { INVALID_SPAN_CONTEXT, metrics, ProxyTracerProvider, SpanStatusCode, trace } from '@opentelemetry/api'
import type { Attributes, MeterProvider, Span } from '@opentelemetry/api'
import type { RunTrigger } from '../db/names.js'
import type { RunSummary } from '../records/runs.js'
import { describeError } from './describe-error.js'

/** The provider the global proxy hands out until a host registers an SDK. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate()
/** What `span()` passes its callback when no SDK is registered: records nothing. */
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT)

function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider()
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER
}

const SCOPE = 'pg-subscription-scheduler'

export type CallOutcome = 'success' | 'failure' | 'cancelled'

/**
 * Histogram buckets, in ms. The SDK's default ones end at 10 s, and a call's lateness runs to
 * hours (retry backoff up to `retry.maxDelaySeconds`, `spreadMinutes`, a backlog): its quantiles
 * would all fall in the last bucket.
 */
const DURATION_BUCKETS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000]
const LATENESS_BUCKETS = [100, 500, 1_000, 5_000, 15_000, 30_000, 60_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 86_400_000]
/** A run's duration, in seconds: from a sweep of a few rows to a day's backlog behind a breaker. */
const RUN_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200, 21_600, 86_400]
/**
 * A gauge's reading older than this is not reported: each instance reads the counts about once a
 * minute, and one that stopped reading (its database away) must not go on showing its last.
 */
const STALE_MS = 150_000

export interface Telemetry {
  runStarted(trigger: RunTrigger): void
  succeeded(count: number): void
  /**
   * Failed attempts; `cancelled`: cut short by `stop()` (retried at once, not failed by the worker);
   * `permanent`: final because the worker (or the row's data) said no retry can help, not because retries ran out.
   */
  failed(count: number, final: boolean, cancelled?: boolean, permanent?: boolean): void
  retried(count: number, cancelled?: boolean): void
  /**
   * One worker call's duration, and how late it started relative to its slot (null: a backfill's,
   * past on purpose). `cancelled`: cut short by `stop()`. `retry`: a call after the slot's first
   * (its lateness holds its backoff).
   */
  workerCall(durationMs: number, latenessMs: number | null, outcome: CallOutcome, retry: boolean): void
  /** The circuit breaker opened (after failures in a row, or a failed probe). */
  breakerOpened(): void
  /** A worker call the circuit breaker held back: its row waits for the hold to end. */
  held(): void
  /**
   * A count of due rows, for the backlog gauge, taken at `takenAt` (performance.now(), when its
   * query went out; default now): a count taken before the one the gauge holds, which came back
   * later, is dropped.
   */
  setDueBacklog(count: number, takenAt?: number): void
  /** A count of rows claimed and not settled, taken at `takenAt` as above. */
  setQueued(count: number, takenAt?: number): void
  /** A count of unfinished runs, and how long ago the oldest started (ms; null: none), taken at `takenAt` as above. */
  setUnfinishedRuns(count: number, oldestAgeMs: number | null, takenAt?: number): void
  /** A run finished (it emitted `run:finished`): counted by trigger and outcome, its duration recorded. */
  runFinished(run: RunSummary): void
  /** Runs `fn` in a span; records an exception and error status if it throws. */
  span<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T>
}

/** A gauge's latest reading, and when it was taken (performance.now()). */
interface Reading {
  value: number
  at: number
}

/** The gauges' readings, each reported while fresh (see {@link STALE_MS}). */
interface Readings {
  dueBacklog?: Reading
  queued?: Reading
  unfinishedRuns?: Reading
  oldestUnfinishedSeconds?: Reading
}

/** The instruments, made on one meter provider's meter. */
function instrumentsOn(provider: MeterProvider, scope: Attributes, readings: Readings) {
  const meter = provider.getMeter(SCOPE)
  const gauge = (name: string, description: string, read: () => Reading | undefined, unit?: string) =>
    meter.createObservableGauge(name, { description, ...(unit ? { unit } : {}) }).addCallback((result) => {
      const reading = read()
      if (reading && performance.now() - reading.at < STALE_MS) result.observe(reading.value, scope)
    })
  gauge('pss.due.backlog', 'Rows due and not yet claimed, as of the last check (about once a minute).', () => readings.dueBacklog)
  gauge('pss.subscriptions.queued', 'Rows claimed by a run and not settled yet (waiting for a call, in one, or waiting for a retry), fleet-wide, as of the last check.', () => readings.queued)
  gauge('pss.runs.unfinished', 'Runs started and not finished, fleet-wide, as of the last check (about once a minute).', () => readings.unfinishedRuns)
  gauge('pss.run.oldest_unfinished.age', 'How long ago the oldest unfinished run started (0: none), as of the last check.', () => readings.oldestUnfinishedSeconds, 's')
  return {
    provider,
    runs: meter.createCounter('pss.runs', { description: 'Sweeps started, by trigger.' }),
    finishedRuns: meter.createCounter('pss.runs.finished', { description: 'Runs finished, by trigger and outcome: ok, failures (a subscription failed for good), error (the sweep itself failed).' }),
    runDuration: meter.createHistogram('pss.run.duration', { unit: 's', description: 'From a run\'s start to its last outcome recorded.', advice: { explicitBucketBoundaries: RUN_BUCKETS } }),
    succeeded: meter.createCounter('pss.subscriptions.succeeded', { description: 'Successful calls: subscriptions whose slot completed.' }),
    failed: meter.createCounter('pss.subscriptions.failed', { description: 'Failed attempts; final=true when no retry follows, permanent=true when that is because the worker said no retry can help.' }),
    retried: meter.createCounter('pss.subscriptions.retried', { description: 'Failed attempts scheduled for another try.' }),
    latency: meter.createHistogram('pss.worker.call.duration', { unit: 'ms', description: 'Duration of one worker call.', advice: { explicitBucketBoundaries: DURATION_BUCKETS } }),
    lateness: meter.createHistogram('pss.fire.lateness', { unit: 'ms', description: 'From a slot (scheduledFor) to its worker call.', advice: { explicitBucketBoundaries: LATENESS_BUCKETS } }),
    opened: meter.createCounter('pss.worker.breaker.opened', { description: 'Times a circuit breaker opened: after calls failing in a row, or a failed probe.' }),
    held: meter.createCounter('pss.worker.calls.held', { description: 'Calls a circuit breaker held back; a row held again after a failed probe counts again.' }),
  }
}

/**
 * The scheduler's metrics, every data point with its `queue_prefix` (two schedulers in one
 * process stay apart). The instruments are made again whenever the global meter provider has
 * changed: `@opentelemetry/api` has no proxy for meters as it has for tracers, so instruments
 * made before a host registered its SDK would record nothing for good.
 */
export function createTelemetry(queuePrefix: string): Telemetry {
  const tracer = trace.getTracer(SCOPE)
  const scope: Attributes = { queue_prefix: queuePrefix }
  const withScope = (attributes: Attributes): Attributes => ({ ...attributes, ...scope })
  // Made once: every worker call records one.
  const outcomes = { success: withScope({ outcome: 'success' }), failure: withScope({ outcome: 'failure' }), cancelled: withScope({ outcome: 'cancelled' }) }
  const lateAttempts = { first: withScope({ retry: false }), retry: withScope({ retry: true }) }
  const readings: Readings = {}
  const newer = (held: Reading | undefined, value: number, at: number): Reading => (held && held.at > at ? held : { value, at })
  let made: ReturnType<typeof instrumentsOn> | undefined
  const current = () => {
    const provider = metrics.getMeterProvider()
    if (made?.provider !== provider) made = instrumentsOn(provider, scope, readings)
    return made
  }
  current()
  return {
    runStarted: (trigger) => current().runs.add(1, withScope({ trigger })),
    succeeded: (count) => count > 0 && current().succeeded.add(count, scope),
    failed: (count, final, cancelled = false, permanent = false) => count > 0 && current().failed.add(count, withScope({ final, cancelled, permanent })),
    retried: (count, cancelled = false) => count > 0 && current().retried.add(count, withScope({ cancelled })),
    workerCall(durationMs, latenessMs, outcome, retry) {
      const { latency, lateness } = current()
      latency.record(durationMs, outcomes[outcome])
      if (latenessMs !== null) lateness.record(Math.max(0, latenessMs), retry ? lateAttempts.retry : lateAttempts.first)
    },
    breakerOpened: () => current().opened.add(1, scope),
    held: () => current().held.add(1, scope),
    setDueBacklog(count, takenAt = performance.now()) {
      readings.dueBacklog = newer(readings.dueBacklog, count, takenAt)
      current()
    },
    setQueued(count, takenAt = performance.now()) {
      readings.queued = newer(readings.queued, count, takenAt)
      current()
    },
    setUnfinishedRuns(count, oldestAgeMs, takenAt = performance.now()) {
      readings.unfinishedRuns = newer(readings.unfinishedRuns, count, takenAt)
      readings.oldestUnfinishedSeconds = newer(readings.oldestUnfinishedSeconds, oldestAgeMs === null ? 0 : Math.max(0, oldestAgeMs) / 1000, takenAt)
      current()
    },
    runFinished(run) {
      const { finishedRuns, runDuration } = current()
      const outcome = run.error !== null ? 'error' : run.failed > 0 ? 'failures' : 'ok'
      finishedRuns.add(1, withScope({ trigger: run.trigger, outcome }))
      if (run.durationMs !== null) runDuration.record(run.durationMs / 1000, withScope({ trigger: run.trigger }))
    },
    span(name, attributes, fn) {
      // With no tracing SDK registered a span records nothing: skip making and activating one.
      if (!tracingRegistered()) return fn(NO_SPAN)
      return tracer.startActiveSpan(name, { attributes }, async (span) => {
        try {
          return await fn(span)
        } catch (error) {
          // A custom worker client may throw anything (null, a string): the span says what, and
          // the value goes on as it was thrown, for the failure to record it as the worker did.
          const said = describeError(error)
          span.recordException(error instanceof Error ? error : said)
          span.setStatus({ code: SpanStatusCode.ERROR, message: said })
          throw error
        } finally {
          span.end()
        }
      })
    },
  }
}
