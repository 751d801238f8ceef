/**
 * The flow options (`maxConcurrentCalls`, `maxCallsPerSecond`, `spreadMinutes`) and what is derived
 * from them: how many jobs an instance fetches at once, and how long a fetched job may wait and
 * run before pg-boss gives it to another instance.
 */
import { describe, expect, test } from 'vitest'
import { ConfigurationError } from '../../src/errors.js'
import { resolveFlow } from '../../src/config/flow.js'
import type { FlowOptions } from '../../src/config/flow.js'

const CONCURRENCY = 16
const TIMEOUT_MS = 30_000
const PAGE = 500

function rejection(options: Record<string, unknown>): ConfigurationError {
  try {
    resolveFlow(options as FlowOptions, CONCURRENCY, TIMEOUT_MS, PAGE)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return error as ConfigurationError
  }
  throw new Error(`Expected a ConfigurationError for ${JSON.stringify(options)}.`)
}

describe('validation', () => {
  test.each([
    { options: { maxConcurrentCalls: 0 }, option: 'maxConcurrentCalls', got: 'got 0' },
    { options: { maxConcurrentCalls: 2.5 }, option: 'maxConcurrentCalls', got: 'got 2.5' },
    { options: { maxConcurrentCalls: '8' }, option: 'maxConcurrentCalls', got: 'got "8"' },
    { options: { maxCallsPerSecond: 0 }, option: 'maxCallsPerSecond', got: 'got 0' },
    { options: { maxCallsPerSecond: 2_000_000 }, option: 'maxCallsPerSecond', got: 'got 2000000' },
    { options: { spreadMinutes: -1 }, option: 'spreadMinutes', got: 'got -1' },
    { options: { spreadMinutes: 1441 }, option: 'spreadMinutes', got: 'got 1441' },
  ])('$option: $got is refused, with the range that is allowed', ({ options, option, got }) => {
    const error = rejection(options)
    expect(error.option).toBe(option)
    expect(error.message).toContain(got)
    expect(error.message).toMatch(/from \S+ to \S+/)
  })

  test('unset limits are none, and no spread', () => {
    expect(resolveFlow({}, CONCURRENCY, TIMEOUT_MS, PAGE)).toMatchObject({ maxConcurrentCalls: null, maxCallsPerSecond: null, spreadMinutes: 0 })
    // null is "not set", as for every other numeric option (a JavaScript caller's config file).
    const unset = { maxConcurrentCalls: null, maxCallsPerSecond: null, spreadMinutes: null }
    expect(resolveFlow(unset, CONCURRENCY, TIMEOUT_MS, PAGE)).toMatchObject({ maxConcurrentCalls: null, maxCallsPerSecond: null, spreadMinutes: 0 })
  })

  test('a fractional rate (one call every ten seconds) and a fractional spread are allowed', () => {
    expect(resolveFlow({ maxCallsPerSecond: 0.1, spreadMinutes: 2.5 }, CONCURRENCY, TIMEOUT_MS, PAGE)).toMatchObject({ maxCallsPerSecond: 0.1, spreadMinutes: 2.5 })
  })
})

describe('pages, jobs and fetching', () => {
  test('an instance holds enough jobs to keep all its call slots busy, and a job is about one round of its calls', () => {
    for (const concurrency of [1, 2, 3, 16, 64, 10_000]) {
      const flow = resolveFlow({}, concurrency, TIMEOUT_MS, PAGE)
      expect(flow.fetchLoops * flow.jobsPerFetch * flow.jobSize, `concurrency ${concurrency}`).toBeGreaterThanOrEqual(Math.min(concurrency, PAGE))
      expect(flow.jobSize).toBeLessThanOrEqual(concurrency)
      expect(flow.fetchLoops).toBeLessThanOrEqual(concurrency)
      // Two or more per fetch: pg-boss fetches again at once only while fetches come back full.
      expect(flow.jobsPerFetch).toBeGreaterThanOrEqual(2)
    }
  })

  test('a page is the claim batch; a job is never more than a page, and with maxCallsPerSecond holds a few tens of seconds of calls', () => {
    expect(resolveFlow({}, 256, TIMEOUT_MS, 1000).pageSize).toBe(1000)
    expect(resolveFlow({}, 256, TIMEOUT_MS, 100).jobSize).toBe(100)
    const flow = resolveFlow({ maxCallsPerSecond: 2 }, 256, TIMEOUT_MS, 1000)
    expect(flow.jobSize).toBeGreaterThanOrEqual(1)
    expect(flow.jobSize).toBeLessThanOrEqual(60)
  })

  test('a dead instance is noticed within seconds: heartbeats at pg-boss\'s smallest interval', () => {
    expect(resolveFlow({}, CONCURRENCY, TIMEOUT_MS, PAGE).heartbeatSeconds).toBe(10)
  })
})

