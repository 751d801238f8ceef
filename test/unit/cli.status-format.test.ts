/** The CLI's status lines: the last run, and the last sweep when something else ran since. */
import { expect, test } from 'vitest'
import { formatStatus } from '../../src/cli/format.js'
import type { SchedulerStatus } from '../../src/records/status.js'
import type { RunSummary } from '../../src/records/runs.js'
import type { InstanceInfo } from '../../src/records/instances.js'

const run = (runId: string, trigger: RunSummary['trigger']): RunSummary => ({
  runId, trigger, startedAt: new Date('2026-12-01T09:00:00Z'), sweepFinishedAt: null, finishedAt: null,
  processed: 1, successful: 1, failed: 0, retried: 0, skipped: 0, durationMs: null, latenessP50Ms: null, latenessP95Ms: null, error: null, subscriptionId: null,
})

const NO_LIMITS = { maxConcurrentCalls: null, permitsHeld: 0, maxCallsPerSecond: null, bookedAheadMs: 0, callsInFlight: 0, callsWaiting: 0 }

function status(lastRun: RunSummary | null, lastSweep: RunSummary | null, unfinished: RunSummary[] = []): SchedulerStatus {
  return {
    unfinishedRuns: { count: unfinished.length, oldest: unfinished[0] ?? null },
    counts: { pending: 0, queued: 0, processing: 0, completed: 1, failed: 0, paused: 0, ended: 0, inactive: 0 },
    total: 1, unenrolled: 0, due: 0, pausedForFailures: 0, lastRun, lastSweep, callsPaused: null,
    nextFireAt: new Date('2026-12-02T09:00:00Z'), schedule: { cron: '0 9 * * *', timezone: 'UTC', registered: true, runAt: '09:00', autoEnroll: true },
    queue: { waiting: 0, active: 0, stranded: 0 },
    limits: NO_LIMITS,
  }
}

test('the last sweep has a line of its own only when another kind of run came after it', () => {
  const sweep = run('11111111-1111-4111-8111-111111111111', 'cron')
  const single = run('22222222-2222-4222-8222-222222222222', 'single')
  const after = formatStatus(status(single, sweep), {})
  expect(after).toMatch(/^Last run {8}2{8}-.* \(single\)/m)
  expect(after).toMatch(/^Last sweep {6}1{8}-.* \(cron\)/m)
  expect(formatStatus(status(sweep, sweep), {})).not.toMatch(/^Last sweep/m)
  expect(formatStatus(status(null, null), {})).toMatch(/^Last run {8}none yet$/m)
})

test('unfinished runs have a line when any: the oldest in full, unless it is a run shown above', () => {
  const big = { ...run('33333333-3333-4333-8333-333333333333', 'cron'), processed: 100_000, successful: 40_000 }
  const later = { ...run('44444444-4444-4444-8444-444444444444', 'cron'), finishedAt: new Date('2026-12-01T09:01:00Z'), durationMs: 1_000 }
  const single = run('55555555-5555-4555-8555-555555555555', 'single')
  // A big sweep still settling behind a later empty one that finished: neither last line shows it.
  expect(formatStatus(status(later, later, [big]), {})).toMatch(/^Unfinished {6}1 run: 3{8}-.* \(cron\), started 2026-12-01T09:00:00\.000Z, still running: 100000 processed, 40000 succeeded/m)
  expect(formatStatus(status(single, later, [big, single]), {})).toMatch(/^Unfinished {6}2 runs, the oldest: 3{8}-/m)
  expect(formatStatus(status(single, big, [big, single]), {})).toMatch(/^Unfinished {6}2 runs, the oldest: the last sweep above$/m)
  expect(formatStatus(status(single, later, [single]), {})).toMatch(/^Unfinished {6}1 run: the last run above$/m)
  expect(formatStatus(status(later, later), {})).not.toMatch(/^Unfinished/m)
})

test('subscriptions not enrolled yet: the next sweep enrols them, or, with autoEnroll off, the command that does', () => {
  const base = { ...status(null, null), unenrolled: 12 }
  expect(formatStatus(base, {})).toMatch(/^Subscriptions {3}1 total, 0 due now \(12 more not enrolled yet: the next sweep enrols them\)$/m)
  const off = formatStatus({ ...base, schedule: { ...base.schedule, autoEnroll: false } }, {})
  expect(off).toMatch(/^Subscriptions {3}1 total, 0 due now \(12 more not enrolled yet: autoEnroll is off: `enroll <id>` or `enroll --all` enrols them\)$/m)
})

