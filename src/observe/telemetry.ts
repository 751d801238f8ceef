/**
 * OpenTelemetry metrics and spans through `@opentelemetry/api`: free until the host registers an
 * SDK, when they flow to whatever exporter it configured.
 */
import { INVALID_SPAN_CONTEXT, metrics, ProxyTracerProvider, SpanStatusCode, trace } from '@opentelemetry/api'
import type { Attributes, MeterProvider, Span } from '@opentelemetry/api'
import type { RunTrigger } from '../db/names.js'
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

export interface Telemetry {
  runStarted(trigger: RunTrigger): void
  succeeded(count: number): void
  /** Failed attempts; `cancelled`: cut short by `stop()` (retried at once, not failed by the worker). */
  failed(count: number, final: boolean, cancelled?: boolean): void
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
  /** The latest count of due rows, reported by the backlog gauge. */
  setDueBacklog(count: number): void
  /** Runs `fn` in a span; records an exception and error status if it throws. */
  span<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T>
}

/** The instruments, made on one meter provider's meter. */
function instrumentsOn(provider: MeterProvider, scope: Attributes, backlogNow: () => number | undefined) {
  const meter = provider.getMeter(SCOPE)
  const backlog = meter.createObservableGauge('pss.due.backlog', { description: 'Rows due and not yet claimed, as of the last check.' })
  backlog.addCallback((result) => {
    const count = backlogNow()
    if (count !== undefined) result.observe(count, scope)
  })
  return {
    provider,
    runs: meter.createCounter('pss.runs', { description: 'Sweeps started, by trigger.' }),
    succeeded: meter.createCounter('pss.subscriptions.succeeded', { description: 'Successful calls: subscriptions whose slot completed.' }),
    failed: meter.createCounter('pss.subscriptions.failed', { description: 'Failed attempts; final=true when no retry follows.' }),
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
  let dueBacklog: number | undefined
  let made: ReturnType<typeof instrumentsOn> | undefined
  const current = () => {
    const provider = metrics.getMeterProvider()
    if (made?.provider !== provider) made = instrumentsOn(provider, scope, () => dueBacklog)
    return made
  }
  current()
  return {
    runStarted: (trigger) => current().runs.add(1, withScope({ trigger })),
    succeeded: (count) => count > 0 && current().succeeded.add(count, scope),
    failed: (count, final, cancelled = false) => count > 0 && current().failed.add(count, withScope({ final, cancelled })),
    retried: (count, cancelled = false) => count > 0 && current().retried.add(count, withScope({ cancelled })),
    workerCall(durationMs, latenessMs, outcome, retry) {
      const { latency, lateness } = current()
      latency.record(durationMs, outcomes[outcome])
      if (latenessMs !== null) lateness.record(Math.max(0, latenessMs), retry ? lateAttempts.retry : lateAttempts.first)
    },
    breakerOpened: () => current().opened.add(1, scope),
    held: () => current().held.add(1, scope),
    setDueBacklog(count) {
      dueBacklog = count
      current()
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
