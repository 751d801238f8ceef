import { beforeEach, describe, expect, test } from 'vitest'
import { computeNextRunAt, type NextRunInput } from '../../src/schedule/next-run.js'
import { SlotMemo, sharedSlotMemo } from '../../src/schedule/slot-memo.js'

// The memo behind computeNextRunAt: exact whatever `now` is, keyed by everything else that
// changes the answer, and bounded.

describe('SlotMemo', () => {
  test('a window answers every threshold from `from` up to, not including, the slot', () => {
    const memo = new SlotMemo()
    expect(memo.lookup('k', 100)).toBeUndefined()
    memo.remember('k', 100, 200)
    expect([99, 100, 150, 199, 200, 250].map((t) => memo.lookup('k', t)))
      .toEqual([undefined, 200, 200, 200, undefined, undefined])
    expect(memo.lookup('other', 150)).toBeUndefined()
  })

  test('a new window replaces the key\'s old one; two windows ending at one slot join', () => {
    const memo = new SlotMemo()
    memo.remember('k', 100, 200)
    memo.remember('k', 200, 300)
    expect([150, 250].map((t) => memo.lookup('k', t))).toEqual([undefined, 300])
    memo.remember('k', 220, 300)
    expect(memo.lookup('k', 210)).toBe(300)
  })

  test('firstSlotAfter computes only on a miss, and counts both', () => {
    const memo = new SlotMemo()
    const computed: number[] = []
    const compute = (t: number) => (computed.push(t), t + 1000 - (t % 1000))
    expect([10, 500, 999, 1000, 1500].map((t) => memo.firstSlotAfter('k', t, compute))).toEqual([1000, 1000, 1000, 2000, 2000])
    expect(computed).toEqual([10, 1000])
    expect([memo.hits, memo.misses]).toEqual([3, 2])
  })

  test('holds at most maxEntries keys and evicts the least recently used', () => {
    const memo = new SlotMemo(2)
    memo.remember('a', 0, 10)
    memo.remember('b', 0, 10)
    expect(memo.lookup('a', 5)).toBe(10) // a is now the most recent
    memo.remember('c', 0, 10)
    expect(memo.size).toBe(2)
    expect([memo.lookup('a', 5), memo.lookup('b', 5), memo.lookup('c', 5)]).toEqual([10, undefined, 10])
  })
})

describe('computeNextRunAt through the shared memo', () => {
  beforeEach(() => sharedSlotMemo.clear())

  const base = { timezone: 'Europe/Berlin', runAt: '09:00' }
  const at = (input: Omit<NextRunInput, 'timezone' | 'runAt' | 'after' | 'now' | 'anchor'> & Partial<NextRunInput>, after: string, now: string, anchor?: string) =>
    computeNextRunAt({
      ...base,
      ...input,
      after: new Date(after),
      now: new Date(now),
      ...(anchor === undefined ? {} : { anchor: new Date(anchor) }),
    }).toISOString()

  test('a thousand rows settled moments apart after one slot compute it once', () => {
    const results = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const now = new Date(Date.parse('2027-05-10T07:00:00Z') + i * 37).toISOString()
      results.add(at({ frequency: 'weekly' }, '2027-05-10T07:00:00Z', now, '2027-03-01T08:00:00Z'))
    }
    expect([...results]).toEqual(['2027-05-17T07:00:00.000Z'])
    expect([sharedSlotMemo.misses, sharedSlotMemo.hits]).toEqual([1, 999])
  })

  test('`now` moving past the remembered slot, or back before it, still gets the exact answer', () => {
    const daily = { frequency: 'daily' }
    expect(at(daily, '2027-05-10T07:00:00Z', '2027-05-10T07:00:01Z')).toBe('2027-05-11T07:00:00.000Z')
    expect(at(daily, '2027-05-10T07:00:00Z', '2027-05-11T07:00:00Z')).toBe('2027-05-12T07:00:00.000Z')
    expect(at(daily, '2027-05-10T06:00:00Z', '2027-05-10T06:00:00Z')).toBe('2027-05-10T07:00:00.000Z')
    expect(at(daily, '2027-05-10T07:00:00Z', '2027-05-10T08:00:00Z')).toBe('2027-05-11T07:00:00.000Z')
  })

  test('the fall-back repeat of a wall time is not a second run, with the memo warm', () => {
    const early = { ...base, frequency: 'daily', runAt: '02:30' }
    expect(at(early, '2027-10-30T00:30:00Z', '2027-10-30T00:30:00Z')).toBe('2027-10-31T00:30:00.000Z') // 02:30 +02:00
    expect(at(early, '2027-10-31T00:30:00Z', '2027-10-31T01:00:00Z')).toBe('2027-11-01T01:30:00.000Z') // not 02:30 +01:00
  })

  test('what changes the answer is in the key: the anchor\'s phase, runAt, zone and the rule', () => {
    const after = '2027-05-10T07:00:00Z' // Monday 09:00 CEST
    // Biweekly anchored this week, then last week: the second must not reuse the first's slot.
    expect(at({ frequency: 'biweekly' }, after, after, '2027-05-10T07:00:00Z')).toBe('2027-05-24T07:00:00.000Z')
    expect(at({ frequency: 'biweekly' }, after, after, '2027-05-03T07:00:00Z')).toBe('2027-05-17T07:00:00.000Z')
    // Monthly anchored on the 31st, then the 30th, from the Apr 30 slot.
    expect(at({ frequency: 'monthly' }, '2027-04-30T07:00:00Z', '2027-04-30T07:00:00Z', '2027-01-31T08:00:00Z')).toBe('2027-05-31T07:00:00.000Z')
    expect(at({ frequency: 'monthly' }, '2027-04-30T07:00:00Z', '2027-04-30T07:00:00Z', '2027-01-30T08:00:00Z')).toBe('2027-05-30T07:00:00.000Z')
    // Every 3 days from two anchors a day apart.
    expect(at({ frequency: { every: 3, unit: 'day' } }, after, after, '2027-05-10T07:00:00Z')).toBe('2027-05-13T07:00:00.000Z')
    expect(at({ frequency: { every: 3, unit: 'day' } }, after, after, '2027-05-09T07:00:00Z')).toBe('2027-05-12T07:00:00.000Z')
    // Same name, another runAt, another zone, another host rule.
    expect(at({ frequency: 'daily', runAt: '10:15' }, after, after)).toBe('2027-05-10T08:15:00.000Z')
    expect(at({ frequency: 'daily', timezone: 'America/New_York' }, after, after)).toBe('2027-05-10T13:00:00.000Z')
    expect(at({ frequency: 'daily', frequencies: { daily: { every: 2, unit: 'day' } } }, after, after, after)).toBe('2027-05-12T07:00:00.000Z')
    expect(at({ frequency: 'daily' }, after, after)).toBe('2027-05-11T07:00:00.000Z')
  })

  test('stays bounded however many cadences pass through it', () => {
    for (let minute = 0; minute < 1440 * 2; minute += 1) {
      const runAt = `${Math.floor(minute / 60) % 24}:${String(minute % 60).padStart(2, '0')}`
      at({ frequency: minute < 1440 ? 'daily' : 'weekly', runAt }, '2027-05-10T07:00:00Z', '2027-05-10T07:00:00Z')
    }
    expect(sharedSlotMemo.size).toBe(1024)
  })
})
