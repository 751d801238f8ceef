/**
 * How the CLI writes a time: the wall time in the subscription's zone with its offset, which
 * must name the same instant (the flags take it back), across DST changes.
 */
import { describe, expect, test } from 'vitest'
import { instantsInZone, isoInZone, timeInZone } from '../../src/cli/zoned-time.js'
import { parseIsoInstant } from '../../src/schedule/iso-instant.js'

describe('isoInZone', () => {
  test.each([
    ['2026-03-03T06:30:00.000Z', 'Europe/Berlin', '2026-03-03T07:30:00+01:00'],
    ['2026-07-03T05:30:00.000Z', 'Europe/Berlin', '2026-07-03T07:30:00+02:00'],
    ['2026-03-03T14:00:00.000Z', 'America/New_York', '2026-03-03T09:00:00-05:00'],
    ['2026-03-03T03:30:00.000Z', 'Asia/Kolkata', '2026-03-03T09:00:00+05:30'],
    ['2026-03-03T09:00:00.000Z', 'UTC', '2026-03-03T09:00:00Z'],
    ['2026-01-10T09:00:00.000Z', 'Europe/London', '2026-01-10T09:00:00Z'],
    // Midnight is 00, never 24.
    ['2026-03-02T23:00:00.000Z', 'Europe/Berlin', '2026-03-03T00:00:00+01:00'],
    // A slot taken at a sweep's time keeps its milliseconds, so it pastes back as the same instant.
    ['2026-12-01T06:12:47.282Z', 'UTC', '2026-12-01T06:12:47.282Z'],
    ['2026-12-01T06:12:47.005Z', 'Asia/Kolkata', '2026-12-01T11:42:47.005+05:30'],
  ])('%s in %s is %s', (iso, zone, expected) => {
    expect(isoInZone(new Date(iso), zone)).toBe(expected)
  })

  test('what it prints is the same instant, taken back by the flags', () => {
    // Each hour around the two DST changes of 2026 in Berlin.
    for (const start of ['2026-03-29T00:00:00Z', '2026-10-25T00:00:00Z']) {
      for (let h = 0; h < 4; h++) {
        const date = new Date(Date.parse(start) + h * 3_600_000)
        expect(parseIsoInstant(isoInZone(date, 'Europe/Berlin'))?.toISOString()).toBe(date.toISOString())
      }
    }
  })
})

test('timeInZone names the zone, and writes a missing time as a dash', () => {
  expect(timeInZone(new Date('2026-03-03T06:30:00Z'), 'Europe/Berlin')).toBe('2026-03-03T07:30:00+01:00 (Europe/Berlin)')
  expect(timeInZone(null, 'UTC')).toBe('—')
})

test('instantsInZone writes every UTC instant of a history line in the zone, and leaves the rest of its text alone', () => {
  expect(instantsInZone('next slot 2026-12-06T08:00:00.000Z', 'Europe/Berlin')).toBe('next slot 2026-12-06T09:00:00+01:00')
  expect(instantsInZone('by hand, before its pause ended (2026-07-01T00:00:00Z); from 2026-07-01T12:30:15.250Z', 'Asia/Kolkata'))
    .toBe('by hand, before its pause ended (2026-07-01T05:30:00+05:30); from 2026-07-01T18:00:15.250+05:30')
  expect(instantsInZone('runAt 07:30; timezone Asia/Tokyo', 'UTC')).toBe('runAt 07:30; timezone Asia/Tokyo')
  // Something shaped like an instant that is none is kept as written.
  expect(instantsInZone('until 2026-13-45T99:00:00Z', 'UTC')).toBe('until 2026-13-45T99:00:00Z')
})
