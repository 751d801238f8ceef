import { describe, expect, test } from 'vitest'
import { ConfigurationError } from '../../src/errors.js'
import {
  BUILT_IN_FREQUENCIES,
  isBuiltInFrequency,
  resolveFrequencies,
  validateFrequencyRule,
} from '../../src/schedule/frequency-rules.js'

// The host's `frequencies` option: merged over the built-ins, and every mistake reported with
// its option path, the value found and the fix.

describe('resolveFrequencies', () => {
  test('undefined and null give the built-ins', () => {
    expect(resolveFrequencies(undefined)).toBe(BUILT_IN_FREQUENCIES)
    expect(resolveFrequencies(null)).toBe(BUILT_IN_FREQUENCIES)
  })

  test('adds the host\'s names and overrides built-ins, keeping the rest', () => {
    const table = resolveFrequencies({
      fortnightly: { every: 2, unit: 'week' },
      weekly: { every: 1, unit: 'week', weekdays: ['mon', 'thu'] },
      'month end': { every: 1, unit: 'month', monthDay: -1 },
    })
    expect(table).toEqual({
      daily: { every: 1, unit: 'day' },
      weekly: { every: 1, unit: 'week', weekdays: ['mon', 'thu'] },
      biweekly: { every: 2, unit: 'week' },
      monthly: { every: 1, unit: 'month' },
      quarterly: { every: 3, unit: 'month' },
      yearly: { every: 1, unit: 'year' },
      fortnightly: { every: 2, unit: 'week' },
      'month end': { every: 1, unit: 'month', monthDay: -1 },
    })
  })

  test('the table, its rules and their weekdays are frozen copies, not the host\'s objects', () => {
    const weekdays = ['mon', 'fri'] as const
    const rule = { every: 1, unit: 'week' as const, weekdays: [...weekdays] }
    const table = resolveFrequencies({ twiceWeekly: rule })
    expect(table.twiceWeekly).not.toBe(rule)
    expect(Object.isFrozen(table)).toBe(true)
    expect(Object.isFrozen(table.twiceWeekly)).toBe(true)
    expect(Object.isFrozen(table.twiceWeekly?.weekdays)).toBe(true)
    rule.weekdays.push('sat' as never)
    expect(table.twiceWeekly?.weekdays).toEqual(['mon', 'fri'])
  })

  test('a name such as __proto__ from parsed JSON stays an ordinary entry', () => {
    const table = resolveFrequencies(JSON.parse('{"__proto__": {"every": 2, "unit": "week"}}'))
    expect(Object.getPrototypeOf(table)).toBe(Object.prototype)
    expect(Object.hasOwn(table, '__proto__')).toBe(true)
    expect(Object.getOwnPropertyDescriptor(table, '__proto__')?.value).toEqual({ every: 2, unit: 'week' })
  })

  test('a resolved rule passes validation again unchanged (it is reused, not copied)', () => {
    const table = resolveFrequencies({ fortnightly: { every: 2, unit: 'week' } })
    expect(validateFrequencyRule(table.fortnightly, 'frequencies.fortnightly')).toBe(table.fortnightly)
    expect(resolveFrequencies(table).fortnightly).toBe(table.fortnightly)
  })

  test.each([
    ['an array', [{ every: 1, unit: 'day' }], '[{"every":1,"unit":"day"}]'],
    ['a string', 'weekly', '"weekly"'],
    ['a number', 7, '7'],
    ['a Map', new Map(), '[object Map]'],
    ['a BigInt (shown as written, not as a valid-looking 2)', 2n, '2n'],
  ])('%s instead of an object is reported on `frequencies`', (_, value, shown) => {
    const call = () => resolveFrequencies(value)
    expect(call).toThrow(ConfigurationError)
    expect(call).toThrow(expect.objectContaining({ option: 'frequencies' }))
    expect(call).toThrow(`got ${shown}`)
    expect(call).toThrow(/\{ fortnightly: \{ every: 2, unit: 'week' \} \}/)
  })
})

