/**
 * `spreadMinutes`: each subscription's call starts at its slot plus a fixed offset inside the
 * window, drawn from a hash of its id, so every instance and every day agree on it.
 */

/** Where a subscription falls in a spread window of `windowMs`: FNV-1a of its id, finalised. */
export function spreadOffsetMs(subscriptionId: string, windowMs: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < subscriptionId.length; i++) {
    hash ^= subscriptionId.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  // murmur3's finaliser: ids that differ only in their last characters still land far apart.
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35)
  hash = (hash ^ (hash >>> 16)) >>> 0
  return Math.floor((hash / 0x1_0000_0000) * windowMs)
}

/** When a subscription's call for `slot` may start under a spread of `windowMs`. */
export function spreadStart(subscriptionId: string, slot: Date, windowMs: number): number {
  return slot.getTime() + (windowMs > 0 ? spreadOffsetMs(subscriptionId, windowMs) : 0)
}

/**
 * The width of the start-time buckets a spread page is split into: one job per bucket, started by
 * pg-boss at the bucket's beginning; each row then waits inside its job for its own start.
 */
export function spreadBucketMs(windowMs: number): number {
  return Math.min(30_000, Math.max(1_000, Math.round(windowMs / 120)))
}