test('calls paused fleet-wide come first, with their note and the command that lifts the pause', () => {
  const paused = formatStatus({ ...status(null, null), callsPaused: { pausedAt: new Date('2026-12-06T06:00:00Z'), note: 'worker migration' } }, {})
  expect(paused.split('\n')[0]).toBe('CALLS PAUSED    on every instance since 2026-12-06T06:00:00.000Z (worker migration): no sweep claims, nobody is called; `resume-calls` lifts it')
  expect(formatStatus(status(null, null), {})).not.toMatch(/PAUSED/)
})

test('the paused count says how many of them were paused for failing, as --json does', () => {
  const base = status(null, null)
  const some = formatStatus({ ...base, counts: { ...base.counts, paused: 11 }, pausedForFailures: 10 }, {})
  expect(some).toMatch(/^ {2}paused {8}11 \(10 after failing in a row: retry-failed, the dashboard's Retry failed or POST \/failed\/retry retries them\)$/m)
  const none = formatStatus({ ...base, counts: { ...base.counts, paused: 2 }, pausedForFailures: 0 }, {})
  expect(none).toMatch(/^ {2}paused {8}2$/m)
})

test('the instances line counts them by state and names the silent ones, which want a look', () => {
  const instance = (host: string, state: InstanceInfo['state']): InstanceInfo => ({
    instanceId: `${host}-id`, host, pid: 100, version: '0.1.0', schedules: true, works: true, concurrency: 16, maxConcurrentCalls: null, maxCallsPerSecond: null, calls: null, state, breaker: null,
    startedAt: new Date('2026-12-01T08:00:00Z'), seenAt: new Date('2026-12-01T09:00:00Z'), stoppedAt: state === 'stopped' ? new Date('2026-12-01T09:00:00Z') : null,
  })
  const status_ = status(null, null)
  expect(formatStatus(status_, {}, false, [instance('a', 'running'), instance('b', 'running')])).toMatch(/^Instances {7}2 running$/m)
  expect(formatStatus(status_, {}, false, [instance('a', 'running'), instance('b', 'silent'), instance('c', 'stopped')])).toMatch(
    /^Instances {7}1 running, 1 silent \(b pid 100: no report for over a minute and no stop, killed or cut off from the database\), 1 stopped in the last day$/m,
  )
  expect(formatStatus(status_, {}, false, [])).toMatch(/^Instances {7}none has reported/m)
  expect(formatStatus(status_, {})).not.toMatch(/^Instances/m)
})

test("the instances line says when running instances' circuit breakers hold calls back: the status would read idle, not broken", () => {
  const instance = (host: string, state: InstanceInfo['state'], breaker: InstanceInfo['breaker']): InstanceInfo => ({
    instanceId: `${host}-id`, host, pid: 100, version: '0.1.0', schedules: true, works: true, concurrency: 16, maxConcurrentCalls: null, maxCallsPerSecond: null, calls: null, state, breaker,
    startedAt: new Date('2026-12-01T08:00:00Z'), seenAt: new Date('2026-12-01T09:00:00Z'), stoppedAt: null,
  })
  const open = (since: string) => ({ state: 'open' as const, openSince: new Date(since), until: new Date('2026-12-01T09:05:00Z') })
  const closed = { state: 'closed' as const, openSince: null, until: null }
  const status_ = status(null, null)
  expect(formatStatus(status_, {}, false, [instance('a', 'running', open('2026-12-01T09:01:00Z')), instance('b', 'running', open('2026-12-01T09:00:30Z'))])).toMatch(
    /^Instances {7}2 running \(every one's circuit breaker open since 2026-12-01T09:00:30\.000Z: calls held back, the worker failing or down\)$/m,
  )
  // A silent instance's breaker is as stale as its report: not counted.
  expect(formatStatus(status_, {}, false, [instance('a', 'running', closed), instance('b', 'running', open('2026-12-01T09:01:00Z')), instance('c', 'silent', open('2026-12-01T08:00:00Z'))])).toMatch(
    /^Instances {7}2 running \(1 of them with its circuit breaker open since 2026-12-01T09:01:00\.000Z: calls held back, the worker failing or down\), 1 silent/m,
  )
  expect(formatStatus(status_, {}, false, [instance('a', 'running', closed)])).toMatch(/^Instances {7}1 running$/m)
})

test('the calls line says what the instances hold back, and each shared limit how much of it is in use', () => {
  const base = status(null, null)
  const free = formatStatus({ ...base, limits: { ...NO_LIMITS, callsInFlight: 3 } }, {})
  expect(free).toMatch(/^Calls {11}3 in flight, 0 waiting \(the running instances' last reports\)$/m)
  expect(free).not.toMatch(/^Call limits/m)
  const held = { maxConcurrentCalls: 40, permitsHeld: 40, maxCallsPerSecond: 200, bookedAheadMs: 870, callsInFlight: 40, callsWaiting: 120 }
  const shown = formatStatus({ ...base, limits: held }, {})
  expect(shown).toMatch(/^Calls {11}40 in flight, 120 waiting /m)
  expect(shown).toMatch(/^Call limits {5}maxConcurrentCalls 40 \(40 held: every permit held, some by calls waiting their turn under the rate\), maxCallsPerSecond 200 \(start times booked 0\.9 s ahead\)$/m)
  const idle = formatStatus({ ...base, limits: { ...held, permitsHeld: 2, bookedAheadMs: 0 } }, {})
  expect(idle).toMatch(/^Call limits {5}maxConcurrentCalls 40 \(2 held\), maxCallsPerSecond 200 \(none booked ahead\)$/m)
})

test('a limit some running instances calling the worker are not held to says how many (a deploy that dropped it leaves it stored)', () => {
  const base = status(null, null)
  const limits = { ...NO_LIMITS, maxConcurrentCalls: 40, permitsHeld: 3, maxCallsPerSecond: 200 }
  const instance = (maxConcurrentCalls: number | null, more: Partial<InstanceInfo> = {}): InstanceInfo => ({
    instanceId: 'id', host: 'h', pid: 1, version: '0.1.0', schedules: false, works: true, concurrency: 16, maxConcurrentCalls, maxCallsPerSecond: 200,
    calls: { inFlight: 1, waiting: 0 }, state: 'running', breaker: null, startedAt: new Date(0), seenAt: new Date(0), stoppedAt: null, ...more,
  })
  const fleet = [
    instance(40), instance(null), instance(null),
    // Not counted: stopped, calling no worker, or of a version that does not say its limits.
    instance(null, { state: 'stopped' }), instance(null, { works: false, calls: null }), instance(null, { calls: null }),
  ]
  const shown = formatStatus({ ...base, limits }, {}, false, fleet)
  expect(shown).toMatch(
    /^Call limits {5}maxConcurrentCalls 40 \(3 held; 2 of 3 running instances calling the worker not held to it\), maxCallsPerSecond 200 \(none booked ahead\)$/m,
  )
  // The one of an older version says no calls: the sums leave it out, and say so.
  expect(shown).toMatch(/^Calls {11}0 in flight, 0 waiting \(the running instances' last reports; 1 running instance of an older version reports none\)$/m)
})

test('every permit held under a rate too: some are held by calls waiting their turn, not by calls at the worker', () => {
  const base = status(null, null)
  const limits = { ...NO_LIMITS, maxConcurrentCalls: 10, permitsHeld: 10, maxCallsPerSecond: 20, bookedAheadMs: 400, callsInFlight: 5, callsWaiting: 9 }
  expect(formatStatus({ ...base, limits }, {})).toMatch(
    /^Call limits {5}maxConcurrentCalls 10 \(10 held: every permit held, some by calls waiting their turn under the rate\), maxCallsPerSecond 20 \(start times booked 0\.4 s ahead\)$/m,
  )
})

test('failed subscriptions say where their errors are, and how to try them again: the run that failed them drops out of "Last run" at the next sweep', () => {
  const base = status(run('r-2', 'cron'), null)
  const some = formatStatus({ ...base, counts: { ...base.counts, failed: 3000 } }, {})
  expect(some).toMatch(/^ {2}failed {8}3000 \(their last slot failed: `failing` lists each with its error and when a sweep tries it again; `retry-failed` tries them now\)$/m)
  expect(formatStatus(base, {})).toMatch(/^ {2}failed {8}0$/m)
})
