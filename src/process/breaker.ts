/**
 * The circuit breaker of one instance (opt-in: `circuitBreaker`). After `failureThreshold` worker
 * calls in a row failed in a way a retry may cure, the worker service is taken for down: for a
 * cooldown no call is made, and the rows whose turn comes are handed to a job that starts when it
 * ends, without using up an attempt. Then one call goes as a probe while the others wait for it:
 * an answer closes the breaker, a failure holds calls back again for twice as long (at most
 * `maxCooldownSeconds`).
 */
import type { ResolvedCircuitBreaker } from '../config/circuit-breaker.js'
import type { EventBus } from '../observe/events.js'
import type { Logger } from '../observe/logger.js'

/** What a call about to start may do: go (as the probe, or not), or wait `holdMs` in the queue. */
export type Admission = { call: true; probe: boolean } | { call: false; holdMs: number }

/** How a call ended, as the breaker sees it. */
export type CallVerdict =
  /** The service answered, a success or a 4xx: it is up. */
  | { kind: 'answered' }
  /** Timed out, refused, a 5xx or a 429: a sign it is down. */
  | { kind: 'failed'; error: string }
  /** Says nothing of the service (cut short by stop(), or by its job's expiry). */
  | { kind: 'neutral' }

export interface Breaker {
  /** Before a call. While a probe is in flight, waits for its verdict. */
  admit(): Promise<Admission>
  /** After an admitted call, with what `admit()` said of it. */
  record(verdict: CallVerdict, probe: boolean): void
}

const GO: Admission = { call: true, probe: false }

type State =
  | { name: 'closed'; failures: number }
  | { name: 'open'; until: number; openedAt: number; cooldownMs: number }
  | { name: 'probing'; openedAt: number; cooldownMs: number; verdict: Promise<void>; settle: () => void }

export function createBreaker(settings: ResolvedCircuitBreaker, logger: Logger, events: EventBus, now: () => number = Date.now): Breaker {
  const baseMs = settings.cooldownSeconds * 1000
  const maxMs = settings.maxCooldownSeconds * 1000
  let state: State = { name: 'closed', failures: 0 }

  /** Holds calls back for `cooldownMs`: after `failures` in a row, or (0) after a failed probe. */
  const open = (cooldownMs: number, openedAt: number, failures: number, error: string) => {
    const until = now() + cooldownMs
    state = { name: 'open', until, openedAt, cooldownMs }
    const why = failures > 0 ? `${failures} worker calls failed in a row` : 'the probe call failed'
    logger.warn(
      `Circuit breaker open: ${why} (last: ${error}). This instance makes no worker call for ${Math.round(cooldownMs / 1000)} s, ` +
        'then tries one; the rows whose turn comes meanwhile wait for it, without using up their retries.',
    )
    events.emit('breaker:opened', { probe: failures === 0, until: new Date(until), error })
  }

  const close = () => {
    if (state.name === 'closed') return void (state.failures = 0)
    const openForMs = now() - state.openedAt
    if (state.name === 'probing') state.settle()
    state = { name: 'closed', failures: 0 }
    logger.info(`Circuit breaker closed: the worker service answers again (calls were held back for ${Math.round(openForMs / 1000)} s).`)
    events.emit('breaker:closed', { openForMs })
  }

  return {
    async admit() {
      for (;;) {
        if (state.name === 'closed') return GO
        if (state.name === 'probing') {
          await state.verdict
          continue
        }
        const holdMs = state.until - now()
        if (holdMs > 0) return { call: false, holdMs }
        let settle!: () => void
        const verdict = new Promise<void>((resolve) => (settle = resolve))
        state = { name: 'probing', openedAt: state.openedAt, cooldownMs: state.cooldownMs, verdict, settle }
        return { call: true, probe: true }
      }
    },
    record(verdict, probe) {
      if (verdict.kind === 'answered') return close()
      if (state.name === 'closed') {
        if (verdict.kind === 'neutral') return
        state.failures += 1
        if (state.failures >= settings.failureThreshold) open(baseMs, now(), state.failures, verdict.error)
        return
      }
      // Calls that were in flight when it opened say nothing new; only the probe decides.
      if (!probe || state.name !== 'probing') return
      const { openedAt, cooldownMs, settle } = state
      if (verdict.kind === 'neutral') state = { name: 'open', until: now(), openedAt, cooldownMs }
      else open(Math.min(maxMs, cooldownMs * 2), openedAt, 0, verdict.error)
      settle()
    },
  }
}
