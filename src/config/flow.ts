/**
 * The options that shape the flow of worker calls: how many jobs an instance fetches at once,
 * the limits shared by every instance, and the spread of a peak. Validated here, with what is
 * derived from them: fetch sizes, and how long a job may wait and run before pg-boss expires it.
 */
import { ConfigurationError } from '../errors.js'

export interface FlowOptions {
  maxConcurrentCalls?: number
  maxCallsPerSecond?: number
  spreadMinutes?: number
}

export interface ResolvedFlow {
  maxConcurrentCalls: number | null
  maxCallsPerSecond: number | null
  spreadMinutes: number
  /** pg-boss fetch loops on the process queue, and jobs per fetch. */
  fetchLoops: number
  fetchBatchSize: number
  expireInSeconds: number
}

/** Most fetch loops per instance; their batches share the `concurrency` call slots. */
const MAX_LOOPS = 2
/**
 * Jobs fetched per loop, as a multiple of its share of `concurrency`. Fetching more jobs than
 * there are call slots keeps the slots busy while a batch is begun and settled, and spreads
 * pg-boss's per-fetch cost over more jobs (measured in bench/RESULTS.md).
 */
const FETCH_FACTOR = 4
/** Fetching ahead stops at this many jobs per fetch (a loop's own share of slots may be more). */
const MAX_FETCH_AHEAD = 512
/** With `maxCallsPerSecond`, a fetch holds at most this many seconds of calls. */
const RATE_FETCH_SECONDS = 5
/** Margin of a job's expiry over its longest expected wait and call. */
const EXPIRY_MARGIN_SECONDS = 30

function optionalNumber(option: string, value: unknown, min: number, max: number, integer: boolean): number | null {
  if (value === undefined) return null
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value))
  if (!ok) throw new ConfigurationError(option, `expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}.`)
  return value as number
}

export function resolveFlow(options: FlowOptions, concurrency: number, workerTimeoutMs: number): ResolvedFlow {
  const maxConcurrentCalls = optionalNumber('maxConcurrentCalls', options.maxConcurrentCalls, 1, 100_000, true)
  const maxCallsPerSecond = optionalNumber('maxCallsPerSecond', options.maxCallsPerSecond, 0.01, 1_000_000, false)
  const spreadMinutes = optionalNumber('spreadMinutes', options.spreadMinutes, 0, 1440, false) ?? 0

  const fetchLoops = Math.min(MAX_LOOPS, concurrency)
  const share = Math.max(1, Math.floor(concurrency / fetchLoops))
  let fetchBatchSize = Math.max(share, Math.min(share * FETCH_FACTOR, MAX_FETCH_AHEAD))
  // Never fetch far past what may run: fetched jobs wait, and a waiting job can expire.
  if (maxConcurrentCalls !== null) fetchBatchSize = Math.min(fetchBatchSize, maxConcurrentCalls)
  if (maxCallsPerSecond !== null) fetchBatchSize = Math.min(fetchBatchSize, Math.ceil(maxCallsPerSecond * RATE_FETCH_SECONDS))

  // A fetched job may wait for the calls ahead of it in this instance, then make its own.
  const rounds = Math.ceil((fetchLoops * fetchBatchSize) / concurrency)
  const rateWait = maxCallsPerSecond === null ? 0 : Math.ceil((fetchLoops * fetchBatchSize) / maxCallsPerSecond)
  const expireInSeconds = rounds * Math.ceil(workerTimeoutMs / 1000) + rateWait + EXPIRY_MARGIN_SECONDS

  return { maxConcurrentCalls, maxCallsPerSecond, spreadMinutes, fetchLoops, fetchBatchSize, expireInSeconds }
}
