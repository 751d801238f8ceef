import { DateTime } from 'luxon'
import { describe, expect, test, vi } from 'vitest'
import { ConfigurationError, SubscriptionDataError } from '../src/errors.js'
import {
  computeNextRunAt,
  isKnownFrequency,
  isValidTimeZone,
  parseRunAt,
  type NextRunInput,
} from '../src/next-run.js'

const DAY_MS = 86_400_000

/** Runs with `anchor` = `after` unless given, so no test depends on the real clock. */
function next(input: Omit<Partial<NextRunInput>, 'after' | 'anchor'> & { after: Date | string; anchor?: Date | string }): string {
  const after = new Date(input.after)
  const anchor = input.anchor === undefined ? after : new Date(input.anchor)
  return computeNextRunAt({
    frequency: 'daily',
    timezone: 'UTC',
    runAt: '09:00',
    ...input,
    after,
    anchor,
  }).toISOString()
}

/** Local 'yyyy-MM-dd HH:mm ZZ' of an ISO instant in `zone`, to make assertions readable. */
function local(iso: string, zone: string): string {
  return DateTime.fromISO(iso, { zone }).toFormat('yyyy-MM-dd HH:mm ZZ')
}

/** Successive runs, each computed from the previous one as the scheduler would. */
function walk(input: Omit<NextRunInput, 'after' | 'anchor'>, from: string, count: number): string[] {
  const runs: string[] = []
  let after = from
  for (let i = 0; i < count; i++) {
    after = next({ ...input, after })
    runs.push(after)
  }
  return runs
}

describe('daily', () => {
  test('runs later today when runAt has not passed yet', () => {
    expect(next({ after: '2027-05-10T08:00:00Z' })).toBe('2027-05-10T09:00:00.000Z')
  })

  test('runs tomorrow when runAt has already passed today', () => {
    expect(next({ after: '2027-05-10T10:00:00Z' })).toBe('2027-05-11T09:00:00.000Z')
  })

  test('is strictly after: a slot equal to `after` and `anchor` is not returned again', () => {
    expect(next({ after: '2027-05-10T09:00:00Z' })).toBe('2027-05-11T09:00:00.000Z')
  })

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

  test('accepts a single-digit hour', () => {
    expect(next({ runAt: '7:05', after: '2027-05-10T00:00:00Z' })).toBe('2027-05-10T07:05:00.000Z')
  })
})

describe('strictly after both `after` and `anchor`', () => {
  test('after downtime there is no backlog: daily resumes at the next slot after now', () => {
    expect(next({ after: '2027-02-10T09:00:00Z', anchor: '2027-05-10T12:00:00Z' }))
      .toBe('2027-05-11T09:00:00.000Z')
  })

  test('after downtime weekly resumes on the next matching weekday after now', () => {
    // Feb 10 2027 is a Wednesday; May 10 is a Monday, so the next Wednesday is May 12.
    expect(next({ frequency: 'weekly', after: '2027-02-10T09:00:00Z', anchor: '2027-05-10T12:00:00Z' }))
      .toBe('2027-05-12T09:00:00.000Z')
  })

  test('after downtime monthly resumes at the next anchor day after now', () => {
    expect(next({ frequency: 'monthly', after: '2027-02-10T09:00:00Z', anchor: '2027-05-10T12:00:00Z' }))
      .toBe('2027-06-10T09:00:00.000Z')
  })

  test('a later `after` than `anchor` wins', () => {
    expect(next({ after: '2027-05-10T09:00:00Z', anchor: '2027-05-01T00:00:00Z' }))
      .toBe('2027-05-11T09:00:00.000Z')
  })

  test('anchor exactly on a slot skips that slot', () => {
    expect(next({ after: '2027-05-01T09:00:00Z', anchor: '2027-05-10T09:00:00Z' }))
      .toBe('2027-05-11T09:00:00.000Z')
  })

  test('anchor defaults to the real current time', () => {
    const before = Date.now()
    const result = computeNextRunAt({
      frequency: 'daily', timezone: 'UTC', runAt: '09:00', after: new Date(before - 90 * DAY_MS),
    })
    expect(result.getTime()).toBeGreaterThan(before)
    expect(result.getTime()).toBeLessThanOrEqual(Date.now() + DAY_MS)
    expect(result.toISOString()).toMatch(/T09:00:00\.000Z$/)
  })
})

