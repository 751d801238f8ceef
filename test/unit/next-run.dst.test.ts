import { DateTime } from 'luxon'
import { describe, expect, test } from 'vitest'
import { computeNextRunAt, type NextRunInput } from '../../src/schedule/next-run.js'

// computeNextRunAt in local calendars and around daylight-saving transitions; the rest is in
// next-run.test.ts.

type Input = Omit<Partial<NextRunInput>, 'after' | 'now' | 'anchor'> & {
  after: Date | string
  now?: Date | string
  anchor?: Date | string
}

/** Runs with `now` = `after` unless given, so no test depends on the real clock. */
function next({ now, anchor, ...input }: Input): string {
  const after = new Date(input.after)
  return computeNextRunAt({
    frequency: 'daily',
    timezone: 'UTC',
    runAt: '09:00',
    ...input,
    after,
    now: now === undefined ? after : new Date(now),
    ...(anchor === undefined ? {} : { anchor: new Date(anchor) }),
  }).toISOString()
}

/** Local 'yyyy-MM-dd HH:mm ZZ' of an ISO instant in `zone`, to make assertions readable. */
function local(iso: string, zone: string): string {
  return DateTime.fromISO(iso, { zone }).toFormat('yyyy-MM-dd HH:mm ZZ')
}

/** Successive runs, each computed from the previous one as the scheduler would. */
function walk(input: Omit<Input, 'after' | 'now'>, from: string, count: number): string[] {
  const runs: string[] = []
  let after = from
  for (let i = 0; i < count; i++) runs.push((after = next({ ...input, after })))
  return runs
}

describe('the zone\'s local calendar', () => {
  test('reads runAt as local wall time in the zone', () => {
    const result = next({ timezone: 'Europe/Berlin', after: '2027-05-10T06:00:00Z' })
    expect(result).toBe('2027-05-10T07:00:00.000Z')
    expect(local(result, 'Europe/Berlin')).toBe('2027-05-10 09:00 +02:00')
  })

  test('uses the local calendar day, not the UTC one', () => {
    // 2027-05-10T20:00Z is already 08:00 on May 11 in Auckland, so 09:00 that day is still ahead.
    const result = next({ timezone: 'Pacific/Auckland', after: '2027-05-10T20:00:00Z' })
    expect(local(result, 'Pacific/Auckland')).toBe('2027-05-11 09:00 +12:00')
  })

  test('takes the anchor\'s weekday from the zone\'s local calendar', () => {
    // Monday 23:30 UTC is already Tuesday 01:30 in Berlin: the subscription is a Tuesday one.
    const result = next({ frequency: 'weekly', timezone: 'Europe/Berlin', after: '2027-05-10T23:30:00Z' })
    expect(local(result, 'Europe/Berlin')).toBe('2027-05-11 09:00 +02:00')
    // Same for an explicit anchor: Sunday 20:00 UTC is Monday 08:00 in Auckland.
    const auckland = next({ frequency: 'weekly', timezone: 'Pacific/Auckland', anchor: '2027-05-09T20:00:00Z', after: '2027-05-12T00:00:00Z' })
    expect(local(auckland, 'Pacific/Auckland')).toBe('2027-05-17 09:00 +12:00')
  })

  test('takes the anchor\'s day from the zone\'s local calendar', () => {
    // Jan 31 09:00 in Auckland is still Jan 30 in UTC; the local day (31) is the one kept,
    // both for an explicit anchor and for the default (`after`).
    const auckland = { frequency: 'monthly', timezone: 'Pacific/Auckland' } as const
    const explicit = next({ ...auckland, anchor: '2027-01-30T20:00:00Z', after: '2027-02-27T20:00:00Z' })
    expect(local(explicit, 'Pacific/Auckland')).toBe('2027-03-31 09:00 +13:00')
    const byDefault = next({ ...auckland, after: '2027-01-30T20:00:00Z' })
    expect(local(byDefault, 'Pacific/Auckland')).toBe('2027-02-28 09:00 +13:00')
  })
})

describe('weekly across DST', () => {
  const berlinWeekly = { frequency: 'weekly', timezone: 'Europe/Berlin' } as const

  test('keeps weekday and wall time across spring-forward', () => {
    const result = next({ ...berlinWeekly, after: '2027-03-22T08:00:00Z' })
    expect(result).toBe('2027-03-29T07:00:00.000Z')
    expect(local(result, 'Europe/Berlin')).toBe('2027-03-29 09:00 +02:00')
  })

  test('keeps weekday and wall time across fall-back', () => {
    const result = next({ ...berlinWeekly, after: '2027-10-25T07:00:00Z' })
    expect(result).toBe('2027-11-01T08:00:00.000Z')
    expect(local(result, 'Europe/Berlin')).toBe('2027-11-01 09:00 +01:00')
  })

  test('keeps the anchor\'s weekday across DST when `after` is a manual run on another day', () => {
    // Anchor: Monday 2027-03-15 09:00 CET; manual run Wednesday Mar 24; next is Monday Mar 29 CEST.
    const result = next({ ...berlinWeekly, anchor: '2027-03-15T08:00:00Z', after: '2027-03-24T12:00:00Z' })
    expect(local(result, 'Europe/Berlin')).toBe('2027-03-29 09:00 +02:00')
  })

  test('runs on the DST day itself when that is the weekday', () => {
    // Sunday schedule at 02:30 in New York: the Sunday of the spring gap still gets one run.
    const anchor = '2027-03-07T07:30:00Z'
    const runs = walk({ frequency: 'weekly', timezone: 'America/New_York', runAt: '02:30', anchor }, anchor, 2)
    expect(runs.map((r) => local(r, 'America/New_York')))
      .toEqual(['2027-03-14 03:30 -04:00', '2027-03-21 02:30 -04:00'])
  })
})

