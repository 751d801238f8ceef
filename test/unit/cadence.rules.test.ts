import { IANAZone } from 'luxon'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { ConfigurationError } from '../../src/errors.js'
import { computeNextRunAt } from '../../src/schedule/next-run.js'
import { resolveFrequencies, type FrequencyRule } from '../../src/schedule/frequency-rules.js'
import { sharedSlotMemo } from '../../src/schedule/slot-memo.js'
import { next, walk } from './walk.js'

// Rules beyond the built-in names (weekdays, monthDay, every n days), the host's own names, and
// the rules every cadence shares: DST, no backlog after downtime, no day-by-day walking. DST days
// as in cadence.builtins.test.ts; the local time of each expected instant is beside it.

const BERLIN = 'Europe/Berlin'
const NEW_YORK = 'America/New_York'
const LORD_HOWE = 'Australia/Lord_Howe'
const WORKING_DAYS: FrequencyRule = { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] }
const LAST_DAY: FrequencyRule = { every: 1, unit: 'month', monthDay: -1 }

describe('weekdays', () => {
  test('working days skip the weekend (New York 08:00, from a Thursday)', () => {
    expect(walk({ frequency: WORKING_DAYS, timezone: NEW_YORK, runAt: '08:00', anchor: '2027-05-13T12:00:00Z' }, 6)).toEqual([
      '2027-05-14T12:00:00.000Z', // Fri
      '2027-05-17T12:00:00.000Z', // Mon
      '2027-05-18T12:00:00.000Z',
      '2027-05-19T12:00:00.000Z',
      '2027-05-20T12:00:00.000Z',
      '2027-05-21T12:00:00.000Z',
    ])
  })

  test('Berlin Sunday and Wednesday at 02:30 through the spring-forward Sunday', () => {
    const schedule = { frequency: { every: 1, unit: 'week', weekdays: ['sun', 'wed'] }, timezone: BERLIN, runAt: '02:30' } as const
    expect(walk({ ...schedule, anchor: '2027-03-24T01:30:00Z' }, 3)).toEqual([
      '2027-03-28T01:30:00.000Z', // Sun 03:30 +02:00
      '2027-03-31T00:30:00.000Z', // Wed 02:30 +02:00
      '2027-04-04T00:30:00.000Z', // Sun 02:30 +02:00
    ])
  })

  test('Berlin Friday and Sunday at 02:30 through the fall-back Sunday', () => {
    expect(walk({ frequency: { every: 1, unit: 'week', weekdays: ['fri', 'sun'] }, timezone: BERLIN, runAt: '02:30', anchor: '2027-10-29T00:30:00Z' }, 2))
      .toEqual(['2027-10-31T00:30:00.000Z', '2027-11-05T01:30:00.000Z']) // Sun 02:30 +02:00 (the earlier), Fri 02:30 +01:00
  })

  test('New York weekends at 01:30 through the fall-back Sunday, and Mon/Sun at 02:30 through spring', () => {
    expect(walk({ frequency: { every: 1, unit: 'week', weekdays: ['sat', 'sun'] }, timezone: NEW_YORK, runAt: '01:30', anchor: '2027-11-06T05:30:00Z' }, 3))
      .toEqual(['2027-11-07T05:30:00.000Z', '2027-11-13T06:30:00.000Z', '2027-11-14T06:30:00.000Z'])
    // The ISO week runs Monday to Sunday: Mon Mar 8's week ends on the spring-forward Sunday.
    expect(walk({ frequency: { every: 1, unit: 'week', weekdays: ['sun', 'mon'] }, timezone: NEW_YORK, runAt: '02:30', anchor: '2027-03-08T07:30:00Z' }, 2))
      .toEqual(['2027-03-14T07:30:00.000Z', '2027-03-15T06:30:00.000Z']) // Sun 03:30 -04:00, Mon 02:30 -04:00
  })

  test('Lord Howe: every other week on Monday and Sunday at 01:45, through the fall-back Sunday', () => {
    // Anchor Monday 2027-03-29: its week (to Sunday Apr 4) and every second week after are active.
    const schedule = { frequency: { every: 2, unit: 'week', weekdays: ['mon', 'sun'] }, timezone: LORD_HOWE, runAt: '01:45' } as const
    expect(walk({ ...schedule, anchor: '2027-03-28T14:45:00Z' }, 4)).toEqual([
      '2027-04-03T14:45:00.000Z', // Sun Apr 4 01:45 +11:00, the earlier
      '2027-04-11T15:15:00.000Z', // Mon Apr 12 01:45 +10:30
      '2027-04-17T15:15:00.000Z', // Sun Apr 18
      '2027-04-25T15:15:00.000Z', // Mon Apr 26
    ])
  })

  test('Lord Howe weekends at 02:15 through the spring-forward Sunday', () => {
    expect(walk({ frequency: { every: 1, unit: 'week', weekdays: ['sat', 'sun'] }, timezone: LORD_HOWE, runAt: '02:15', anchor: '2027-10-01T15:45:00Z' }, 2))
      .toEqual(['2027-10-02T15:45:00.000Z', '2027-10-08T15:15:00.000Z']) // Sun Oct 3 02:45 +11:00, Sat Oct 9 02:15 +11:00
  })

  test('runs on Feb 29 when it is a listed weekday, and the order of the list does not matter', () => {
    // 2028-02-28 is a Monday, Feb 29 a Tuesday.
    const runs = ['2028-02-29T09:00:00.000Z', '2028-03-06T09:00:00.000Z', '2028-03-07T09:00:00.000Z']
    expect(walk({ frequency: { every: 1, unit: 'week', weekdays: ['mon', 'tue'] }, timezone: 'UTC', runAt: '09:00', anchor: '2028-02-28T09:00:00Z' }, 3)).toEqual(runs)
    expect(walk({ frequency: { every: 1, unit: 'week', weekdays: ['tue', 'mon'] }, timezone: 'UTC', runAt: '09:00', anchor: '2028-02-28T09:00:00Z' }, 3)).toEqual(runs)
  })
})

