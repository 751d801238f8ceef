import { describe, expect, test } from 'vitest'
import { BUILT_IN_FREQUENCIES } from '../../src/schedule/frequency-rules.js'
import { next, walk } from './walk.js'

// The built-in cadence names, walked slot by slot as the scheduler does, across the DST days of
// Europe/Berlin (2027: Mar 28 02:00→03:00, Oct 31 03:00→02:00), America/New_York (2027: Mar 14
// 02:00→03:00, Nov 7 02:00→01:00) and Australia/Lord_Howe (30 minutes; 2027: Apr 4 02:00→01:30,
// Oct 3 02:00→02:30), and across leap years. Each schedule has its own runAt; the local time of
// each expected instant is in the comment beside it.

const BERLIN = 'Europe/Berlin'
const NEW_YORK = 'America/New_York'
const LORD_HOWE = 'Australia/Lord_Howe'

test('the built-in names and their rules', () => {
  expect(BUILT_IN_FREQUENCIES).toEqual({
    daily: { every: 1, unit: 'day' },
    weekly: { every: 1, unit: 'week' },
    biweekly: { every: 2, unit: 'week' },
    monthly: { every: 1, unit: 'month' },
    quarterly: { every: 3, unit: 'month' },
    yearly: { every: 1, unit: 'year' },
  })
  expect(Object.isFrozen(BUILT_IN_FREQUENCIES)).toBe(true)
  expect(Object.isFrozen(BUILT_IN_FREQUENCIES.biweekly)).toBe(true)
})

describe('daily', () => {
  test('Lord Howe spring-forward: 02:15 does not exist on 2027-10-03 and runs 30 minutes later', () => {
    expect(walk({ frequency: 'daily', timezone: LORD_HOWE, runAt: '02:15', anchor: '2027-09-30T15:45:00Z' }, 3)).toEqual([
      '2027-10-01T15:45:00.000Z', // Oct 2 02:15 +10:30
      '2027-10-02T15:45:00.000Z', // Oct 3 02:45 +11:00
      '2027-10-03T15:15:00.000Z', // Oct 4 02:15 +11:00
    ])
  })

  test('Lord Howe fall-back: 01:45 happens twice on 2027-04-04 and runs once, at the earlier', () => {
    const schedule = { frequency: 'daily', timezone: LORD_HOWE, runAt: '01:45', anchor: '2027-04-02T14:45:00Z' }
    expect(walk(schedule, 2)).toEqual([
      '2027-04-03T14:45:00.000Z', // Apr 4 01:45 +11:00 (the first of the two)
      '2027-04-04T15:15:00.000Z', // Apr 5 01:45 +10:30
    ])
    // Between the two 01:45s (now = 01:30 +10:30) the repeat is not a second run.
    expect(next(schedule, '2027-04-03T14:45:00Z', '2027-04-03T15:00:00Z')).toBe('2027-04-04T15:15:00.000Z')
  })

  test('Berlin midnight and New York late evening keep their wall time across DST', () => {
    expect(walk({ frequency: 'daily', timezone: BERLIN, runAt: '00:00', anchor: '2027-03-26T23:00:00Z' }, 2)).toEqual([
      '2027-03-27T23:00:00.000Z', // Mar 28 00:00 +01:00, before the change
      '2027-03-28T22:00:00.000Z', // Mar 29 00:00 +02:00
    ])
    expect(walk({ frequency: 'daily', timezone: NEW_YORK, runAt: '23:30', anchor: '2027-11-07T03:30:00Z' }, 1))
      .toEqual(['2027-11-08T04:30:00.000Z']) // Nov 7 23:30 -05:00
  })
})

describe('weekly', () => {
  test('Berlin Sunday 02:30 moves to 03:30 on the spring-forward Sunday only', () => {
    expect(walk({ frequency: 'weekly', timezone: BERLIN, runAt: '02:30', anchor: '2027-03-21T01:30:00Z' }, 3)).toEqual([
      '2027-03-28T01:30:00.000Z', // 03:30 +02:00
      '2027-04-04T00:30:00.000Z', // 02:30 +02:00
      '2027-04-11T00:30:00.000Z',
    ])
  })

  test('Berlin Sunday 02:30 on the fall-back Sunday runs at the earlier 02:30', () => {
    expect(walk({ frequency: 'weekly', timezone: BERLIN, runAt: '02:30', anchor: '2027-10-24T00:30:00Z' }, 2))
      .toEqual(['2027-10-31T00:30:00.000Z', '2027-11-07T01:30:00.000Z']) // +02:00, then +01:00
  })

  test('New York Sunday 01:30 on the fall-back Sunday runs at the earlier 01:30 (EDT)', () => {
    expect(walk({ frequency: 'weekly', timezone: NEW_YORK, runAt: '01:30', anchor: '2027-10-31T05:30:00Z' }, 2))
      .toEqual(['2027-11-07T05:30:00.000Z', '2027-11-14T06:30:00.000Z']) // -04:00, then -05:00
  })

  test('Lord Howe Sunday 02:15 moves by the 30-minute gap on 2027-10-03', () => {
    expect(walk({ frequency: 'weekly', timezone: LORD_HOWE, runAt: '02:15', anchor: '2027-09-25T15:45:00Z' }, 2))
      .toEqual(['2027-10-02T15:45:00.000Z', '2027-10-09T15:15:00.000Z']) // 02:45 +11:00, then 02:15 +11:00
  })

  test('keeps the weekday across Feb 29 of a leap year', () => {
    // 2028-02-22 and 2028-02-29 are Tuesdays.
    expect(walk({ frequency: 'weekly', timezone: 'UTC', runAt: '18:45', anchor: '2028-02-22T18:45:00Z' }, 2))
      .toEqual(['2028-02-29T18:45:00.000Z', '2028-03-07T18:45:00.000Z'])
  })
})

