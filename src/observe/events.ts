/**
 * Typed events a scheduler emits, for hosts that log, alert or count. Listeners run
 * synchronously and must not throw; one that does, or an async one whose promise rejects, is
 * logged and ignored: a listener's failure never reaches the host as an unhandled rejection.
 */
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import { nearestKey } from '../config/suggest.js'
import type { Logger } from './logger.js'
import type { RunSummary } from '../records/runs.js'
import type { RunTrigger } from '../db/names.js'

export interface SubscriptionEventBase {
  runId: string
  subscriptionId: string
  processingId: string
  /** The slot. */
  scheduledFor: Date
  /** 1 for the first attempt at this slot. */
  attempt: number
}

/** What a failed attempt was: the error, the worker's HTTP status, and whether `stop()` cut it short. */
export interface FailureDetail {
  error: string
  /** The worker's HTTP status, when it answered; null for a timeout, a network error, or a client's own error. */
  status: number | null
  /**
   * Cut short by `stop()`'s deadline (a deploy), not failed by the worker: never final, retried at
   * once by another instance. Alerts on failures usually leave these out.
   */
  cancelled: boolean
}

export interface SchedulerEvents {
  'run:started': { runId: string; trigger: RunTrigger; startedAt: Date }
  /** Emitted by the instance that settled the run's last subscription. */
  'run:finished': RunSummary
  'subscription:succeeded': SubscriptionEventBase & { durationMs: number; /** Null when the subscription has ended (its `endsAt` passed). */ nextRunAt: Date | null }
  'subscription:failed': SubscriptionEventBase & FailureDetail & { final: boolean; permanent: boolean }
  'retry:scheduled': SubscriptionEventBase & FailureDetail & { retryAt: Date | null }
  /**
   * This instance's circuit breaker (`circuitBreaker`) opened: after calls failing in a row, or
   * after its probe call failed (`probe`). No worker call until `until`; `error` is the last failure.
   */
  'breaker:opened': { probe: boolean; until: Date; error: string }
  /** A probe call was answered: the worker service is up again. The breaker had been open for `openForMs`. */
  'breaker:closed': { openForMs: number }
}

export type SchedulerEventName = keyof SchedulerEvents

/** Every event, once: the record makes adding an event without naming it here a type error. */
const EVENT_NAMES: ReadonlySet<string> = new Set(Object.keys({
  'run:started': true, 'run:finished': true, 'subscription:succeeded': true, 'subscription:failed': true,
  'retry:scheduled': true, 'breaker:opened': true, 'breaker:closed': true,
} satisfies Record<SchedulerEventName, true>))
export type SchedulerListener<E extends SchedulerEventName> = (payload: SchedulerEvents[E]) => void

export interface EventBus {
  on<E extends SchedulerEventName>(event: E, listener: SchedulerListener<E>): () => void
  emit<E extends SchedulerEventName>(event: E, payload: SchedulerEvents[E]): void
}

export function createEventBus(logger: Logger): EventBus {
  const listeners = new Map<SchedulerEventName, Set<(payload: never) => void>>()
  return {
    on(event, listener) {
      // A JavaScript caller's typo would otherwise wait forever for an event that never comes.
      if (!EVENT_NAMES.has(event)) throw new ConfigurationError('event', `unknown event ${shown(event)}${(typeof event === 'string' && nearestKey(event, [...EVENT_NAMES])) || '.'} The events are ${[...EVENT_NAMES].join(', ')}.`)
      if (typeof listener !== 'function') throw new ConfigurationError('listener', `expected a function, got ${shown(listener)}.`)
      const set = listeners.get(event) ?? new Set()
      set.add(listener as (payload: never) => void)
      listeners.set(event, set)
      return () => void set.delete(listener as (payload: never) => void)
    },
    emit(event, payload) {
      const failed = (how: string) => (error: unknown) => logger.error(`A '${event}' listener ${how}: ${error instanceof Error ? error.message : String(error)}`)
      for (const listener of listeners.get(event) ?? []) {
        try {
          const result = (listener as (p: typeof payload) => unknown)(payload)
          if (result instanceof Promise) result.catch(failed('rejected'))
        } catch (error) {
          failed('threw')(error)
        }
      }
    },
  }
}
