/**
 * The line each instance logs once started: in a rolling deploy's logs, it says which version
 * runs where, and with which settings, the limits every instance shares among them.
 */
import { describe, expect, test } from 'vitest'
import { startLine } from '../../src/runtime/start-line.js'

const pkg = { name: 'pg-subscription-scheduler', version: '1.2.3' }
const base = { schedule: true, work: true, cron: '0 9 * * *', timezone: 'UTC', concurrency: 8, maxConcurrentCalls: null, maxCallsPerSecond: null }

describe('startLine', () => {
  test('says the version, the schedule and the concurrency; no fleet limits when none is set', () => {
    expect(startLine(base, pkg)).toBe("Started (pg-subscription-scheduler 1.2.3): cron '0 9 * * *' (UTC), concurrency 8.")
  })

  test('says the limits this instance sets for every instance, so that a deploy that changes them shows it', () => {
    expect(startLine({ ...base, maxConcurrentCalls: 20, maxCallsPerSecond: 90 }, pkg)).toBe(
      "Started (pg-subscription-scheduler 1.2.3): cron '0 9 * * *' (UTC), concurrency 8 (across instances: at most 20 calls at once, at most 90 calls a second).",
    )
    expect(startLine({ ...base, maxCallsPerSecond: 0.5 }, pkg)).toContain('concurrency 8 (across instances: at most 0.5 calls a second).')
  })

  test('an instance that calls no worker says so, and no concurrency or limit it does not use', () => {
    const line = startLine({ ...base, schedule: false, work: false, maxConcurrentCalls: 20 }, pkg)
    expect(line).toBe('Started (pg-subscription-scheduler 1.2.3), steering only (schedule: false: sweeps run on the schedule another instance registered), calling no worker (work: false: other instances make the calls).')
  })
})