describe('weekly', () => {
  test('keeps the weekday of `after`', () => {
    expect(walk({ frequency: 'weekly', timezone: 'UTC', runAt: '09:00' }, '2027-05-10T09:00:00Z', 3))
      .toEqual(['2027-05-17T09:00:00.000Z', '2027-05-24T09:00:00.000Z', '2027-05-31T09:00:00.000Z'])
  })

  test('takes the weekday from the zone\'s local calendar', () => {
    // Monday 23:30 UTC is already Tuesday 01:30 in Berlin: the subscription is a Tuesday one.
    const result = next({ frequency: 'weekly', timezone: 'Europe/Berlin', after: '2027-05-10T23:30:00Z' })
    expect(local(result, 'Europe/Berlin')).toBe('2027-05-11 09:00 +02:00')
  })

  test('keeps weekday and wall time across spring-forward', () => {
    const result = next({ frequency: 'weekly', timezone: 'Europe/Berlin', after: '2027-03-22T08:00:00Z' })
    expect(result).toBe('2027-03-29T07:00:00.000Z')
    expect(local(result, 'Europe/Berlin')).toBe('2027-03-29 09:00 +02:00')
  })

  test('keeps weekday and wall time across fall-back', () => {
    const result = next({ frequency: 'weekly', timezone: 'Europe/Berlin', after: '2027-10-25T07:00:00Z' })
    expect(result).toBe('2027-11-01T08:00:00.000Z')
    expect(local(result, 'Europe/Berlin')).toBe('2027-11-01 09:00 +01:00')
  })

  test('runs on the DST day itself when that is the weekday', () => {
    // Sunday schedule at 02:30 in New York: the Sunday of the spring gap still gets one run.
    const runs = walk({ frequency: 'weekly', timezone: 'America/New_York', runAt: '02:30' }, '2027-03-07T07:30:00Z', 2)
    expect(runs.map((r) => local(r, 'America/New_York')))
      .toEqual(['2027-03-14 03:30 -04:00', '2027-03-21 02:30 -04:00'])
  })
})

