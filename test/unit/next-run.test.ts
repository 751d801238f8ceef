import { describe, expect, test, vi } from 'vitest'
import { ConfigurationError, SubscriptionDataError } from '../../src/errors.js'
import {
  computeNextRunAt,
  isKnownFrequency,
  isValidTimeZone,
  parseRunAt,
  type NextRunInput,
} from '../../src/schedule/next-run.js'

// Local-calendar and DST behaviour lives in next-run.dst.test.ts.

const DAY_MS = 86_400_000

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

/** Successive runs, each computed from the previous one as the scheduler would. */
function walk(input: Omit<Input, 'after' | 'now'>, from: string, count: number): string[] {
  const runs: string[] = []
  let after = from
  for (let i = 0; i < count; i++) runs.push((after = next({ ...input, after })))
  return runs
}

describe('daily', () => {
  test('runs later today when runAt has not passed yet', () => {
    expect(next({ after: '2027-05-10T08:00:00Z' })).toBe('2027-05-10T09:00:00.000Z')
  })

  test('runs tomorrow when runAt has already passed today', () => {
    expect(next({ after: '2027-05-10T10:00:00Z' })).toBe('2027-05-11T09:00:00.000Z')
  })

  test('is strictly after: a slot equal to `after` and `now` is not returned again', () => {
    expect(next({ after: '2027-05-10T09:00:00Z' })).toBe('2027-05-11T09:00:00.000Z')
  })

  test('accepts a single-digit hour', () => {
    expect(next({ runAt: '7:05', after: '2027-05-10T00:00:00Z' })).toBe('2027-05-10T07:05:00.000Z')
  })

  test('ignores the anchor', () => {
    expect(next({ after: '2027-05-12T10:00:00Z', anchor: '2027-01-31T09:00:00Z' })).toBe('2027-05-13T09:00:00.000Z')
  })
})