describe('weekday and nth: the nth weekday of the month', () => {
  test('the first Monday of each month, from an anchor past that month\'s', () => {
    expect(walk({ frequency: { every: 1, unit: 'month', weekday: 'mon', nth: 1 }, timezone: 'UTC', runAt: '09:00', anchor: '2027-01-10T09:00:00Z' }, 3)).toEqual([
      '2027-02-01T09:00:00.000Z', // Mon
      '2027-03-01T09:00:00.000Z', // Mon
      '2027-04-05T09:00:00.000Z', // Mon
    ])
  })

  test('the last Friday every three months, from the anchor\'s month: Dec 31 2027 is one', () => {
    expect(walk({ frequency: { every: 3, unit: 'month', weekday: 'fri', nth: -1 }, timezone: 'UTC', runAt: '17:00', anchor: '2027-03-05T17:00:00Z' }, 4)).toEqual([
      '2027-03-26T17:00:00.000Z',
      '2027-06-25T17:00:00.000Z',
      '2027-09-24T17:00:00.000Z',
      '2027-12-31T17:00:00.000Z',
    ])
  })

  test('the last Sunday of March in Berlin is the spring-forward day: 02:30 moves to 03:30 CEST', () => {
    expect(walk({ frequency: { every: 1, unit: 'month', weekday: 'sun', nth: -1 }, timezone: BERLIN, runAt: '02:30', anchor: '2027-03-01T00:00:00Z' }, 2)).toEqual([
      '2027-03-28T01:30:00.000Z', // 03:30 CEST
      '2027-04-25T00:30:00.000Z', // 02:30 CEST
    ])
  })

  test('the fourth Thursday of November, every twelve months, in New York', () => {
    expect(walk({ frequency: { every: 12, unit: 'month', weekday: 'thu', nth: 4 }, timezone: NEW_YORK, runAt: '10:00', anchor: '2027-11-02T15:00:00Z' }, 3)).toEqual([
      '2027-11-25T15:00:00.000Z',
      '2028-11-23T15:00:00.000Z',
      '2029-11-22T15:00:00.000Z',
    ])
  })
})