describe('biweekly', () => {
  const newYork = { frequency: 'biweekly', timezone: NEW_YORK, runAt: '02:30', anchor: '2027-02-28T07:30:00Z' }

  test('New York Sunday 02:30 every other week, through the spring-forward Sunday', () => {
    expect(walk(newYork, 3)).toEqual([
      '2027-03-14T07:30:00.000Z', // 03:30 -04:00
      '2027-03-28T06:30:00.000Z', // 02:30 -04:00
      '2027-04-11T06:30:00.000Z',
    ])
  })

  test('a manual run in the week between does not shift the fortnight', () => {
    expect(next(newYork, '2027-03-16T15:00:00Z')).toBe('2027-03-28T06:30:00.000Z')
  })

  test('Berlin and Lord Howe fall-back Sundays run once, at the earlier instant', () => {
    expect(walk({ frequency: 'biweekly', timezone: BERLIN, runAt: '02:30', anchor: '2027-10-17T00:30:00Z' }, 2))
      .toEqual(['2027-10-31T00:30:00.000Z', '2027-11-14T01:30:00.000Z'])
    expect(walk({ frequency: 'biweekly', timezone: LORD_HOWE, runAt: '01:45', anchor: '2027-03-20T14:45:00Z' }, 2))
      .toEqual(['2027-04-03T14:45:00.000Z', '2027-04-17T15:15:00.000Z']) // Apr 4 01:45 +11:00, Apr 18 01:45 +10:30
  })

  test('counts weeks continuously over a 53-week ISO year (2026) and over Feb 29', () => {
    expect(walk({ frequency: 'biweekly', timezone: 'UTC', runAt: '09:00', anchor: '2026-12-21T09:00:00Z' }, 2))
      .toEqual(['2027-01-04T09:00:00.000Z', '2027-01-18T09:00:00.000Z'])
    expect(walk({ frequency: 'biweekly', timezone: 'UTC', runAt: '06:15', anchor: '2028-02-15T06:15:00Z' }, 2))
      .toEqual(['2028-02-29T06:15:00.000Z', '2028-03-14T06:15:00.000Z'])
  })
})

