/**
 * The circuit breaker of one instance (opt-in: `circuitBreaker`). After `failureThreshold` worker
 * calls in a row failed in a way a retry may cure, the worker service is taken for down: for a
 * cooldown no call is made, and the rows whose turn comes are handed to a job that starts when it
 * ends, without using up an attempt. Then one call goes as a probe while the others wait for it:
 * an answer closes the breaker; a failure holds calls back again for twice as long (at most
 * `maxCooldownSeconds`), and the probe's row waits with the others, its attempt not used up
 * either. While the breaker is open, only the probe's verdict counts: calls that were in flight
 * when it opened, answered or not, change nothing (a 4xx among them closed it at once).
 */
import type { ResolvedCircuitBreaker } from '../config/circuit-breaker.js'
import type { EventBus } from '../observe/events.js'
import type { Logger } from '../observe/logger.js'
import type { Telemetry } from '../observe/telemetry.js'

/** What a call about to start may do: go (as the probe, or not), or wait `holdMs` in the queue. */
export type Admission = { call: true; probe: boolean; epoch: number } | { call: false; holdMs: number }

/** A call that was let through. */
export type Admitted = Extract<Admission, { call: true }>

/** How a call ended, as the breaker sees it. */
export type CallVerdict =
  /** The service answered, a success or a 4xx (not a 429): it is up. */
  | { kind: 'answered' }
  /** Timed out, refused, a 5xx or a 429: a sign it is down. `retryAfterMs`: the wait its Retry-After asked for. */
  | { kind: 'failed'; error: string; retryAfterMs?: number | undefined }
  /** Says nothing of the service (cut short by stop(), or by its job's expiry; or never made). */
  | { kind: 'neutral' }

type FailedVerdict = Extract<CallVerdict, { kind: 'failed' }>

/** A breaker as `health()` shows it. */
export interface BreakerHealth {
  /** `open`: holding calls back until `until`; `probing`: one call is finding out whether the service is back. */
  state: 'closed' | 'open' | 'probing'
  /** When it opened (null while closed). */
  openSince: Date | null
  /** When an open breaker's hold ends (null unless open). */
  until: Date | null
}

/** A closed breaker's health: every breaker's before its first opening, and before `start()`. */
export const CLOSED: BreakerHealth = Object.freeze({ state: 'closed', openSince: null, until: null })

export interface Breaker {
  /** How it stands now. */
  health(): BreakerHealth
  /** Before a call. While a probe is in flight, waits for its verdict. */
  admit(): Promise<Admission>
  /**
   * After an admitted call, once. Returns how long the call's row is to wait when it was a probe
   * that failed (its attempt is then not used up), else null.
   */
  record(verdict: CallVerdict, admitted: Admitted): number | null
}

type State =
  | { name: 'closed'; failures: number }
  | { name: 'open'; until: number; openedAt: number; cooldownMs: number }
  | { name: 'probing'; openedAt: number; cooldownMs: number; verdict: Promise<void>; settle: () => void }

/** Where an opening is told: the log, the scheduler's events, and its metrics. */
export interface BreakerDeps {
  logger: Logger
  events: EventBus
  telemetry: Pick<Telemetry, 'breakerOpened'>
  /**
   * An instant of `now`'s as others read it (health, the instances table, events): on the
   * scheduler's clock. The breaker itself times its holds on `now`, as the jobs holding rows do.
   */
  shown?: ((ms: number) => Date) | undefined
}

export function createBreaker(settings: ResolvedCircuitBreaker, { logger, events, telemetry, shown = (ms) => new Date(ms) }: BreakerDeps, now: () => number = Date.now): Breaker {
  const baseMs = settings.cooldownSeconds * 1000
  const maxMs = settings.maxCooldownSeconds * 1000
  let state: State = { name: 'closed', failures: 0 }
  // One more at each opening: a verdict on a call admitted before it is stale.
  let epoch = 0

  /**
   * Holds calls back for `cooldownMs`, after `failures` in a row or (0) after a failed probe; for
   * longer when the last failure's Retry-After asked it (up to the longest hold). The next
   * failed probe doubles `cooldownMs`, not the Retry-After.
   */
  const open = (cooldownMs: number, openedAt: number, failures: number, { error, retryAfterMs = 0 }: FailedVerdict): number => {
    const holdMs = Math.max(cooldownMs, Math.min(maxMs, retryAfterMs))
    const until = now() + holdMs
    epoch += 1
    state = { name: 'open', until, openedAt, cooldownMs }
    const why = failures > 0 ? `${failures} worker calls failed in a row` : 'the probe call failed'
    const asked = holdMs > cooldownMs ? " (the worker's Retry-After)" : ''
    logger.warn(
      `Circuit breaker open: ${why} (last: ${error}). This instance makes no worker call for ${Math.round(holdMs / 1000)} s${asked}, ` +
        'then tries one; the rows whose turn comes meanwhile (retries already scheduled too, whatever their log line said) wait for it, without using up their retries.',
    )
    telemetry.breakerOpened()
    events.emit('breaker:opened', { probe: failures === 0, until: shown(until), error })
    return holdMs
  }

  const close = (openedAt: number) => {
    const openForMs = now() - openedAt
    state = { name: 'closed', failures: 0 }
    logger.info(`Circuit breaker closed: the worker service answered a probe call (it had been open for ${Math.round(openForMs / 1000)} s).`)
    events.emit('breaker:closed', { openForMs })
  }

  /** The probe's verdict: closes, holds again, or (neutral) lets the next call probe at once. */
  const decide = (verdict: CallVerdict): number | null => {
    if (state.name !== 'probing') return null
    const { openedAt, cooldownMs, settle } = state
    let holdMs: number | null = null
    if (verdict.kind === 'answered') close(openedAt)
    else if (verdict.kind === 'neutral') state = { name: 'open', until: now(), openedAt, cooldownMs }
    else holdMs = open(Math.min(maxMs, cooldownMs * 2), openedAt, 0, verdict)
    settle()
    return holdMs
  }

  return {
    health() {
      if (state.name === 'closed') return CLOSED
      return { state: state.name, openSince: shown(state.openedAt), until: state.name === 'open' ? shown(state.until) : null }
    },
    async admit() {
      for (;;) {
        if (state.name === 'closed') return { call: true, probe: false, epoch }
        if (state.name === 'probing') {
          await state.verdict
          continue
        }
        const holdMs = state.until - now()
        if (holdMs > 0) return { call: false, holdMs }
        let settle!: () => void
        const verdict = new Promise<void>((resolve) => (settle = resolve))
        state = { name: 'probing', openedAt: state.openedAt, cooldownMs: state.cooldownMs, verdict, settle }
        return { call: true, probe: true, epoch }
      }
    },
    record(verdict, admitted) {
      if (admitted.probe) return decide(verdict)
      if (admitted.epoch !== epoch || state.name !== 'closed' || verdict.kind === 'neutral') return null
      if (verdict.kind === 'answered') {
        state.failures = 0
        return null
      }
      state.failures += 1
      if (state.failures >= settings.failureThreshold) open(baseMs, now(), state.failures, verdict)
      return null
    },
  }
}