describe('invalid rules', () => {
  // [what, frequencies, option path, the message's part naming the value and the fix]
  const cases: [string, unknown, string, RegExp][] = [
    ['every 0', { fortnightly: { every: 0, unit: 'week' } }, 'frequencies.fortnightly.every', /^Invalid option `frequencies\.fortnightly\.every`: 0 is not a whole number from 1 to 1000; .*every: 2/],
    ['every 1.5', { f: { every: 1.5, unit: 'week' } }, 'frequencies.f.every', /1\.5 is not a whole number from 1 to 1000/],
    ['every -2', { f: { every: -2, unit: 'day' } }, 'frequencies.f.every', /-2 is not a whole number/],
    ['every as a string', { f: { every: '2', unit: 'week' } }, 'frequencies.f.every', /"2" is not a whole number/],
    ['every missing', { f: { unit: 'week' } }, 'frequencies.f.every', /undefined is not a whole number/],
    ['every 1001', { f: { every: 1001, unit: 'day' } }, 'frequencies.f.every', /1001 is not a whole number from 1 to 1000/],
    ['every NaN', { f: { every: Number.NaN, unit: 'day' } }, 'frequencies.f.every', /NaN is not a whole number/],
    ['a plural unit', { f: { every: 2, unit: 'weeks' } }, 'frequencies.f.unit', /"weeks" is not a unit; use 'day', 'week', 'month' or 'year'/],
    ['unit missing', { f: { every: 2 } }, 'frequencies.f.unit', /undefined is not a unit/],
    ['weekdays with unit month', { f: { every: 1, unit: 'month', weekdays: ['mon'] } }, 'frequencies.f.weekdays', /weekdays only apply to unit 'week', not 'month'; use \{ every: 1, unit: 'week'/],
    ['weekdays with unit day', { f: { every: 1, unit: 'day', weekdays: ['mon'] } }, 'frequencies.f.weekdays', /only apply to unit 'week', not 'day'/],
    ['empty weekdays', { f: { every: 1, unit: 'week', weekdays: [] } }, 'frequencies.f.weekdays', /non-empty list of days such as \['mon', 'wed', 'fri'\], got \[\]/],
    ['weekdays as a string', { f: { every: 1, unit: 'week', weekdays: 'mon' } }, 'frequencies.f.weekdays', /non-empty list .* got "mon"/],
    ['a capitalised weekday', { f: { every: 1, unit: 'week', weekdays: ['mon', 'Tue'] } }, 'frequencies.f.weekdays', /"Tue" is not a weekday; use 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'/],
    ['a full weekday name', { f: { every: 1, unit: 'week', weekdays: ['monday'] } }, 'frequencies.f.weekdays', /"monday" is not a weekday/],
    ['a duplicate weekday', { f: { every: 1, unit: 'week', weekdays: ['mon', 'fri', 'mon'] } }, 'frequencies.f.weekdays', /"mon" is listed twice; list each weekday once/],
    ['monthDay 0', { f: { every: 1, unit: 'month', monthDay: 0 } }, 'frequencies.f.monthDay', /0 is not a day of month; use 1–31 \(clamped to shorter months\) or -1 for the last day/],
    ['monthDay 32', { f: { every: 1, unit: 'month', monthDay: 32 } }, 'frequencies.f.monthDay', /32 is not a day of month/],
    ['monthDay -2', { f: { every: 1, unit: 'month', monthDay: -2 } }, 'frequencies.f.monthDay', /-2 is not a day of month/],
    ['monthDay 15.5', { f: { every: 1, unit: 'month', monthDay: 15.5 } }, 'frequencies.f.monthDay', /15\.5 is not a day of month/],
    ['monthDay as a string', { f: { every: 1, unit: 'month', monthDay: 'last' } }, 'frequencies.f.monthDay', /"last" is not a day of month/],
    ['monthDay with unit year', { f: { every: 1, unit: 'year', monthDay: 1 } }, 'frequencies.f.monthDay', /monthDay only applies to unit 'month', not 'year' \(a yearly cadence keeps the anchor's month and day\); use \{ every: 1, unit: 'month', monthDay: 15 \} or drop monthDay/],
    ['monthDay with unit week', { f: { every: 1, unit: 'week', monthDay: 1 } }, 'frequencies.f.monthDay', /only applies to unit 'month', not 'week'; use/],
    ['an unknown key', { f: { every: 1, unit: 'month', dayOfMonth: 1 } }, 'frequencies.f.dayOfMonth', /"dayOfMonth" is not a rule field; use only every, unit, weekdays, monthDay, weekday and nth/],
    ['weekday without nth', { f: { every: 1, unit: 'month', weekday: 'mon' } }, 'frequencies.f.nth', /is missing: say which Monday of the month, 1 to 4 for the first to the fourth, or -1 for the last/],
    ['nth without weekday', { f: { every: 1, unit: 'month', nth: 1 } }, 'frequencies.f.weekday', /is missing: nth says which one of the month, weekday which day \(one of 'mon'/],
    ['a fifth weekday', { f: { every: 1, unit: 'month', weekday: 'fri', nth: 5 } }, 'frequencies.f.nth', /5 is not 1, 2, 3, 4 or -1; say which Friday of the month.*not every month has a fifth/],
    ['nth 0', { f: { every: 1, unit: 'month', weekday: 'fri', nth: 0 } }, 'frequencies.f.nth', /0 is not 1, 2, 3, 4 or -1/],
    ['a full weekday name with nth', { f: { every: 1, unit: 'month', weekday: 'friday', nth: 1 } }, 'frequencies.f.weekday', /"friday" is not a weekday/],
    ['weekday and nth with unit week', { f: { every: 1, unit: 'week', weekday: 'mon', nth: 1 } }, 'frequencies.f.weekday', /weekday and nth only apply to unit 'month', not 'week'.*or weekdays with unit 'week'/],
    ['monthDay with weekday and nth', { f: { every: 1, unit: 'month', monthDay: 1, weekday: 'mon', nth: 1 } }, 'frequencies.f.monthDay', /give either monthDay \(a day of month\) or weekday and nth/],
    ['a rule that is a name', { f: 'weekly' }, 'frequencies.f', /expected a rule such as \{ every: 2, unit: 'week' \}, got "weekly"/],
    ['a null rule', { f: null }, 'frequencies.f', /got null/],
    ['a name that is not an identifier', { 'every 2 weeks': { every: 0, unit: 'week' } }, 'frequencies["every 2 weeks"].every', /0 is not a whole number/],
    ['an empty name', { '': { every: 1, unit: 'day' } }, 'frequencies', /the name "" is empty; use the exact value of the `frequency` column, e.g. 'fortnightly'/],
    ['a blank name', { '  ': { every: 1, unit: 'day' } }, 'frequencies', /the name "  " is empty/],
    ['a padded name', { ' weekly': { every: 1, unit: 'week' } }, 'frequencies', /the name " weekly" is padded with whitespace/],
  ]

  test.each(cases)('%s: a ConfigurationError on %#', (_, frequencies, option, message) => {
    const call = () => resolveFrequencies(frequencies)
    expect(call).toThrow(ConfigurationError)
    expect(call).toThrow(expect.objectContaining({ option, code: 'CONFIGURATION' }))
    expect(call).toThrow(message)
  })

  test('validateFrequencyRule reports against the path it is given', () => {
    expect(() => validateFrequencyRule({ every: 2, unit: 'fortnight' }, 'frequency'))
      .toThrow(expect.objectContaining({ option: 'frequency.unit' }))
  })

  test('every valid shape is accepted and normalised to the known fields', () => {
    expect(resolveFrequencies({
      a: { every: 1000, unit: 'day' },
      b: { every: 3, unit: 'week', weekdays: ['sun', 'mon'] },
      c: { every: 6, unit: 'month', monthDay: -1 },
      d: { every: 1, unit: 'month', monthDay: 31 },
      e: { every: 2, unit: 'year' },
      f: { every: 1, unit: 'week', weekdays: undefined },
      g: { every: 1, unit: 'month', weekday: 'fri', nth: -1 },
    })).toMatchObject({
      g: { every: 1, unit: 'month', weekday: 'fri', nth: -1 },
      a: { every: 1000, unit: 'day' },
      b: { every: 3, unit: 'week', weekdays: ['sun', 'mon'] },
      c: { every: 6, unit: 'month', monthDay: -1 },
      d: { every: 1, unit: 'month', monthDay: 31 },
      e: { every: 2, unit: 'year' },
      f: { every: 1, unit: 'week' },
    })
  })
})

test('isBuiltInFrequency is exact and ignores inherited names', () => {
  expect(['daily', 'weekly', 'biweekly', 'monthly', 'quarterly', 'yearly'].every(isBuiltInFrequency)).toBe(true)
  expect(['Weekly', 'fortnightly', '', 'toString', 'constructor', null, 7].some(isBuiltInFrequency)).toBe(false)
})
