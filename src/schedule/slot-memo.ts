/**
 * A small bounded memo for next-slot computation. Thousands of rows share one cadence, zone and
 * runAt and are settled moments apart, so they all ask for the same next slot.
 *
 * An entry remembers one computation: the first slot after `from` is `slot`. That answers every
 * later question "first slot after t" with `from <= t < slot` too: no slot lies between `from` and
 * `slot`. So `now` may move on between calls and the memo stays exact, and a `t` outside the
 * window is simply computed afresh.
 */

export interface SlotWindow {
  /** The threshold the slot was computed from. */
  readonly from: number
  /** The first slot strictly after `from`. */
  readonly slot: number
}

/** Least-recently-used eviction over a Map (which keeps insertion order). */
export class SlotMemo {
  readonly #entries = new Map<string, SlotWindow>()
  readonly #maxEntries: number
  hits = 0
  misses = 0

  /** @param maxEntries How many cadences (rule, phase, zone, runAt) to remember; default 1024. */
  constructor(maxEntries = 1024) {
    this.#maxEntries = Math.max(1, maxEntries)
  }

  get size(): number {
    return this.#entries.size
  }

  /** The first slot after `threshold`, if a remembered window for `key` covers it. */
  lookup(key: string, threshold: number): number | undefined {
    const entry = this.#entries.get(key)
    if (entry && entry.from <= threshold && threshold < entry.slot) {
      // Move to the back: the most recently used key is evicted last.
      this.#entries.delete(key)
      this.#entries.set(key, entry)
      this.hits++
      return entry.slot
    }
    this.misses++
    return undefined
  }

  /** Remembers that the first slot after `from` is `slot`, replacing the key's previous window. */
  remember(key: string, from: number, slot: number): void {
    const previous = this.#entries.get(key)
    // Two windows ending at the same slot join into one.
    if (previous?.slot === slot) from = Math.min(from, previous.from)
    this.#entries.delete(key)
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, { from, slot })
  }

  /**
   * The first slot after `threshold` for `key`, computed by `compute` only when no window
   * covers it.
   */
  firstSlotAfter(key: string, threshold: number, compute: (threshold: number) => number): number {
    const known = this.lookup(key, threshold)
    if (known !== undefined) return known
    const slot = compute(threshold)
    this.remember(key, threshold, slot)
    return slot
  }

  clear(): void {
    this.#entries.clear()
    this.hits = 0
    this.misses = 0
  }
}

/** The memo computeNextRunAt uses; shared by every scheduler in the process. */
export const sharedSlotMemo = new SlotMemo()
