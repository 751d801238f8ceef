/** A run's fire-lateness percentiles, read back from its bucket counts and its largest lateness. */
import { describe, expect, test } from 'vitest'
import { latenessHistogram, latenessPercentile, latenessTally } from '../../src/records/lateness.js'

const percentiles = (values: number[]) => {
  const { counts, maxMs } = latenessTally(values)
  return { p50: latenessPercentile(counts, 0.5, maxMs), p95: latenessPercentile(counts, 0.95, maxMs) }
}

describe('latenessPercentile', () => {
  test('a run of one call: every percentile is its lateness, not a point inside its bucket', () => {
    expect(percentiles([2_300])).toEqual({ p50: 2_300, p95: 2_300 })
  })

  test('a percentile whose rank is the last call is the largest lateness', () => {
    // Nearest rank: the 95th percentile of fewer than 20 calls is the slowest call; of 20, the 19th.
    expect(percentiles([3, 40, 70, 400, 1_700]).p95).toBe(1_700)
    expect(percentiles([...Array(18).fill(5), 7_000]).p95).toBe(7_000)
    expect(percentiles([...Array(19).fill(5), 7_000]).p95).toBeLessThanOrEqual(10)
  })

  test('an hour or more reads as an hour, whatever the rank: a backlog of days reads the same in its p50 and p95', () => {
    expect(percentiles([7_200_000])).toEqual({ p50: 3_600_000, p95: 3_600_000 })
    expect(percentiles([3_700_000, 86_400_000, 172_800_000, 259_200_000])).toEqual({ p50: 3_600_000, p95: 3_600_000 })
    expect(percentiles([5, 5, 5, 259_200_000]).p95).toBe(3_600_000)
  })

  test('below the last rank, interpolated inside its bucket and never past the largest lateness', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 + i) // 100–199 ms, all in the 100–250 bucket
    const { p50, p95 } = percentiles(values)
    expect(p50).toBe(175)
    expect(p95).toBe(199)
  })

  test('an empty run has none; without a known largest lateness the bucket estimate stands', () => {
    expect(latenessPercentile(latenessHistogram([]), 0.5, null)).toBeNull()
    expect(latenessPercentile(latenessHistogram([1_700]), 0.5)).toBe(1_750)
  })
})
