/**
 * The instants the admin API and the CLI accept: a date, a time and a zone, nothing the server's
 * own zone could change the meaning of, and no impossible day rolled over into the next month.
 */
import { describe, expect, test } from 'vitest'
import { gotInstant, isoInstantFlaw, parseIsoInstant } from '../../src/schedule/iso-instant.js'

describe('parseIsoInstant', () => {
  test.each([
    ['2026-03-10T09:00:00Z', '2026-03-10T09:00:00.000Z'],
    ['2026-03-10T09:00Z', '2026-03-10T09:00:00.000Z'],
    ['2026-03-10T09:00:00.250Z', '2026-03-10T09:00:00.250Z'],
    ['2026-03-10T10:00:00+01:00', '2026-03-10T09:00:00.000Z'],
    ['2026-03-10T04:00:00-05:00', '2026-03-10T09:00:00.000Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    [' 2026-03-10T09:00:00Z ', '2026-03-10T09:00:00.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(parseIsoInstant(text)?.toISOString()).toBe(iso)
  })

  test.each([
    ['no zone: it would be read in the server\'s zone', '2026-03-10T09:00:00'],
    ['a date alone', '2026-03-10'],
    ['a day February does not have', '2026-02-30T00:00:00Z'],
    ['29 February of a common year', '2027-02-29T00:00:00Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['hour 24', '2026-03-10T24:00:00Z'],
    ['minute 60', '2026-03-10T09:60:00Z'],
    ['an offset past 23 hours', '2026-03-10T09:00:00+24:00'],
    ['words', 'tomorrow'],
    ['a number', 1773133200000],
    ['empty', ''],
    ['null', null],
  ])('refuses %s', (_, value) => {
    expect(parseIsoInstant(value)).toBeNull()
  })
})

describe('what a refusal says is wrong', () => {
  test.each([
    ['2026-02-30T00:00:00Z', '2026-02-30 is not a day of the calendar'],
    ['2026-13-01T00:00:00Z', '2026-13-01 is not a day of the calendar'],
    ['2026-03-10T24:00:00Z', '24:00:00 is not a time of day'],
    ['2026-03-10T09:00:60Z', '09:00:60 is not a time of day'],
    ['2026-03-10T09:00:00+25:00', '+25:00 is not a zone offset'],
  ])('%s: %s', (text, flaw) => {
    expect(isoInstantFlaw(text)).toBe(flaw)
    expect(gotInstant(text)).toBe(`; got "${text}": ${flaw}.`)
  })

  test('nothing to add for a valid instant, or for text of another shape (the message says the shape)', () => {
    expect(isoInstantFlaw('2026-03-10T09:00:00Z')).toBeNull()
    expect(isoInstantFlaw('2026-03-10T09:00:00')).toBeNull()
    expect(gotInstant('tomorrow')).toBe('; got "tomorrow".')
  })
})