describe('monthly', () => {
  const monthly31 = { frequency: 'monthly', timezone: 'UTC', runAt: '09:00', dayOfMonth: 31 } as const

  test('day 31 clamps to Feb 28 and returns to the 31st afterwards', () => {
    expect(walk(monthly31, '2027-01-31T09:00:00Z', 4)).toEqual([
      '2027-02-28T09:00:00.000Z',
      '2027-03-31T09:00:00.000Z',
      '2027-04-30T09:00:00.000Z',
      '2027-05-31T09:00:00.000Z',
    ])
  })

  test('day 31 clamps to Feb 29 in a leap year', () => {
    expect(walk(monthly31, '2028-01-31T09:00:00Z', 2))
      .toEqual(['2028-02-29T09:00:00.000Z', '2028-03-31T09:00:00.000Z'])
  })

  test('Jan 31 plus one month is never early March', () => {
    const result = next({ frequency: 'monthly', after: '2027-01-31T09:00:00Z' })
    expect(result).toBe('2027-02-28T09:00:00.000Z')
  })

  test('day 30 clamps in February and returns to the 30th in March', () => {
    expect(walk({ ...monthly31, dayOfMonth: 30 }, '2027-01-30T09:00:00Z', 2))
      .toEqual(['2027-02-28T09:00:00.000Z', '2027-03-30T09:00:00.000Z'])
  })

  test('rolls over from December into January of the next year', () => {
    expect(next({ ...monthly31, after: '2027-12-31T09:00:00Z' })).toBe('2028-01-31T09:00:00.000Z')
    expect(next({ frequency: 'monthly', after: '2027-12-15T09:00:00Z' })).toBe('2028-01-15T09:00:00.000Z')
  })

  test('without dayOfMonth, keeps the local day of `after`', () => {
    // Jan 31 09:00 in Auckland is still Jan 30 in UTC; the local day (31) is the one kept.
    const result = next({ frequency: 'monthly', timezone: 'Pacific/Auckland', after: '2027-01-30T20:00:00Z' })
    expect(local(result, 'Pacific/Auckland')).toBe('2027-02-28 09:00 +13:00')
  })

  test('dayOfMonth earlier in the month than `after` moves to next month', () => {
    expect(next({ ...monthly31, dayOfMonth: 5, after: '2027-05-20T09:00:00Z' })).toBe('2027-06-05T09:00:00.000Z')
  })

  test('rejects a dayOfMonth outside 1..31', () => {
    for (const dayOfMonth of [0, 32, 1.5, Number.NaN]) {
      expect(() => next({ ...monthly31, dayOfMonth, after: '2027-01-31T09:00:00Z' })).toThrow(SubscriptionDataError)
    }
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
    expect(next({ ...berlin, runAt: '02:30', after: '2027-10-30T00:30:00Z', anchor: '2027-10-31T01:00:00Z' }))
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

describe('unknown frequency', () => {
  test.each(['fortnightly', '', 'Weekly', null, undefined])('%j falls back to daily and reports it', (frequency) => {
    const reported: unknown[] = []
    const result = computeNextRunAt({
      frequency,
      timezone: 'UTC',
      runAt: '09:00',
      after: new Date('2027-05-10T09:00:00Z'),
      anchor: new Date('2027-05-10T09:00:00Z'),
      onUnknownFrequency: (value) => reported.push(value),
    })
    expect(result.toISOString()).toBe('2027-05-11T09:00:00.000Z')
    expect(reported).toEqual([frequency])
  })

  test('without a callback it emits a process warning instead of staying silent', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      expect(next({ frequency: 'hourly', after: '2027-05-10T10:00:00Z' })).toBe('2027-05-11T09:00:00.000Z')
      expect(spy).toHaveBeenCalledOnce()
      expect(String(spy.mock.calls[0]?.[0])).toContain('"hourly"')
    } finally {
      spy.mockRestore()
    }
  })

  test('a known frequency does not report anything', () => {
    const reported: unknown[] = []
    next({ frequency: 'weekly', after: '2027-05-10T09:00:00Z', onUnknownFrequency: (v) => reported.push(v) })
    expect(reported).toEqual([])
  })
})

describe('invalid input', () => {
  test.each(['Mars/Olympus', 'Europe/Berln', ''])('time zone %j throws a SubscriptionDataError naming it', (timezone) => {
    const call = () => next({ timezone, after: '2027-05-10T09:00:00Z' })
    expect(call).toThrow(SubscriptionDataError)
    expect(call).toThrow(JSON.stringify(timezone))
    expect(call).toThrow(/IANA.*'Europe\/Berlin'/)
  })

  test.each(['9am', '24:00', '09:60', '0900', '09:00:00', ' 09:00', '', '-1:00'])(
    'runAt %j throws a ConfigurationError naming it and the HH:MM format',
    (runAt) => {
      const call = () => next({ runAt, after: '2027-05-10T09:00:00Z' })
      expect(call).toThrow(ConfigurationError)
      expect(call).toThrow(JSON.stringify(runAt))
      expect(call).toThrow(/'HH:MM'/)
      try {
        call()
      } catch (error) {
        expect((error as ConfigurationError).option).toBe('runAt')
      }
    },
  )

  test('an Invalid Date for `after` or `anchor` throws a SubscriptionDataError', () => {
    const base = { frequency: 'daily', timezone: 'UTC', runAt: '09:00' }
    const valid = new Date('2027-05-10T09:00:00Z')
    expect(() => computeNextRunAt({ ...base, after: new Date('nope'), anchor: valid }))
      .toThrow(new SubscriptionDataError('`after` must be a valid Date, got Invalid Date.'))
    expect(() => computeNextRunAt({ ...base, after: valid, anchor: new Date(Number.NaN) }))
      .toThrow(/`anchor` must be a valid Date/)
    expect(() => computeNextRunAt({ ...base, after: '2027-05-10' as unknown as Date, anchor: valid }))
      .toThrow(SubscriptionDataError)
  })
})

describe('helpers', () => {
  test('parseRunAt accepts H:MM and HH:MM across the whole day', () => {
    expect(parseRunAt('00:00')).toEqual({ hour: 0, minute: 0 })
    expect(parseRunAt('9:05')).toEqual({ hour: 9, minute: 5 })
    expect(parseRunAt('23:59')).toEqual({ hour: 23, minute: 59 })
  })

  test('isKnownFrequency is exact', () => {
    expect(['daily', 'weekly', 'monthly'].every(isKnownFrequency)).toBe(true)
    expect([null, undefined, '', 'Daily', 'hourly', 7].some(isKnownFrequency)).toBe(false)
  })

  test('isValidTimeZone accepts IANA names and rejects unknown ones', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true)
    expect(isValidTimeZone('UTC')).toBe(true)
    expect(isValidTimeZone('Mars/Olympus')).toBe(false)
    expect(isValidTimeZone('')).toBe(false)
  })
})
