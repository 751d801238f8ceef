/**
 * The options that shape the flow of worker calls (the limits shared by every instance, the
 * spread of a peak), validated, and the timings derived from them and from the page size: how
 * many page jobs an instance holds, how long pg-boss lets one run, and how long a claim lasts.
 * Every lease and expiry of the engine is computed here, once.
 */
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'

export interface FlowOptions {
  maxConcurrentCalls?: number | null | undefined
  maxCallsPerSecond?: number | null | undefined
  spreadMinutes?: number | null | undefined
}

export interface ResolvedFlow {
  maxConcurrentCalls: number | null
  maxCallsPerSecond: number | null
  spreadMinutes: number
  /** Rows a sweep claims per transaction (`claimBatchSize`). */
  pageSize: number
  /**
   * Rows per process job: a page is split into jobs of this many, about one round of this
   * instance's calls, so that jobs spread over every instance, and a job holds a bounded time
   * of calls under `maxCallsPerSecond`.
   */
  jobSize: number
  /** pg-boss fetch loops on the process queue, and jobs per fetch. */
  fetchLoops: number
  jobsPerFetch: number
  /**
   * Most fetch loops added while calls hang with the call slots nearly free (runtime/spare-loops.ts):
   * counted in what an instance may hold, so that a job's expiry covers their jobs too.
   */
  spareLoops: number
  /** How long pg-boss lets a process job run: every row in hand waits its turn, then calls. */
  jobExpirySeconds: number
  /** A process job whose instance stops sending heartbeats for this long is given to another. */
  heartbeatSeconds: number
  /** How long a claim holds a row before a sweep may take it again (a job lost with its instance). */
  claimLeaseSeconds: number
  /**
   * A worker-call permit's lease: renewed while its call runs, so one held by an instance that
   * died comes back within it, however long `workerTimeoutMs` is.
   */
  permitHoldSeconds: number
}

/** Most fetch loops per instance, and jobs per fetch: pg-boss fetches again at once while fetches come back full. */
const MAX_FETCH_LOOPS = 4
const JOBS_PER_FETCH = 4
/** Most fetch loops added while calls hang (runtime/spare-loops.ts). */
const MAX_SPARE_LOOPS = 12
/** With `maxCallsPerSecond`, a job holds at most this many seconds of calls. */
const RATE_JOB_SECONDS = 30
/** Margin of an expiry or lease over its longest expected wait and call. */
const MARGIN_SECONDS = 60
/** pg-boss refuses an expiry over 24 hours. */
const MAX_EXPIRY_SECONDS = 24 * 3600
/** pg-boss's smallest heartbeat: a dead instance's jobs come back within two of them, and a monitor pass. */
const HEARTBEAT_SECONDS = 10
/** A permit's lease, renewed every third of it while held (call-permits.ts). */
const PERMIT_LEASE_SECONDS = 15
/** A claim outlasts the queue's wait at a morning peak, not just one job's run. */
const MIN_CLAIM_LEASE_SECONDS = 3600

/** Null is "not set", as undefined is and as the other numeric options take it: no such limit. */
function optionalNumber(option: string, value: unknown, min: number, max: number, integer: boolean): number | null {
  if (value === undefined || value === null) return null
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value))
  if (!ok) throw new ConfigurationError(option, `expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${shown(value)}.`)
  return value as number
}

export function resolveFlow(options: FlowOptions, concurrency: number, workerTimeoutMs: number, claimBatchSize: number): ResolvedFlow {
  const maxConcurrentCalls = optionalNumber('maxConcurrentCalls', options.maxConcurrentCalls, 1, 100_000, true)
  const maxCallsPerSecond = optionalNumber('maxCallsPerSecond', options.maxCallsPerSecond, 0.01, 1_000_000, false)
  const spreadMinutes = optionalNumber('spreadMinutes', options.spreadMinutes, 0, 1440, false) ?? 0

  const byRate = maxCallsPerSecond === null ? claimBatchSize : Math.max(1, Math.ceil(maxCallsPerSecond * RATE_JOB_SECONDS))
  const jobSize = Math.min(claimBatchSize, concurrency, byRate)
  const fetchLoops = Math.min(MAX_FETCH_LOOPS, concurrency)
  // While calls hang: up to one loop per call slot, so that only calls that hang in every slot
  // stop the instance (as with a job per call), within a bound on the jobs it may hold.
  const spareLoops = Math.max(0, Math.min(MAX_SPARE_LOOPS, concurrency - fetchLoops))
  // A row fetched with the others in hand waits for the calls ahead of it, then makes its own.
  const inHand = (fetchLoops + spareLoops) * JOBS_PER_FETCH * jobSize
  const parallel = Math.min(concurrency, maxConcurrentCalls ?? concurrency)
  const rounds = Math.ceil(inHand / parallel)
  const rateWait = maxCallsPerSecond === null ? 0 : Math.ceil(inHand / maxCallsPerSecond)
  const jobExpirySeconds = Math.min(MAX_EXPIRY_SECONDS, rounds * Math.ceil(workerTimeoutMs / 1000) + rateWait + MARGIN_SECONDS)
  const spreadSeconds = Math.ceil(spreadMinutes * 60)

  return {
    maxConcurrentCalls,
    maxCallsPerSecond,
    spreadMinutes,
    pageSize: claimBatchSize,
    jobSize,
    fetchLoops,
    jobsPerFetch: JOBS_PER_FETCH,
    spareLoops,
    jobExpirySeconds,
    heartbeatSeconds: HEARTBEAT_SECONDS,
    claimLeaseSeconds: Math.max(MIN_CLAIM_LEASE_SECONDS, jobExpirySeconds + MARGIN_SECONDS) + spreadSeconds,
    permitHoldSeconds: PERMIT_LEASE_SECONDS,
  }
}

/** How long a row waiting for a retry stays claimed: until its retry job has started and run. */
export function retryLeaseSeconds(flow: ResolvedFlow, startsInSeconds: number): number {
  return Math.ceil(startsInSeconds) + flow.jobExpirySeconds + MARGIN_SECONDS
}
