import { describe, expect, test } from 'vitest'
import { ConfigurationError, SubscriptionDataError } from '../../src/errors.js'
import { upcomingRuns, type UpcomingRunsInput } from '../../src/schedule/upcoming.js'
import { walk } from './walk.js'

// upcomingRuns: a preview of the next slots, bounded by count, startsAt and endsAt.

type Input = Omit<Partial<UpcomingRunsInput>, 'after' | 'anchor' | 'startsAt' | 'endsAt'> & {
  after: string
  anchor?: string
  startsAt?: string
  endsAt?: string
}

function upcoming({ after, anchor, startsAt, endsAt, ...input }: Input): string[] {
  return upcomingRuns({
    frequency: 'daily',
    timezone: 'Europe/Berlin',
    runAt: '09:00',
    count: 5,
    ...input,
    after: new Date(after),
    ...(anchor === undefined ? {} : { anchor: new Date(anchor) }),
    ...(startsAt === undefined ? {} : { startsAt: new Date(startsAt) }),
    ...(endsAt === undefined ? {} : { endsAt: new Date(endsAt) }),
  }).map((d) => d.toISOString())
}

test('biweekly in New York keeps 09:00 as the clocks change (the TSDoc example)', () => {
  expect(upcoming({ frequency: 'biweekly', timezone: 'America/New_York', after: '2027-03-01T14:00:00Z', count: 3 }))
    .toEqual(['2027-03-15T13:00:00.000Z', '2027-03-29T13:00:00.000Z', '2027-04-12T13:00:00.000Z'])
})

test.each([
  { frequency: 'monthly', timezone: 'Europe/Berlin', runAt: '02:30', anchor: '2027-08-31T00:30:00Z' },
  { frequency: 'yearly', timezone: 'Australia/Lord_Howe', runAt: '07:00', anchor: '2028-02-28T20:00:00Z' },
  { frequency: { every: 2, unit: 'week', weekdays: ['mon', 'sun'] }, timezone: 'Australia/Lord_Howe', runAt: '01:45', anchor: '2027-03-28T14:45:00Z' },
  { frequency: { every: 1, unit: 'month', monthDay: -1 }, timezone: 'America/New_York', runAt: '23:30', anchor: '2027-01-01T05:00:00Z' },
] as const)('lists the slots the scheduler would run one after another ($frequency, $timezone)', (schedule) => {
  expect(upcoming({ ...schedule, after: schedule.anchor, count: 12 })).toEqual(walk(schedule, 12))
})

test('1000 yearly Feb 29 slots: Feb 28 in common years, Feb 29 in the 242 leap years', () => {
  const runs = upcoming({ frequency: 'yearly', timezone: 'UTC', after: '2028-02-29T09:00:00Z', count: 1000 })
  expect(runs).toHaveLength(1000)
  expect(runs.slice(0, 4)).toEqual(['2029-02-28T09:00:00.000Z', '2030-02-28T09:00:00.000Z', '2031-02-28T09:00:00.000Z', '2032-02-29T09:00:00.000Z'])
  expect(runs).toContain('2100-02-28T09:00:00.000Z')
  expect(runs).toContain('2400-02-29T09:00:00.000Z')
  expect(runs.at(-1)).toBe('3028-02-29T09:00:00.000Z')
  expect(runs.filter((r) => r.includes('-02-29T'))).toHaveLength(242)
})

test('is strictly after `after` and ignores the clock: a past `after` lists past slots', () => {
  expect(upcoming({ timezone: 'UTC', after: '2020-01-01T09:00:00Z', count: 2 }))
    .toEqual(['2020-01-02T09:00:00.000Z', '2020-01-03T09:00:00.000Z'])
})

describe('startsAt and endsAt', () => {
  test('no slot before startsAt; one exactly at it is listed', () => {
    expect(upcoming({ after: '2027-05-10T07:00:00Z', startsAt: '2027-06-01T07:00:00Z', count: 2 }))
      .toEqual(['2027-06-01T07:00:00.000Z', '2027-06-02T07:00:00.000Z'])
    expect(upcoming({ after: '2027-05-10T07:00:00Z', startsAt: '2027-06-01T07:00:00.001Z', count: 1 }))
      .toEqual(['2027-06-02T07:00:00.000Z'])
  })

  test('startsAt does not move the anchor\'s phase', () => {
    // Biweekly anchored on Monday May 10: Jun 7 and Jun 21 are in phase, Jun 14 is not.
    expect(upcoming({ frequency: 'biweekly', after: '2027-05-10T07:00:00Z', startsAt: '2027-06-08T00:00:00Z', count: 2 }))
      .toEqual(['2027-06-21T07:00:00.000Z', '2027-07-05T07:00:00.000Z'])
  })

  test('a startsAt before `after` changes nothing', () => {
    expect(upcoming({ after: '2027-05-10T07:00:00Z', startsAt: '2027-01-01T00:00:00Z', count: 1 }))
      .toEqual(['2027-05-11T07:00:00.000Z'])
  })

  test('no slot after endsAt; one exactly at it is listed; so fewer than count may come back', () => {
    expect(upcoming({ after: '2027-05-10T07:00:00Z', endsAt: '2027-05-13T07:00:00Z', count: 10 }))
      .toEqual(['2027-05-11T07:00:00.000Z', '2027-05-12T07:00:00.000Z', '2027-05-13T07:00:00.000Z'])
    expect(upcoming({ after: '2027-05-10T07:00:00Z', endsAt: '2027-05-13T06:59:59.999Z', count: 10 }))
      .toEqual(['2027-05-11T07:00:00.000Z', '2027-05-12T07:00:00.000Z'])
  })

  test('an ended window lists nothing', () => {
    expect(upcoming({ after: '2027-05-10T07:00:00Z', endsAt: '2027-05-01T00:00:00Z' })).toEqual([])
    expect(upcoming({ after: '2027-05-10T07:00:00Z', startsAt: '2027-06-01T00:00:00Z', endsAt: '2027-05-20T00:00:00Z' })).toEqual([])
  })
})

