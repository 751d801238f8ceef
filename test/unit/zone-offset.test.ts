/**
 * Remembered offsets answer exactly what luxon answers, around every kind of change: DST in
 * Berlin and New York, Lord Howe's half-hour shift, and offsets that are not whole hours.
 */
import { IANAZone } from 'luxon'
import { describe, expect, test } from 'vitest'
import { zoneOffset } from '../../src/schedule/zone-offset.js'

const MINUTE = 60_000

describe('zoneOffset', () => {
  test.each([
    ['Europe/Berlin', '2027-03-28T00:00:00Z', '2027-10-31T00:00:00Z'],
    ['America/New_York', '2027-03-14T05:00:00Z', '2027-11-07T04:00:00Z'],
    ['Australia/Lord_Howe', '2027-04-03T14:00:00Z', '2027-10-02T15:00:00Z'],
    ['Asia/Kathmandu', '1985-12-31T18:00:00Z', '2027-01-01T00:00:00Z'],
    ['Pacific/Chatham', '2027-04-03T13:00:00Z', '2027-09-25T13:00:00Z'],
  ])('%s: every minute (and some odd seconds) around its changes, asked twice', (name, ...changes) => {
    const zone = IANAZone.create(name)
    for (const change of changes) {
      const at = Date.parse(change)
      for (let t = at - 3 * 3600_000; t <= at + 3 * 3600_000; t += MINUTE + 7_919) {
        expect(zoneOffset(zone, t), new Date(t).toISOString()).toBe(zone.offset(t))
        expect(zoneOffset(zone, t), new Date(t).toISOString()).toBe(zone.offset(t))
      }
    }
  })

  test('zones with the same instants do not share answers', () => {
    const t = Date.parse('2027-07-01T12:00:00Z')
    expect(zoneOffset(IANAZone.create('Europe/Berlin'), t)).toBe(120)
    expect(zoneOffset(IANAZone.create('America/New_York'), t)).toBe(-240)
  })
})