describe('monthDay', () => {
  test('-1 is the last day: Feb 29 in 2028, Feb 28 in 2027; the anchor\'s day does not matter', () => {
    expect(walk({ frequency: LAST_DAY, timezone: 'UTC', runAt: '09:00', anchor: '2028-01-10T09:00:00Z' }, 4)).toEqual([
      '2028-01-31T09:00:00.000Z',
      '2028-02-29T09:00:00.000Z',
      '2028-03-31T09:00:00.000Z',
      '2028-04-30T09:00:00.000Z',
    ])
    expect(walk({ frequency: LAST_DAY, timezone: 'UTC', runAt: '09:00', anchor: '2027-01-31T09:00:00Z' }, 2))
      .toEqual(['2027-02-28T09:00:00.000Z', '2027-03-31T09:00:00.000Z'])
  })

  test('-1 in Berlin at 02:30: Oct 31 2027 is the fall-back day and runs at the earlier 02:30', () => {
    expect(walk({ frequency: LAST_DAY, timezone: BERLIN, runAt: '02:30', anchor: '2027-09-30T00:30:00Z' }, 2))
      .toEqual(['2027-10-31T00:30:00.000Z', '2027-11-30T01:30:00.000Z'])
  })

  test('-1 keeps the wall time as New York and Lord Howe change offset', () => {
    expect(walk({ frequency: LAST_DAY, timezone: NEW_YORK, runAt: '09:00', anchor: '2027-02-28T14:00:00Z' }, 2))
      .toEqual(['2027-03-31T13:00:00.000Z', '2027-04-30T13:00:00.000Z']) // 09:00 -04:00
    expect(walk({ frequency: LAST_DAY, timezone: NEW_YORK, runAt: '17:45', anchor: '2027-10-31T21:45:00Z' }, 1))
      .toEqual(['2027-11-30T22:45:00.000Z']) // 17:45 -05:00
    expect(walk({ frequency: LAST_DAY, timezone: LORD_HOWE, runAt: '09:00', anchor: '2027-03-30T22:00:00Z' }, 1))
      .toEqual(['2027-04-29T22:30:00.000Z']) // Apr 30 09:00 +10:30
    expect(walk({ frequency: LAST_DAY, timezone: LORD_HOWE, runAt: '09:00', anchor: '2027-09-29T22:30:00Z' }, 1))
      .toEqual(['2027-10-30T22:00:00.000Z']) // Oct 31 09:00 +11:00
  })

  test('-1 every three months: quarter ends from the anchor\'s month', () => {
    expect(walk({ frequency: { every: 3, unit: 'month', monthDay: -1 }, timezone: 'UTC', runAt: '17:00', anchor: '2027-03-05T17:00:00Z' }, 5)).toEqual([
      '2027-03-31T17:00:00.000Z',
      '2027-06-30T17:00:00.000Z',
      '2027-09-30T17:00:00.000Z',
      '2027-12-31T17:00:00.000Z',
      '2028-03-31T17:00:00.000Z',
    ])
  })

  test('a fixed day overrides the anchor\'s day, and 31 is clamped, then restored', () => {
    expect(next({ frequency: { every: 1, unit: 'month', monthDay: 15 }, timezone: 'UTC', runAt: '09:00', anchor: '2027-01-31T09:00:00Z' }, '2027-01-31T09:00:00Z'))
      .toBe('2027-02-15T09:00:00.000Z')
    expect(walk({ frequency: { every: 1, unit: 'month', monthDay: 31 }, timezone: 'UTC', runAt: '09:00', anchor: '2028-01-31T09:00:00Z' }, 2))
      .toEqual(['2028-02-29T09:00:00.000Z', '2028-03-31T09:00:00.000Z'])
  })
})