test('a host name, and an unknown name that runs daily and is reported once', () => {
  const frequencies = { fortnightly: { every: 2, unit: 'week' } } as const
  expect(upcoming({ frequency: 'fortnightly', frequencies, after: '2027-05-10T07:00:00Z', count: 2 }))
    .toEqual(['2027-05-24T07:00:00.000Z', '2027-06-07T07:00:00.000Z'])
  const reported: unknown[] = []
  expect(upcoming({ frequency: 'fortnighty', onUnknownFrequency: (f) => reported.push(f), after: '2027-05-10T07:00:00Z', count: 2 }))
    .toEqual(['2027-05-11T07:00:00.000Z', '2027-05-12T07:00:00.000Z'])
  expect(reported).toEqual(['fortnighty'])
})

describe('invalid input', () => {
  test.each([0, -1, 1.5, 1001, Number.NaN, Infinity, '3', undefined])('count %j throws a ConfigurationError on `count`', (count) => {
    const call = () => upcoming({ after: '2027-05-10T07:00:00Z', count: count as number })
    expect(call).toThrow(ConfigurationError)
    expect(call).toThrow(expect.objectContaining({ option: 'count' }))
    expect(call).toThrow(/is not a whole number from 1 to 1000; ask for fewer slots, e.g. count: 12\./)
  })

  test('count 1 and 1000 are accepted', () => {
    expect(upcoming({ after: '2027-05-10T07:00:00Z', count: 1 })).toEqual(['2027-05-11T07:00:00.000Z'])
    expect(upcoming({ after: '2027-05-10T07:00:00Z', count: 1000 })).toHaveLength(1000)
  })

  test('an invalid startsAt, endsAt, after or anchor throws a SubscriptionDataError naming it', () => {
    expect(() => upcoming({ after: '2027-05-10T07:00:00Z', startsAt: 'nope' }))
      .toThrow(new SubscriptionDataError('`startsAt` must be a valid Date, got Invalid Date.'))
    expect(() => upcoming({ after: '2027-05-10T07:00:00Z', endsAt: 'nope' })).toThrow(/`endsAt` must be a valid Date/)
    expect(() => upcoming({ after: 'nope' })).toThrow(/`after` must be a valid Date/)
    expect(() => upcoming({ after: '2027-05-10T07:00:00Z', anchor: 'nope' })).toThrow(/`anchor` must be a valid Date/)
  })

  test('an unknown zone, a malformed runAt and an invalid rule are reported as by computeNextRunAt', () => {
    expect(() => upcoming({ timezone: 'Europe/Berln', after: '2027-05-10T07:00:00Z' })).toThrow(SubscriptionDataError)
    expect(() => upcoming({ runAt: '9am', after: '2027-05-10T07:00:00Z' })).toThrow(expect.objectContaining({ option: 'runAt' }))
    expect(() => upcoming({ frequency: { every: 0, unit: 'day' }, after: '2027-05-10T07:00:00Z' }))
      .toThrow(expect.objectContaining({ option: 'frequency.every' }))
  })
})

test('years 0–99 are those years, not 1900–1999 (Date.UTC reads them so): monthly and yearly slots stay in them', () => {
  const runs = (frequency: string, anchor: string) =>
    upcomingRuns({ frequency, timezone: 'UTC', runAt: '09:00', anchor: new Date(anchor), after: new Date('0050-01-01T00:00:00Z'), count: 3 }).map((d) => d.toISOString())
  expect(runs('monthly', '0050-01-31T12:00:00Z')).toEqual(['0050-01-31T09:00:00.000Z', '0050-02-28T09:00:00.000Z', '0050-03-31T09:00:00.000Z'])
  expect(runs('yearly', '0050-01-01T12:00:00Z')).toEqual(['0050-01-01T09:00:00.000Z', '0051-01-01T09:00:00.000Z', '0052-01-01T09:00:00.000Z'])
  // Year 0 is a leap year (divisible by 400); 1900, which Date.UTC would have read, is not.
  const leap = upcomingRuns({ frequency: 'monthly', timezone: 'UTC', runAt: '09:00', anchor: new Date('0000-01-31T12:00:00Z'), after: new Date('0000-02-01T00:00:00Z'), count: 1 })
  expect(leap.map((d) => d.toISOString())).toEqual(['0000-02-29T09:00:00.000Z'])
})