describe('monthly', () => {
  test('Berlin 28th at 02:30 runs at 03:30 on the spring-forward day', () => {
    expect(walk({ frequency: 'monthly', timezone: BERLIN, runAt: '02:30', anchor: '2027-02-28T01:30:00Z' }, 2))
      .toEqual(['2027-03-28T01:30:00.000Z', '2027-04-28T00:30:00.000Z'])
  })

  test('Berlin 31st at 02:30: clamped to Sep 30, the earlier 02:30 on Oct 31, then CET', () => {
    expect(walk({ frequency: 'monthly', timezone: BERLIN, runAt: '02:30', anchor: '2027-08-31T00:30:00Z' }, 3))
      .toEqual(['2027-09-30T00:30:00.000Z', '2027-10-31T00:30:00.000Z', '2027-11-30T01:30:00.000Z'])
  })

  test('New York 14th at 02:00 (the first minute of the gap) runs at 03:00 EDT on Mar 14', () => {
    expect(walk({ frequency: 'monthly', timezone: NEW_YORK, runAt: '02:00', anchor: '2027-02-14T07:00:00Z' }, 2))
      .toEqual(['2027-03-14T07:00:00.000Z', '2027-04-14T06:00:00.000Z'])
  })

  test('New York 7th at 01:30 runs at the earlier 01:30 on Nov 7', () => {
    expect(walk({ frequency: 'monthly', timezone: NEW_YORK, runAt: '01:30', anchor: '2027-10-07T05:30:00Z' }, 2))
      .toEqual(['2027-11-07T05:30:00.000Z', '2027-12-07T06:30:00.000Z'])
  })

  test('Lord Howe 4th at 01:30 (the first minute of the overlap) and 3rd at 02:15 (in the gap)', () => {
    expect(walk({ frequency: 'monthly', timezone: LORD_HOWE, runAt: '01:30', anchor: '2027-03-03T14:30:00Z' }, 2))
      .toEqual(['2027-04-03T14:30:00.000Z', '2027-05-03T15:00:00.000Z']) // Apr 4 01:30 +11:00, May 4 01:30 +10:30
    expect(walk({ frequency: 'monthly', timezone: LORD_HOWE, runAt: '02:15', anchor: '2027-09-02T15:45:00Z' }, 2))
      .toEqual(['2027-10-02T15:45:00.000Z', '2027-11-02T15:15:00.000Z']) // Oct 3 02:45 +11:00, Nov 3 02:15 +11:00
  })

  test('the 30th clamps to Feb 29 in a leap year and to Feb 28 otherwise', () => {
    expect(walk({ frequency: 'monthly', timezone: 'UTC', runAt: '09:00', anchor: '2028-01-30T09:00:00Z' }, 2))
      .toEqual(['2028-02-29T09:00:00.000Z', '2028-03-30T09:00:00.000Z'])
    expect(walk({ frequency: 'monthly', timezone: 'UTC', runAt: '09:00', anchor: '2029-01-30T09:00:00Z' }, 2))
      .toEqual(['2029-02-28T09:00:00.000Z', '2029-03-30T09:00:00.000Z'])
  })

  test('Feb 29 is read on the local calendar: 07:00 in Lord Howe is still Feb 28 in UTC', () => {
    expect(next({ frequency: 'monthly', timezone: LORD_HOWE, runAt: '07:00', anchor: '2028-01-28T20:00:00Z' }, '2028-01-28T20:00:00Z'))
      .toBe('2028-02-28T20:00:00.000Z') // Feb 29 07:00 +11:00
  })
})

describe('quarterly', () => {
  test('every three months from the anchor month, clamped, back to the 31st', () => {
    expect(walk({ frequency: 'quarterly', timezone: 'UTC', runAt: '09:00', anchor: '2027-01-31T09:00:00Z' }, 4)).toEqual([
      '2027-04-30T09:00:00.000Z',
      '2027-07-31T09:00:00.000Z',
      '2027-10-31T09:00:00.000Z',
      '2028-01-31T09:00:00.000Z',
    ])
  })

  test('the 30th: Feb 29 in 2028, Feb 28 in 2029', () => {
    expect(walk({ frequency: 'quarterly', timezone: 'UTC', runAt: '12:00', anchor: '2027-11-30T12:00:00Z' }, 5)).toEqual([
      '2028-02-29T12:00:00.000Z',
      '2028-05-30T12:00:00.000Z',
      '2028-08-30T12:00:00.000Z',
      '2028-11-30T12:00:00.000Z',
      '2029-02-28T12:00:00.000Z',
    ])
  })

  test('Berlin and New York DST days that fall on the quarter\'s day', () => {
    expect(walk({ frequency: 'quarterly', timezone: BERLIN, runAt: '02:30', anchor: '2026-12-28T01:30:00Z' }, 2))
      .toEqual(['2027-03-28T01:30:00.000Z', '2027-06-28T00:30:00.000Z']) // 03:30 +02:00, 02:30 +02:00
    expect(walk({ frequency: 'quarterly', timezone: BERLIN, runAt: '02:30', anchor: '2027-07-31T00:30:00Z' }, 2))
      .toEqual(['2027-10-31T00:30:00.000Z', '2028-01-31T01:30:00.000Z']) // earlier 02:30 +02:00, 02:30 +01:00
    expect(walk({ frequency: 'quarterly', timezone: NEW_YORK, runAt: '02:30', anchor: '2026-12-14T07:30:00Z' }, 2))
      .toEqual(['2027-03-14T07:30:00.000Z', '2027-06-14T06:30:00.000Z']) // 03:30 -04:00, 02:30 -04:00
    expect(walk({ frequency: 'quarterly', timezone: NEW_YORK, runAt: '01:30', anchor: '2027-08-07T05:30:00Z' }, 2))
      .toEqual(['2027-11-07T05:30:00.000Z', '2028-02-07T06:30:00.000Z']) // 01:30 -04:00, 01:30 -05:00
  })

  test('Lord Howe DST days that fall on the quarter\'s day', () => {
    expect(walk({ frequency: 'quarterly', timezone: LORD_HOWE, runAt: '02:15', anchor: '2027-07-02T15:45:00Z' }, 2))
      .toEqual(['2027-10-02T15:45:00.000Z', '2028-01-02T15:15:00.000Z']) // Oct 3 02:45 +11:00, Jan 3 02:15 +11:00
    expect(walk({ frequency: 'quarterly', timezone: LORD_HOWE, runAt: '01:45', anchor: '2027-01-03T14:45:00Z' }, 2))
      .toEqual(['2027-04-03T14:45:00.000Z', '2027-07-03T15:15:00.000Z']) // Apr 4 01:45 +11:00, Jul 4 01:45 +10:30
  })

  test('a manual run in an off month, and downtime, keep the anchor\'s quarter months', () => {
    const schedule = { frequency: 'quarterly', timezone: 'UTC', runAt: '09:00', anchor: '2027-01-15T09:00:00Z' }
    expect(next(schedule, '2027-02-20T10:00:00Z')).toBe('2027-04-15T09:00:00.000Z')
    expect(next(schedule, '2027-01-15T09:00:00Z', '2027-08-01T00:00:00Z')).toBe('2027-10-15T09:00:00.000Z')
  })
})