describe('every n days', () => {
  test('every 3 days in Berlin at 02:30 through the spring-forward Sunday', () => {
    expect(walk({ frequency: { every: 3, unit: 'day' }, timezone: BERLIN, runAt: '02:30', anchor: '2027-03-22T01:30:00Z' }, 3)).toEqual([
      '2027-03-25T01:30:00.000Z', // 02:30 +01:00
      '2027-03-28T01:30:00.000Z', // 03:30 +02:00
      '2027-03-31T00:30:00.000Z', // 02:30 +02:00
    ])
  })

  test('every 10 days in New York at 01:30 through the fall-back Sunday', () => {
    expect(walk({ frequency: { every: 10, unit: 'day' }, timezone: NEW_YORK, runAt: '01:30', anchor: '2027-10-28T05:30:00Z' }, 2))
      .toEqual(['2027-11-07T05:30:00.000Z', '2027-11-17T06:30:00.000Z'])
  })

  test('every 2 days in Lord Howe through both 30-minute changes', () => {
    expect(walk({ frequency: { every: 2, unit: 'day' }, timezone: LORD_HOWE, runAt: '02:15', anchor: '2027-09-30T15:45:00Z' }, 2))
      .toEqual(['2027-10-02T15:45:00.000Z', '2027-10-04T15:15:00.000Z']) // Oct 3 02:45 +11:00, Oct 5 02:15 +11:00
    expect(walk({ frequency: { every: 2, unit: 'day' }, timezone: LORD_HOWE, runAt: '01:45', anchor: '2027-04-01T14:45:00Z' }, 2))
      .toEqual(['2027-04-03T14:45:00.000Z', '2027-04-05T15:15:00.000Z']) // Apr 4 01:45 +11:00, Apr 6 01:45 +10:30
  })

  test('every 365 days counts calendar days, so it drifts a day across Feb 29', () => {
    expect(walk({ frequency: { every: 365, unit: 'day' }, timezone: 'UTC', runAt: '09:00', anchor: '2027-03-01T09:00:00Z' }, 3))
      .toEqual(['2028-02-29T09:00:00.000Z', '2029-02-28T09:00:00.000Z', '2030-02-28T09:00:00.000Z'])
  })

  test('a manual run in between, and downtime, keep the anchor\'s phase', () => {
    const schedule = { frequency: { every: 3, unit: 'day' }, timezone: 'UTC', runAt: '09:00', anchor: '2027-05-01T09:00:00Z' } as const
    expect(next(schedule, '2027-05-02T15:00:00Z')).toBe('2027-05-04T09:00:00.000Z')
    expect(next(schedule, '2027-05-01T09:00:00Z', '2027-05-20T12:00:00Z')).toBe('2027-05-22T09:00:00.000Z')
  })
})

describe('after downtime there is no backlog, for every kind of rule', () => {
  test.each([
    ['biweekly', 'biweekly', '2027-01-04T09:00:00Z', '2028-07-01T00:00:00Z', '2028-07-03T09:00:00.000Z'],
    ['working days', WORKING_DAYS, '2027-05-14T09:00:00Z', '2027-07-03T12:00:00Z', '2027-07-05T09:00:00.000Z'],
    ['last day of month', LAST_DAY, '2027-01-31T09:00:00Z', '2027-07-31T09:00:00Z', '2027-08-31T09:00:00.000Z'],
    ['every 10 days', { every: 10, unit: 'day' }, '2000-01-01T09:00:00Z', '2027-07-01T00:00:00Z', '2027-07-08T09:00:00.000Z'],
    ['every 365 days', { every: 365, unit: 'day' }, '1990-01-01T09:00:00Z', '2027-01-01T12:00:00Z', '2027-12-23T09:00:00.000Z'],
  ] as const)('%s resumes at the first slot after now', (_, frequency, anchor, now, expected) => {
    expect(next({ frequency, timezone: 'UTC', runAt: '09:00', anchor }, anchor, now)).toBe(expected)
  })
})

