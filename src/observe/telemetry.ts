/**
 * OpenTelemetry metrics and spans through `@opentelemetry/api`: free until the host registers an
 * SDK, when they flow to whatever exporter it configured.
 */
import { INVALID_SPAN_CONTEXT, metrics, ProxyTracerProvider, SpanStatusCode, trace } from '@opentelemetry/api'
import type { Attributes, Span } from '@opentelemetry/api'
import type { RunTrigger } from '../db/names.js'

/** The provider the global proxy hands out until a host registers an SDK. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate()
/** What `span()` passes its callback when no SDK is registered: records nothing. */
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT)

function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider()
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER
}

const SCOPE = 'pg-subscription-scheduler'

export interface Telemetry {
  runStarted(trigger: RunTrigger): void
  succeeded(count: number): void
  failed(count: number, final: boolean): void
  retried(count: number): void
  /** One worker call's duration, and how late it started relative to its slot (null: a backfill's, past on purpose). */
  workerCall(durationMs: number, latenessMs: number | null, outcome: 'success' | 'failure'): void
  /** The circuit breaker opened (after failures in a row, or a failed probe). */
  breakerOpened(): void
  /** A worker call the circuit breaker held back: its row waits for the hold to end. */
  held(): void
  /** The latest count of due rows, reported by the backlog gauge. */
  setDueBacklog(count: number): void
  /** Runs `fn` in a span; records an exception and error status if it throws. */
  span<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T>
}

export function createTelemetry(): Telemetry {
  // Looked up per scheduler, not at import: a host may register its SDK after importing us.
  const meter = metrics.getMeter(SCOPE)
  const tracer = trace.getTracer(SCOPE)
  const runs = meter.createCounter('pss.runs', { description: 'Sweeps started, by trigger.' })
  const processed = meter.createCounter('pss.subscriptions.processed', { description: 'Subscriptions whose slot completed.' })
  const failed = meter.createCounter('pss.subscriptions.failed', { description: 'Failed attempts; final=true when no retry follows.' })
  const retried = meter.createCounter('pss.subscriptions.retried', { description: 'Failed attempts scheduled for another try.' })
  const latency = meter.createHistogram('pss.worker.call.duration', { unit: 'ms', description: 'Duration of one worker call.' })
  const lateness = meter.createHistogram('pss.fire.lateness', { unit: 'ms', description: 'From a slot (scheduledFor) to its worker call.' })
  const opened = meter.createCounter('pss.worker.breaker.opened', { description: 'Times a circuit breaker opened: after calls failing in a row, or a failed probe.' })
  const held = meter.createCounter('pss.worker.calls.held', { description: 'Worker calls a circuit breaker held back; their rows wait for the hold to end.' })
  const backlog = meter.createObservableGauge('pss.due.backlog', { description: 'Rows due and not yet claimed, as of the last check.' })
  let dueBacklog: number | undefined
  backlog.addCallback((result) => {
    if (dueBacklog !== undefined) result.observe(dueBacklog)
  })
  return {
    runStarted: (trigger) => runs.add(1, { trigger }),
    succeeded: (count) => count > 0 && processed.add(count),
    failed: (count, final) => count > 0 && failed.add(count, { final }),
    retried: (count) => count > 0 && retried.add(count),
    workerCall(durationMs, latenessMs, outcome) {
      latency.record(durationMs, { outcome })
      if (latenessMs !== null) lateness.record(Math.max(0, latenessMs))
    },
    breakerOpened: () => opened.add(1),
    held: () => held.add(1),
    setDueBacklog(count) {
      dueBacklog = count
    },
    span(name, attributes, fn) {
      // With no tracing SDK registered a span records nothing: skip making and activating one.
      if (!tracingRegistered()) return fn(NO_SPAN)
      return tracer.startActiveSpan(name, { attributes }, async (span) => {
        try {
          return await fn(span)
        } catch (error) {
          span.recordException(error as Error)
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message })
          throw error
        } finally {
          span.end()
        }
      })
    },
  }
}