describe('monthly across DST', () => {
  test('keeps the anchor day and wall time, and the anchor\'s offset does not leak in', () => {
    // Anchor Jan 31 09:00 CET; the Mar 31 slot is 09:00 CEST.
    const result = next({
      frequency: 'monthly', timezone: 'Europe/Berlin', anchor: '2027-01-31T08:00:00Z', after: '2027-02-28T08:00:00Z',
    })
    expect(result).toBe('2027-03-31T07:00:00.000Z')
  })
})

describe('DST in Europe/Berlin', () => {
  const berlin = { timezone: 'Europe/Berlin' } as const

  test('spring forward: 02:30 does not exist on 2027-03-28 and runs at 03:30 CEST', () => {
    const runs = walk({ ...berlin, frequency: 'daily', runAt: '02:30' }, '2027-03-27T01:30:00Z', 2)
    expect(runs).toEqual(['2027-03-28T01:30:00.000Z', '2027-03-29T00:30:00.000Z'])
    expect(runs.map((r) => local(r, 'Europe/Berlin')))
      .toEqual(['2027-03-28 03:30 +02:00', '2027-03-29 02:30 +02:00'])
  })

  test('spring forward: 09:00 switches from CET to CEST', () => {
    expect(walk({ ...berlin, frequency: 'daily', runAt: '09:00' }, '2027-03-27T08:00:00Z', 1))
      .toEqual(['2027-03-28T07:00:00.000Z'])
  })

  test('fall back: 02:30 happens twice on 2027-10-31 and the earlier (CEST) one is used once', () => {
    const runs = walk({ ...berlin, frequency: 'daily', runAt: '02:30' }, '2027-10-30T00:30:00Z', 2)
    expect(runs).toEqual(['2027-10-31T00:30:00.000Z', '2027-11-01T01:30:00.000Z'])
    expect(runs.map((r) => local(r, 'Europe/Berlin')))
      .toEqual(['2027-10-31 02:30 +02:00', '2027-11-01 02:30 +01:00'])
  })

  test('fall back: after the first 02:30 has passed, the repeat at 02:30 CET is not a second run', () => {
    expect(next({ ...berlin, runAt: '02:30', after: '2027-10-30T00:30:00Z', now: '2027-10-31T01:00:00Z' }))
      .toBe('2027-11-01T01:30:00.000Z')
  })

  test('fall back: 09:00 switches from CEST to CET', () => {
    expect(walk({ ...berlin, frequency: 'daily', runAt: '09:00' }, '2027-10-30T07:00:00Z', 1))
      .toEqual(['2027-10-31T08:00:00.000Z'])
  })
})

describe('DST in America/New_York', () => {
  const newYork = { timezone: 'America/New_York', frequency: 'daily' } as const

  test('spring forward: 02:30 does not exist on 2027-03-14 and runs at 03:30 EDT', () => {
    const runs = walk({ ...newYork, runAt: '02:30' }, '2027-03-13T07:30:00Z', 2)
    expect(runs).toEqual(['2027-03-14T07:30:00.000Z', '2027-03-15T06:30:00.000Z'])
    expect(runs.map((r) => local(r, 'America/New_York')))
      .toEqual(['2027-03-14 03:30 -04:00', '2027-03-15 02:30 -04:00'])
  })

  test('fall back: 02:30 on 2027-11-07 is unambiguous and runs at 02:30 EST', () => {
    const runs = walk({ ...newYork, runAt: '02:30' }, '2027-11-06T06:30:00Z', 2)
    expect(runs).toEqual(['2027-11-07T07:30:00.000Z', '2027-11-08T07:30:00.000Z'])
    expect(local(runs[0] ?? '', 'America/New_York')).toBe('2027-11-07 02:30 -05:00')
  })

  test('fall back: 01:30 happens twice on 2027-11-07 and the earlier (EDT) one is used once', () => {
    const runs = walk({ ...newYork, runAt: '01:30' }, '2027-11-06T05:30:00Z', 2)
    expect(runs).toEqual(['2027-11-07T05:30:00.000Z', '2027-11-08T06:30:00.000Z'])
  })
})

describe('a daily sequence walked across a DST transition', () => {
  const cases = [
    { timezone: 'Europe/Berlin', from: '2027-03-20T00:00:00Z', gapDay: '2027-03-28' },
    { timezone: 'Europe/Berlin', from: '2027-10-24T00:00:00Z', gapDay: undefined },
    { timezone: 'America/New_York', from: '2027-03-07T12:00:00Z', gapDay: '2027-03-14' },
    { timezone: 'America/New_York', from: '2027-10-31T12:00:00Z', gapDay: undefined },
  ]
  const times = ['00:00', '00:30', '01:00', '01:30', '02:00', '02:30', '02:59', '03:00', '03:30', '09:00', '23:30']

  test.each(cases)('$timezone from $from yields exactly one run per local day', ({ timezone, from, gapDay }) => {
    for (const runAt of times) {
      const runs = walk({ frequency: 'daily', timezone, runAt }, from, 14)
      const days = runs.map((r) => DateTime.fromISO(r, { zone: timezone }))
      const start = days[0]?.startOf('day')
      days.forEach((day, i) => {
        // Consecutive local dates: no day skipped, none run twice.
        expect(day.toISODate(), `${runAt} run ${i}`).toBe(start?.plus({ days: i }).toISODate())
        if (day.toFormat('HH:mm') !== runAt) {
          // Only a wall time inside the spring-forward gap may move, and only forward.
          expect(day.toISODate(), `${runAt} moved on ${day.toISO()}`).toBe(gapDay)
          expect(day.toFormat('HH:mm') > runAt).toBe(true)
        }
      })
    }
  })
})