describe('strictly after both `after` and `now`', () => {
  test('after downtime there is no backlog: daily resumes at the next slot after now', () => {
    expect(next({ after: '2027-02-10T09:00:00Z', now: '2027-05-10T12:00:00Z' }))
      .toBe('2027-05-11T09:00:00.000Z')
  })

  test('after downtime weekly resumes on the next anchor weekday after now', () => {
    // Feb 10 2027 is a Wednesday; May 10 is a Monday, so the next Wednesday is May 12.
    expect(next({ frequency: 'weekly', after: '2027-02-10T09:00:00Z', now: '2027-05-10T12:00:00Z' }))
      .toBe('2027-05-12T09:00:00.000Z')
  })

  test('after downtime monthly resumes at the next anchor day after now', () => {
    expect(next({ frequency: 'monthly', after: '2027-02-10T09:00:00Z', now: '2027-05-10T12:00:00Z' }))
      .toBe('2027-06-10T09:00:00.000Z')
  })

  test('a later `after` than `now` wins', () => {
    expect(next({ after: '2027-05-10T09:00:00Z', now: '2027-05-01T00:00:00Z' }))
      .toBe('2027-05-11T09:00:00.000Z')
  })

  test('`now` exactly on a slot skips that slot', () => {
    expect(next({ after: '2027-05-01T09:00:00Z', now: '2027-05-10T09:00:00Z' }))
      .toBe('2027-05-11T09:00:00.000Z')
  })

  test('`now` defaults to the real current time', () => {
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
  const weekly = { frequency: 'weekly', timezone: 'UTC', runAt: '09:00' } as const

  test('keeps the anchor\'s weekday', () => {
    // 2027-05-10 is a Monday.
    expect(walk({ ...weekly, anchor: '2027-05-10T09:00:00Z' }, '2027-05-10T09:00:00Z', 3))
      .toEqual(['2027-05-17T09:00:00.000Z', '2027-05-24T09:00:00.000Z', '2027-05-31T09:00:00.000Z'])
  })

  test('a manual run on another weekday does not move the schedule: Monday anchor, Wednesday after', () => {
    expect(next({ ...weekly, anchor: '2027-05-10T09:00:00Z', after: '2027-05-12T14:00:00Z' }))
      .toBe('2027-05-17T09:00:00.000Z')
  })

  test('anchor defaults to `after`: its weekday is kept', () => {
    expect(next({ ...weekly, after: '2027-05-12T14:00:00Z' })).toBe('2027-05-19T09:00:00.000Z')
  })

})

describe('monthly', () => {
  const monthly31 = { frequency: 'monthly', timezone: 'UTC', runAt: '09:00', anchor: '2027-01-31T09:00:00Z' } as const

  test('anchor on the 31st clamps to Feb 28 and returns to the 31st afterwards', () => {
    expect(walk(monthly31, '2027-01-31T09:00:00Z', 4)).toEqual([
      '2027-02-28T09:00:00.000Z',
      '2027-03-31T09:00:00.000Z',
      '2027-04-30T09:00:00.000Z',
      '2027-05-31T09:00:00.000Z',
    ])
  })

  test('anchor on the 31st clamps to Feb 29 in a leap year', () => {
    expect(walk(monthly31, '2028-01-31T09:00:00Z', 2))
      .toEqual(['2028-02-29T09:00:00.000Z', '2028-03-31T09:00:00.000Z'])
  })

  test('anchor on the 31st and `after` = the Feb 28 slot gives Mar 31', () => {
    expect(next({ ...monthly31, after: '2027-02-28T09:00:00Z' })).toBe('2027-03-31T09:00:00.000Z')
  })

  test('Jan 31 plus one month is never early March', () => {
    expect(next({ frequency: 'monthly', after: '2027-01-31T09:00:00Z' })).toBe('2027-02-28T09:00:00.000Z')
  })

  test('anchor on the 30th clamps in February and returns to the 30th in March', () => {
    expect(walk({ ...monthly31, anchor: '2027-01-30T09:00:00Z' }, '2027-01-30T09:00:00Z', 2))
      .toEqual(['2027-02-28T09:00:00.000Z', '2027-03-30T09:00:00.000Z'])
  })

  test('rolls over from December into January of the next year', () => {
    expect(next({ ...monthly31, after: '2027-12-31T09:00:00Z' })).toBe('2028-01-31T09:00:00.000Z')
    expect(next({ frequency: 'monthly', after: '2027-12-15T09:00:00Z' })).toBe('2028-01-15T09:00:00.000Z')
  })

  test('anchor defaults to `after`, so a clamped Feb 28 slot would then stick to the 28th', () => {
    expect(next({ frequency: 'monthly', after: '2027-02-28T09:00:00Z' })).toBe('2027-03-28T09:00:00.000Z')
  })

  test('an anchor day earlier in the month than `after` moves to next month', () => {
    expect(next({ ...monthly31, anchor: '2027-05-05T09:00:00Z', after: '2027-05-20T09:00:00Z' }))
      .toBe('2027-06-05T09:00:00.000Z')
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
      now: new Date('2027-05-10T09:00:00Z'),
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
      expect(call).toThrow(expect.objectContaining({ option: 'runAt' }))
    },
  )

  test('an Invalid Date for `after`, `now` or `anchor` throws a SubscriptionDataError naming it', () => {
    const base = { frequency: 'monthly', timezone: 'UTC', runAt: '09:00' }
    const valid = new Date('2027-05-10T09:00:00Z')
    expect(() => computeNextRunAt({ ...base, after: new Date('nope'), now: valid }))
      .toThrow(new SubscriptionDataError('`after` must be a valid Date, got Invalid Date.'))
    expect(() => computeNextRunAt({ ...base, after: valid, now: new Date(Number.NaN) }))
      .toThrow(/`now` must be a valid Date/)
    expect(() => computeNextRunAt({ ...base, after: valid, now: valid, anchor: new Date('nope') }))
      .toThrow(new SubscriptionDataError('`anchor` must be a valid Date, got Invalid Date.'))
    expect(() => computeNextRunAt({ ...base, after: '2027-05-10' as unknown as Date, now: valid }))
      .toThrow(SubscriptionDataError)
    expect(() => computeNextRunAt({ ...base, after: valid, anchor: 31 as unknown as Date }))
      .toThrow(/`anchor` must be a valid Date, got 31/)
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

describe('at the end of time', () => {
  test('a slot past the last instant a Date holds is a RangeError naming that instant, not a "please report" bug', () => {
    const after = new Date('+275760-09-12T00:00:00Z')
    for (const frequency of ['monthly', 'yearly']) {
      expect(() => computeNextRunAt({ frequency, timezone: 'UTC', runAt: '09:00', after, now: after })).toThrow(RangeError)
      expect(() => computeNextRunAt({ frequency, timezone: 'UTC', runAt: '09:00', after, now: after })).toThrow(/past \+275760-09-13T00:00:00\.000Z, the last instant a JavaScript Date holds/)
    }
  })
})
