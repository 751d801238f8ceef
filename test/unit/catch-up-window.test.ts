import { describe, expect, test } from 'vitest'
import { resolveOptions } from '../../src/config/resolve-options.js'
import { success } from '../../src/process/outcome.js'
import type { PageRow } from '../../src/settle/outcome.js'
import { catchUpWindowStart, withinCatchUpWindow } from '../../src/schedule/catch-up-window.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../../src/testing.js'

// The window's arithmetic, and the settle's use of it: a success whose next slot fell out of the
// window while its call waited (a retry after a long backoff) goes on from inside the window.

const at = (iso: string) => new Date(iso)
const NOW = '2026-03-20T12:00:00.000Z'

function options(overrides: Record<string, unknown> = {}) {
  return resolveOptions({ workerClient: createFakeWorkerClient(), logger: captureLogger(), clock: createManualClock(NOW), catchUp: 'all', catchUpWindowDays: 3, ...overrides })
}

const row = (frequency: string, scheduledFor: string): PageRow =>
  ({ id: '00000000-0000-4000-8000-000000000001', subscription_id: '00000000-0000-4000-8000-000000000002', user_id: 'u', frequency, timezone: null, run_at: null, anchor_at: null, starts_at: null, ends_at: null, attempts: 0, scheduled_for: at(scheduledFor), run_id: 'r' }) as unknown as PageRow

describe('catch-up window', () => {
  test('starts the window days before now, fractions of a day included; none without a window or with catchUp latest', () => {
    expect(catchUpWindowStart(options(), at(NOW))).toEqual(at('2026-03-17T12:00:00.000Z'))
    expect(catchUpWindowStart(options({ catchUpWindowDays: 1.5 }), at(NOW))).toEqual(at('2026-03-19T00:00:00.000Z'))
    expect(catchUpWindowStart(options({ catchUpWindowDays: null }), at(NOW))).toBeNull()
    expect(catchUpWindowStart({ catchUp: 'latest', catchUpWindowDays: 3 }, at(NOW))).toBeNull()
  })

  test('a slot inside the window is kept; an older one moves to the first slot of its cadence inside it, in its phase', () => {
    const o = options()
    expect(withinCatchUpWindow(o, row('daily', NOW), at('2026-03-18T09:00:00.000Z'), at(NOW))).toEqual(at('2026-03-18T09:00:00.000Z'))
    expect(withinCatchUpWindow(o, row('daily', NOW), at('2026-03-01T09:00:00.000Z'), at(NOW))).toEqual(at('2026-03-18T09:00:00.000Z'))
    // Weekly from a Monday: the window starts on Tuesday the 17th, so the next Monday, the 23rd.
    expect(withinCatchUpWindow(o, row('weekly', NOW), at('2026-03-02T09:00:00.000Z'), at(NOW))).toEqual(at('2026-03-23T09:00:00.000Z'))
    expect(withinCatchUpWindow(options({ catchUpWindowDays: 30 }), row('daily', NOW), at('2026-03-01T09:00:00.000Z'), at(NOW))).toEqual(at('2026-03-01T09:00:00.000Z'))
  })

  test("in the row's zone: a slot the spring-forward skips goes on at the hour after it, and the 31st of a month goes on on the last day of a shorter one", () => {
    const berlin = { ...row('daily', NOW), timezone: 'Europe/Berlin', run_at: '02:30' }
    // 02:30 does not exist in Berlin on 29 March 2026: the window's first slot is 03:30 CEST.
    expect(withinCatchUpWindow(options({ catchUpWindowDays: 2 }), berlin, at('2026-03-20T01:30:00.000Z'), at('2026-03-30T12:00:00.000Z'))).toEqual(at('2026-03-29T01:30:00.000Z'))
    // Monthly on the 31st from January (09:00 Berlin): behind a 2-day window in late April, 30 April, not 1 May.
    const monthly = { ...berlin, frequency: 'monthly', run_at: '09:00' }
    expect(withinCatchUpWindow(options({ catchUpWindowDays: 2 }), monthly, at('2026-01-31T08:00:00.000Z'), at('2026-04-29T12:00:00.000Z'))).toEqual(at('2026-04-30T07:00:00.000Z'))
  })

  test('a success whose next slot fell out of the window while it waited goes on from the window; without a window, from the next slot', () => {
    const late = row('daily', '2026-03-10T09:00:00.000Z')
    expect(success(options(), { jobId: 'j', row: late, attempt: 4, startedAt: null }, {}, 5).nextRunAt).toEqual(at('2026-03-18T09:00:00.000Z'))
    expect(success(options({ catchUpWindowDays: null }), { jobId: 'j', row: late, attempt: 4, startedAt: null }, {}, 5).nextRunAt).toEqual(at('2026-03-11T09:00:00.000Z'))
  })
})