describe('the host\'s names', () => {
  const hostRules = { fortnightly: { every: 2, unit: 'week' }, weekly: WORKING_DAYS } as const

  test('a host name, and a built-in the host overrides, come from the resolved table', () => {
    const frequencies = resolveFrequencies(hostRules)
    const schedule = { timezone: 'UTC', runAt: '09:00', anchor: '2027-05-10T09:00:00Z', frequencies } // a Monday
    expect(next({ ...schedule, frequency: 'fortnightly' }, '2027-05-10T09:00:00Z')).toBe('2027-05-24T09:00:00.000Z')
    expect(next({ ...schedule, frequency: 'weekly' }, '2027-05-10T09:00:00Z')).toBe('2027-05-11T09:00:00.000Z')
    expect(next({ ...schedule, frequency: 'monthly' }, '2027-05-10T09:00:00Z')).toBe('2027-06-10T09:00:00.000Z')
  })

  test('an unresolved table works too: its names first, then the built-ins', () => {
    const schedule = { timezone: 'UTC', runAt: '09:00', anchor: '2027-05-10T09:00:00Z', frequencies: hostRules }
    expect(next({ ...schedule, frequency: 'fortnightly' }, '2027-05-10T09:00:00Z')).toBe('2027-05-24T09:00:00.000Z')
    expect(next({ ...schedule, frequency: 'quarterly' }, '2027-05-10T09:00:00Z')).toBe('2027-08-10T09:00:00.000Z')
  })

  test('an invalid rule in an unresolved table throws when its name is used, naming its path', () => {
    const frequencies = { fortnightly: { every: 0, unit: 'week' } } as unknown as Record<string, FrequencyRule>
    expect(() => next({ frequency: 'fortnightly', timezone: 'UTC', runAt: '09:00', anchor: '2027-05-10T09:00:00Z', frequencies }, '2027-05-10T09:00:00Z'))
      .toThrow(expect.objectContaining({ option: 'frequencies.fortnightly.every' }))
  })

  test('an invalid inline rule throws a ConfigurationError on `frequency.…`', () => {
    const frequency = { every: 1, unit: 'month', weekdays: ['mon'] } as unknown as FrequencyRule
    const call = () => next({ frequency, timezone: 'UTC', runAt: '09:00', anchor: '2027-05-10T09:00:00Z' }, '2027-05-10T09:00:00Z')
    expect(call).toThrow(ConfigurationError)
    expect(call).toThrow(expect.objectContaining({ option: 'frequency.weekdays' }))
  })

  test('a name in neither table runs daily and is reported; the warning lists the names there are', () => {
    const reported: unknown[] = []
    const input = { timezone: 'UTC', runAt: '09:00', after: new Date('2027-05-10T09:00:00Z'), now: new Date('2027-05-10T09:00:00Z'), frequencies: hostRules }
    expect(computeNextRunAt({ ...input, frequency: 'monthy', onUnknownFrequency: (f) => reported.push(f) }).toISOString())
      .toBe('2027-05-11T09:00:00.000Z')
    expect(reported).toEqual(['monthy'])
    // Inherited names are not cadences.
    expect(computeNextRunAt({ ...input, frequency: 'toString', onUnknownFrequency: (f) => reported.push(f) }).toISOString())
      .toBe('2027-05-11T09:00:00.000Z')
    expect(reported).toEqual(['monthy', 'toString'])
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      computeNextRunAt({ ...input, frequency: 'monthy' })
      expect(String(spy.mock.calls[0]?.[0])).toBe(
        'Unknown subscription frequency "monthy"; running it daily. Use one of \'daily\', \'weekly\', \'biweekly\', \'monthly\', \'quarterly\', \'yearly\', \'fortnightly\'.',
      )
    } finally {
      spy.mockRestore()
    }
  })
})

describe('long spans are computed directly, not walked day by day', () => {
  // An empty memo, so the arithmetic answers (yearly and every 12 months share a memo key).
  beforeEach(() => sharedSlotMemo.clear())
  afterEach(() => vi.restoreAllMocks())

  // Each zone lookup is one luxon offset call; walking the days between would make thousands.
  test.each([
    ['yearly', 'yearly', '1990-06-15T07:00:00Z', '2028-06-15T07:00:00.000Z'],
    ['every 12 months', { every: 12, unit: 'month' }, '1990-06-15T07:00:00Z', '2028-06-15T07:00:00.000Z'],
    ['every 365 days', { every: 365, unit: 'day' }, '1990-06-15T07:00:00Z', '2028-06-05T07:00:00.000Z'],
    ['every 1000 weeks', { every: 1000, unit: 'week' }, '1990-06-15T07:00:00Z', '2028-10-13T07:00:00.000Z'],
  ] as const)('%s after decades of downtime', (_, frequency, anchor, expected) => {
    const offsets = vi.spyOn(IANAZone.prototype, 'offset')
    const result = next({ frequency, timezone: BERLIN, runAt: '09:00', anchor }, anchor, '2027-07-01T00:00:00Z')
    expect(result).toBe(expected)
    expect(offsets.mock.calls.length).toBeLessThanOrEqual(12)
  })
})

describe('one run per local day, on the listed days only', () => {
  // Lord Howe's 30-minute changes fall on Sundays, so include the weekend to land on them.
  test.each(['01:30', '01:45', '02:00', '02:15', '02:29', '02:30', '23:59'])('every day of 2027 in Lord Howe at %s', (runAt) => {
    const schedule = { frequency: { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] }, timezone: LORD_HOWE, runAt } as const
    const runs = walk({ ...schedule, anchor: '2026-12-31T12:59:00Z' }, 365) // Dec 31 23:59 +11:00
    const days = runs.map((r) => new Date(Date.parse(r) + offsetMinutes(r) * 60_000).toISOString().slice(0, 10))
    expect(new Set(days).size).toBe(365)
    expect(days[0]).toBe('2027-01-01')
    expect(days[364]).toBe('2027-12-31')
  })
})

/** Lord Howe's UTC offset in minutes at an instant. */
function offsetMinutes(iso: string): number {
  return IANAZone.create(LORD_HOWE).offset(Date.parse(iso))
}
