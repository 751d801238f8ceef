/**
 * A row's own schedule (schedule/row-schedule.ts): its time of day, zone, anchor, start and end
 * win over the scheduler's options, and `catchUp` decides whether a slot in the past is next.
 * Pure: no database.
 */
import { describe, expect, test } from 'vitest'
import { resolveFrequencies } from '../../src/schedule/frequency-rules.js'
import { upcomingOf } from '../../src/records/first-slot.js'
import type { ScheduleRow } from '../../src/records/schedule-row.js'
import { nextSlot, slotAfter, slotsFrom } from '../../src/schedule/row-schedule.js'
import type { RowSchedule, ScheduleOptions } from '../../src/schedule/row-schedule.js'
import { captureLogger, createManualClock } from '../../src/testing.js'

function optionsAt(now: string, overrides: Partial<ScheduleOptions> = {}): ScheduleOptions {
  return { timezone: 'UTC', runAt: '09:00', frequencies: resolveFrequencies(undefined), catchUp: 'latest', logger: captureLogger(), clock: createManualClock(now), ...overrides }
}

function row(overrides: Partial<RowSchedule>): RowSchedule {
  return { subscription_id: '00000000-0000-4000-8000-000000000001', frequency: 'daily', timezone: null, run_at: null, anchor_at: null, starts_at: null, ends_at: null, ...overrides }
}

const iso = (date: Date | null) => date?.toISOString() ?? null

describe("a row's own time of day", () => {
  test('wins over the option, read in the row zone, across the spring-forward gap (Berlin 02:30 → 03:30 CEST)', () => {
    const options = optionsAt('2027-03-27T12:00:00Z')
    const berlin = row({ timezone: 'Europe/Berlin', run_at: '02:30' })
    expect(iso(nextSlot(options, berlin, new Date('2027-03-27T01:30:00Z')))).toBe('2027-03-28T01:30:00.000Z')
    expect(iso(nextSlot(optionsAt('2027-03-28T12:00:00Z'), berlin, new Date('2027-03-28T01:30:00Z')))).toBe('2027-03-29T00:30:00.000Z')
  })

  test('in New York on the fall-back day takes the earlier 01:30', () => {
    const options = optionsAt('2027-11-06T12:00:00Z')
    expect(iso(nextSlot(options, row({ timezone: 'America/New_York', run_at: '01:30' }), new Date('2027-11-06T05:30:00Z')))).toBe('2027-11-07T05:30:00.000Z')
  })

  test("on Lord Howe's half-hour shift day, a time in the gap moves forward by 30 minutes", () => {
    // 2027-10-03 02:00 → 02:30 local (+10:30 → +11:00).
    const options = optionsAt('2027-10-02T12:00:00Z')
    expect(iso(nextSlot(options, row({ timezone: 'Australia/Lord_Howe', run_at: '02:15' }), new Date('2027-10-01T15:45:00Z')))).toBe('2027-10-02T15:45:00.000Z')
  })

  test('yearly on Feb 29 runs on Feb 28 in common years and back on Feb 29 in leap years, at the row time', () => {
    const leap = row({ frequency: 'yearly', timezone: 'America/New_York', run_at: '07:00', anchor_at: new Date('2028-02-29T12:00:00Z') })
    expect(iso(nextSlot(optionsAt('2028-02-29T12:00:00Z'), leap, new Date('2028-02-29T12:00:00Z')))).toBe('2029-02-28T12:00:00.000Z')
    expect(iso(nextSlot(optionsAt('2031-02-28T12:00:00Z'), leap, new Date('2031-02-28T12:00:00Z')))).toBe('2032-02-29T12:00:00.000Z')
  })
})

describe('start and end', () => {
  test('no slot before the start; a slot exactly at it runs', () => {
    const starting = row({ starts_at: new Date('2027-05-20T09:00:00Z') })
    expect(iso(slotAfter(optionsAt('2027-05-10T12:00:00Z'), starting, new Date('2027-05-10T12:00:00Z')))).toBe('2027-05-20T09:00:00.000Z')
  })

  test('no slot after the end: the next slot is null once it is passed', () => {
    const ending = row({ ends_at: new Date('2027-05-11T09:00:00Z') })
    expect(iso(nextSlot(optionsAt('2027-05-10T09:00:01Z'), ending, new Date('2027-05-10T09:00:00Z')))).toBe('2027-05-11T09:00:00.000Z')
    expect(nextSlot(optionsAt('2027-05-11T09:00:01Z'), ending, new Date('2027-05-11T09:00:00Z'))).toBeNull()
  })

  test('the preview stops at the end', () => {
    const ending = row({ ends_at: new Date('2027-05-12T10:00:00Z') })
    expect(slotsFrom(optionsAt('2027-05-10T08:00:00Z'), ending, new Date('2027-05-10T09:00:00Z'), 5).map(iso)).toEqual([
      '2027-05-10T09:00:00.000Z', '2027-05-11T09:00:00.000Z', '2027-05-12T09:00:00.000Z',
    ])
  })
})

describe('catchUp', () => {
  const weekly = row({ frequency: 'weekly', anchor_at: new Date('2027-05-03T09:00:00Z') })
  const slot = new Date('2027-05-03T09:00:00Z')

  test("'latest' skips the missed slots: the next one is after now", () => {
    expect(iso(nextSlot(optionsAt('2027-05-30T12:00:00Z'), weekly, slot))).toBe('2027-05-31T09:00:00.000Z')
  })

  test("'all' takes the very next slot, even in the past", () => {
    expect(iso(nextSlot(optionsAt('2027-05-30T12:00:00Z', { catchUp: 'all' }), weekly, slot))).toBe('2027-05-10T09:00:00.000Z')
  })
})

describe('the preview of a row never processed', () => {
  test('its first run is the next sweep; off-slot, it spends that local day, so the next is the day after, as the settle will set it', () => {
    const options = optionsAt('2026-12-01T08:30:00Z')
    const never: ScheduleRow = { ...row({}), id: '00000000-0000-4000-8000-000000000002', status: 'pending', next_run_at: null, next_run_unset: true, paused_until: null, paused_reason: null, lease_expires_at: null, last_completed_for: null, last_run_at: null, active: true, job_id: null, anchor_given: false }
    const sweep = new Date('2026-12-02T08:00:00Z') // cron 08:00, runAt 09:00
    const preview = upcomingOf(options, never, 3, new Date('2026-12-01T08:30:00Z'), sweep).map(iso)
    expect(preview).toEqual(['2026-12-02T08:00:00.000Z', '2026-12-03T09:00:00.000Z', '2026-12-04T09:00:00.000Z'])
    expect(iso(nextSlot(options, never, sweep))).toBe(preview[1])
    expect(upcomingOf(options, never, 1, new Date('2026-12-01T08:30:00Z'), sweep).map(iso)).toEqual(['2026-12-02T08:00:00.000Z'])
  })
})

describe('an unknown frequency', () => {
  test("is warned of with every name the scheduler knows, the host's own included, so a near miss ('Workdays') shows", () => {
    const logger = captureLogger()
    const options = optionsAt('2027-03-01T12:00:00Z', { logger, frequencies: resolveFrequencies({ workdays: { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] } }) })
    slotAfter(options, row({ frequency: 'Workdays' }), new Date('2027-03-01T12:00:00Z'), false, true)
    const [warning, ...more] = logger.messages('warn')
    expect(more).toEqual([])
    expect(warning).toMatch(/unknown frequency "Workdays"; scheduling it daily\. Use a name it knows \('daily', 'weekly', 'biweekly', 'monthly', 'quarterly', 'yearly', 'workdays': matched exactly\)/)
  })
})
