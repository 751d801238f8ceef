/**
 * The circuit breaker's options, validated: how many worker calls failing in a row take the
 * worker service for down, and how long an instance then holds its calls back before it tries
 * one again (process/breaker.ts runs it).
 */
import { nearestKey } from './suggest.js'
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import { positiveInteger } from './integers.js'

export interface CircuitBreakerOptions {
  /**
   * Worker calls failing in a row, in this instance, that open the breaker (1–100,000): failures a
   * retry may cure (a timeout, a refused connection, a 5xx or a 429). Any other 4xx, or a
   * `PermanentError`, is an answer, and starts the count again. @default 10
   */
  failureThreshold?: number | undefined
  /**
   * How long an open breaker holds calls back before one probe call, in seconds (1–86,400);
   * doubles after each failed probe. A failure whose `Retry-After` asks for longer holds that long
   * (up to `maxCooldownSeconds`). @default 30, or `maxCooldownSeconds` when that is smaller
   */
  cooldownSeconds?: number | undefined
  /** The longest hold, however many probes failed, in seconds (1–86,400). @default 300, or `cooldownSeconds` when that is larger */
  maxCooldownSeconds?: number | undefined
}

export type ResolvedCircuitBreaker = Required<CircuitBreakerOptions>

export const BREAKER_DEFAULTS: ResolvedCircuitBreaker = { failureThreshold: 10, cooldownSeconds: 30, maxCooldownSeconds: 300 }

const KEYS = Object.keys({ failureThreshold: true, cooldownSeconds: true, maxCooldownSeconds: true } as const satisfies Record<keyof CircuitBreakerOptions, true>)

/** A hold of more than a day is an outage for an operator, not for a breaker. */
const MAX_COOLDOWN_SECONDS = 86_400

/** `circuitBreaker.<key>`, or its `fallback` when left out. */
function integer(key: string, value: unknown, fallback: number, max: number): number {
  return value === undefined ? fallback : positiveInteger(`circuitBreaker.${key}`, value, max)
}

/** `true` is the defaults; `false`, `undefined` or `null`, no breaker. */
export function resolveCircuitBreaker(value: unknown): ResolvedCircuitBreaker | null {
  if (value === undefined || value === null || value === false) return null
  if (value === true) return { ...BREAKER_DEFAULTS }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigurationError('circuitBreaker', `expected true, false or an object like { failureThreshold: 10, cooldownSeconds: 30 }, got ${shown(value)}.`)
  }
  const given = value as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!KEYS.includes(key)) throw new ConfigurationError(`circuitBreaker.${key}`, `unknown key${nearestKey(key, KEYS) || '.'} Known keys: ${KEYS.join(', ')}.`)
  }
  const failureThreshold = integer('failureThreshold', given.failureThreshold, BREAKER_DEFAULTS.failureThreshold, 100_000)
  // Either bound alone moves the default of the other out of its way.
  const givenMax = integer('maxCooldownSeconds', given.maxCooldownSeconds, MAX_COOLDOWN_SECONDS, MAX_COOLDOWN_SECONDS)
  const cooldownSeconds = integer('cooldownSeconds', given.cooldownSeconds, Math.min(BREAKER_DEFAULTS.cooldownSeconds, givenMax), MAX_COOLDOWN_SECONDS)
  const maxCooldownSeconds = given.maxCooldownSeconds === undefined ? Math.max(BREAKER_DEFAULTS.maxCooldownSeconds, cooldownSeconds) : givenMax
  const resolved = { failureThreshold, cooldownSeconds, maxCooldownSeconds }
  if (resolved.maxCooldownSeconds < resolved.cooldownSeconds) {
    throw new ConfigurationError(
      'circuitBreaker.maxCooldownSeconds',
      `must be at least circuitBreaker.cooldownSeconds (${resolved.cooldownSeconds}), got ${resolved.maxCooldownSeconds}. Raise maxCooldownSeconds or lower cooldownSeconds.`,
    )
  }
  return resolved
}
