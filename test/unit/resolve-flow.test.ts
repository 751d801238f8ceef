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

function rejection(options: Record<string, unknown>): ConfigurationError {
  try {
    resolveFlow(options as FlowOptions, CONCURRENCY, TIMEOUT_MS)
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
    expect(resolveFlow({}, CONCURRENCY, TIMEOUT_MS)).toMatchObject({ maxConcurrentCalls: null, maxCallsPerSecond: null, spreadMinutes: 0 })
  })

  test('a fractional rate (one call every ten seconds) and a fractional spread are allowed', () => {
    expect(resolveFlow({ maxCallsPerSecond: 0.1, spreadMinutes: 2.5 }, CONCURRENCY, TIMEOUT_MS)).toMatchObject({ maxCallsPerSecond: 0.1, spreadMinutes: 2.5 })
  })
})

describe('fetching', () => {
  test('an instance fetches enough jobs to fill all its call slots', () => {
    for (const concurrency of [1, 2, 3, 16, 64, 10_000]) {
      const flow = resolveFlow({}, concurrency, TIMEOUT_MS)
      expect(flow.fetchLoops).toBeGreaterThanOrEqual(1)
      expect(flow.fetchLoops).toBeLessThanOrEqual(concurrency)
      expect(flow.fetchLoops * flow.fetchBatchSize, `concurrency ${concurrency}`).toBeGreaterThanOrEqual(concurrency)
    }
  })

  test('never fetches more jobs at once than maxConcurrentCalls lets run across all instances', () => {
    for (const maxConcurrentCalls of [1, 5, 64]) {
      expect(resolveFlow({ maxConcurrentCalls }, 256, TIMEOUT_MS).fetchBatchSize).toBeLessThanOrEqual(maxConcurrentCalls)
    }
  })

  test('with maxCallsPerSecond, a fetch holds at most a few seconds of calls', () => {
    const flow = resolveFlow({ maxCallsPerSecond: 2 }, 256, TIMEOUT_MS)
    expect(flow.fetchBatchSize).toBeGreaterThanOrEqual(1)
    expect(flow.fetchBatchSize).toBeLessThanOrEqual(10)
  })
})

describe("a job's expiry", () => {
  /** The longest a fetched job can wait behind the others fetched with it, plus its own call. */
  function worstCaseSeconds(flow: ReturnType<typeof resolveFlow>, concurrency: number, timeoutMs: number): number {
    const fetched = flow.fetchLoops * flow.fetchBatchSize
    const callRounds = Math.ceil(fetched / concurrency)
    const rateWait = flow.maxCallsPerSecond === null ? 0 : fetched / flow.maxCallsPerSecond
    return (callRounds * timeoutMs) / 1000 + rateWait
  }

  // Expired too early, pg-boss would hand a call that is merely slow to a second instance.
  test.each([
    { concurrency: 1, timeoutMs: 1000, options: {} },
    { concurrency: 16, timeoutMs: 30_000, options: {} },
    { concurrency: 64, timeoutMs: 120_000, options: {} },
    { concurrency: 64, timeoutMs: 30_000, options: { maxConcurrentCalls: 4 } },
    { concurrency: 16, timeoutMs: 30_000, options: { maxCallsPerSecond: 0.5 } },
    { concurrency: 500, timeoutMs: 5_000, options: { maxCallsPerSecond: 1000, maxConcurrentCalls: 100 } },
  ])('outlives the wait and the call: concurrency $concurrency, timeout $timeoutMs ms, $options', ({ concurrency, timeoutMs, options }) => {
    const flow = resolveFlow(options, concurrency, timeoutMs)
    expect(flow.expireInSeconds).toBeGreaterThan(worstCaseSeconds(flow, concurrency, timeoutMs))
  })

  test('grows with the worker timeout', () => {
    const short = resolveFlow({}, CONCURRENCY, 1000).expireInSeconds
    const long = resolveFlow({}, CONCURRENCY, 600_000).expireInSeconds
    expect(long).toBeGreaterThan(short)
  })
})