describe("a job's expiry and a claim's lease", () => {
  /** The longest a row in hand can wait behind the others held with it, plus its own call. */
  function worstCaseSeconds(flow: ReturnType<typeof resolveFlow>, concurrency: number, timeoutMs: number): number {
    const inHand = (flow.fetchLoops + flow.spareLoops) * flow.jobsPerFetch * flow.jobSize
    const parallel = Math.min(concurrency, flow.maxConcurrentCalls ?? concurrency)
    const rateWait = flow.maxCallsPerSecond === null ? 0 : inHand / flow.maxCallsPerSecond
    return (Math.ceil(inHand / parallel) * timeoutMs) / 1000 + rateWait
  }

  // Expired too early, pg-boss would hand a page whose calls are merely slow to a second instance.
  test.each([
    { concurrency: 1, timeoutMs: 1000, options: {} },
    { concurrency: 16, timeoutMs: 30_000, options: {} },
    { concurrency: 64, timeoutMs: 120_000, options: {} },
    { concurrency: 64, timeoutMs: 30_000, options: { maxConcurrentCalls: 4 } },
    { concurrency: 16, timeoutMs: 30_000, options: { maxCallsPerSecond: 0.5 } },
    { concurrency: 500, timeoutMs: 5_000, options: { maxCallsPerSecond: 1000, maxConcurrentCalls: 100 } },
  ])('outlives the wait and the call, up to pg-boss\'s 24 hours: concurrency $concurrency, timeout $timeoutMs ms, $options', ({ concurrency, timeoutMs, options }) => {
    const flow = resolveFlow(options, concurrency, timeoutMs, PAGE)
    expect(flow.jobExpirySeconds).toBeGreaterThan(Math.min(worstCaseSeconds(flow, concurrency, timeoutMs), 24 * 3600 - 60))
    expect(flow.jobExpirySeconds).toBeLessThanOrEqual(24 * 3600)
    // A claim outlives the job that carries it, so a slow page is never claimed twice.
    expect(flow.claimLeaseSeconds).toBeGreaterThan(flow.jobExpirySeconds)
  })

  test('grows with the worker timeout', () => {
    const short = resolveFlow({}, CONCURRENCY, 1000, PAGE).jobExpirySeconds
    const long = resolveFlow({}, CONCURRENCY, 600_000, PAGE).jobExpirySeconds
    expect(long).toBeGreaterThan(short)
  })

  test("a spread job's claim lasts the spread window longer", () => {
    const plain = resolveFlow({}, CONCURRENCY, TIMEOUT_MS, PAGE).claimLeaseSeconds
    expect(resolveFlow({ spreadMinutes: 30 }, CONCURRENCY, TIMEOUT_MS, PAGE).claimLeaseSeconds).toBe(plain + 1800)
  })
})

test('a call permit is leased for seconds, however long a call may take: it is renewed while held', () => {
  // It was the timeout plus a minute: a dead instance's permits held the fleet under its cap for
  // 90 s with the default timeout (a trial lost about 40% of its rate), hours with a long one.
  for (const timeoutMs of [1_000, 30_000, 3_600_000]) {
    expect(resolveFlow({ maxConcurrentCalls: 8 }, CONCURRENCY, timeoutMs, PAGE).permitHoldSeconds).toBe(15)
  }
})