describe('yearly', () => {
  test('Feb 29 runs on Feb 28 in common years and on Feb 29 again in leap years', () => {
    expect(walk({ frequency: 'yearly', timezone: 'UTC', runAt: '09:00', anchor: '2028-02-29T09:00:00Z' }, 5)).toEqual([
      '2029-02-28T09:00:00.000Z',
      '2030-02-28T09:00:00.000Z',
      '2031-02-28T09:00:00.000Z',
      '2032-02-29T09:00:00.000Z',
      '2033-02-28T09:00:00.000Z',
    ])
  })

  test('2100 is not a leap year: Feb 29 2096 next returns in 2104', () => {
    expect(walk({ frequency: 'yearly', timezone: 'UTC', runAt: '09:00', anchor: '2096-02-29T09:00:00Z' }, 8)).toEqual([
      '2097-02-28T09:00:00.000Z',
      '2098-02-28T09:00:00.000Z',
      '2099-02-28T09:00:00.000Z',
      '2100-02-28T09:00:00.000Z',
      '2101-02-28T09:00:00.000Z',
      '2102-02-28T09:00:00.000Z',
      '2103-02-28T09:00:00.000Z',
      '2104-02-29T09:00:00.000Z',
    ])
  })

  test('Feb 29 in Lord Howe is read on the local calendar', () => {
    expect(walk({ frequency: 'yearly', timezone: LORD_HOWE, runAt: '07:00', anchor: '2028-02-28T20:00:00Z' }, 4)).toEqual([
      '2029-02-27T20:00:00.000Z', // Feb 28 07:00 +11:00
      '2030-02-27T20:00:00.000Z',
      '2031-02-27T20:00:00.000Z',
      '2032-02-28T20:00:00.000Z', // Feb 29 07:00 +11:00
    ])
  })

  test('Berlin Mar 28 at 02:30 runs at 03:30 in 2027, when it is the spring-forward Sunday', () => {
    expect(walk({ frequency: 'yearly', timezone: BERLIN, runAt: '02:30', anchor: '2026-03-28T01:30:00Z' }, 2))
      .toEqual(['2027-03-28T01:30:00.000Z', '2028-03-28T00:30:00.000Z'])
  })

  test('New York Nov 7 at 01:30 runs at the earlier 01:30 in 2027', () => {
    expect(walk({ frequency: 'yearly', timezone: NEW_YORK, runAt: '01:30', anchor: '2026-11-07T06:30:00Z' }, 2))
      .toEqual(['2027-11-07T05:30:00.000Z', '2028-11-07T06:30:00.000Z'])
  })

  test('Lord Howe Oct 3 at 02:15 and Apr 4 at 01:45 in the year they are DST days', () => {
    expect(walk({ frequency: 'yearly', timezone: LORD_HOWE, runAt: '02:15', anchor: '2026-10-02T15:45:00Z' }, 2))
      .toEqual(['2027-10-02T15:45:00.000Z', '2028-10-02T15:15:00.000Z']) // 02:45 +11:00, 02:15 +11:00
    expect(walk({ frequency: 'yearly', timezone: LORD_HOWE, runAt: '01:45', anchor: '2026-04-03T14:45:00Z' }, 2))
      .toEqual(['2027-04-03T14:45:00.000Z', '2028-04-03T15:15:00.000Z']) // 01:45 +11:00, 01:45 +10:30
  })

  test('after years of downtime it resumes at the next anniversary after now', () => {
    const schedule = { frequency: 'yearly', timezone: BERLIN, runAt: '09:00', anchor: '1990-06-15T07:00:00Z' }
    expect(next(schedule, '1990-06-15T07:00:00Z', '2027-07-01T00:00:00Z')).toBe('2028-06-15T07:00:00.000Z')
  })
})
