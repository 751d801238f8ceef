/**
 * Fire lateness per run: how long after its slot each call started. A run counts its calls in
 * fixed buckets (an integer array on its row, added to by every settle), so percentiles cost no
 * per-call storage; they are read back interpolated within their bucket.
 */

/** Upper bounds of the buckets, in ms; the last bucket holds everything above the last bound. */
export const LATENESS_BOUNDS_MS = [
  10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
] as const

export const LATENESS_BUCKETS = LATENESS_BOUNDS_MS.length + 1

/** Where the open last bucket starts: a percentile reads no more than this. */
const OPEN_FROM_MS = Math.max(...LATENESS_BOUNDS_MS)

/** The bucket of one call's lateness; a call made ahead of its slot counts as on time. */
export function latenessBucket(latenessMs: number): number {
  const index = LATENESS_BOUNDS_MS.findIndex((bound) => latenessMs < bound)
  return index === -1 ? LATENESS_BOUNDS_MS.length : index
}

/** Largest lateness a run row stores (its column is an integer): 24.8 days. */
const MAX_STORED_MS = 2_147_483_647

/** What a settle adds to a run: counts per bucket, and the largest lateness among them. */
export interface LatenessTally {
  counts: number[]
  maxMs: number
}

export function latenessTally(latenessMs: readonly number[]): LatenessTally {
  let maxMs = 0
  for (const value of latenessMs) if (value > maxMs) maxMs = value
  return { counts: latenessHistogram(latenessMs), maxMs: Math.min(Math.round(maxMs), MAX_STORED_MS) }
}

/** Counts per bucket of a set of lateness values, for adding to a run's histogram. */
export function latenessHistogram(latenessMs: readonly number[]): number[] {
  const counts = new Array<number>(LATENESS_BUCKETS).fill(0)
  for (const value of latenessMs) counts[latenessBucket(value)]! += 1
  return counts
}

/**
 * The `p`-quantile (0–1) of a histogram, interpolated linearly inside its bucket, and never past
 * `maxMs`, the largest lateness counted (when known); the open last bucket answers its lower
 * bound. A quantile whose nearest rank is the last call is `maxMs` itself: a run of one call, or
 * the p95 of fewer than 20, reads the slowest call, not a point inside its bucket; an hour at
 * most, as every other. Null for an empty histogram.
 */
export function latenessPercentile(histogram: readonly number[], p: number, maxMs: number | null = null): number | null {
  const total = histogram.reduce((sum, n) => sum + n, 0)
  const estimate = bucketPercentile(histogram, p, total)
  if (estimate === null || maxMs === null) return estimate
  // The small slack keeps a rank that is a whole number in exact arithmetic (0.95 × 20) from rounding up.
  // An hour or more reads as an hour, however many calls: the open last bucket tells no more for
  // the others, and a run's p95 must not read days where its p50 reads an hour.
  return Math.ceil(p * total - 1e-9) >= total ? Math.min(maxMs, OPEN_FROM_MS) : Math.min(estimate, maxMs)
}

function bucketPercentile(histogram: readonly number[], p: number, total: number): number | null {
  if (total === 0) return null
  const target = p * total
  let seen = 0
  for (let i = 0; i < histogram.length; i++) {
    const count = histogram[i] ?? 0
    if (count > 0 && seen + count >= target) {
      const lower = i === 0 ? 0 : LATENESS_BOUNDS_MS[i - 1]!
      const upper = LATENESS_BOUNDS_MS[i]
      if (upper === undefined) return lower
      return Math.round(lower + ((target - seen) / count) * (upper - lower))
    }
    seen += count
  }
  return LATENESS_BOUNDS_MS.at(-1)!
}
