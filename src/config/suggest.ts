/**
 * "Did you mean …?" for a misspelt command or flag: the known name closest to what was typed,
 * when it is close enough to be the likely intent.
 */

/**
 * Edits (insert, delete, substitute, swap two neighbours) between `a` and `b`. Swaps count
 * once: `stauts` is one edit from `status`, the most common slip of a typist.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}

/**
 * The known name nearest to `typed`, or undefined when none is near: more than a third of the
 * name's letters (and at least two) away is a different word, and suggesting it would mislead.
 */
export function closest(typed: string, known: readonly string[]): string | undefined {
  const input = typed.toLowerCase()
  let best: { name: string; distance: number } | undefined
  for (const name of known) {
    const distance = editDistance(input, name.toLowerCase())
    if (!best || distance < best.distance) best = { name, distance }
  }
  if (!best) return undefined
  const allowed = Math.max(2, Math.floor(best.name.length / 3))
  if (best.distance <= allowed) return best.name
  if (input.length < 3) return undefined
  // A name cut short (`maxAge` for `maxAgeSeconds`), or in another unit (`delayMs` for
  // `delaySeconds`), is the likely intent too.
  const stem = unitStem(input)
  return known.find((name) => name.toLowerCase().startsWith(input)) ?? (stem.length >= 3 ? known.find((name) => unitStem(name) === stem) : undefined)
}

/** A name without its unit: `delayMs` and `delaySeconds` are both `delay`. */
function unitStem(name: string): string {
  return name.toLowerCase().replace(/(milliseconds|millis|ms|seconds|secs|sec|minutes|mins|min|hours|days)$/, '')
}

/** What an unknown key's message says after "unknown key": the nearest known one, if any is near. */
export function nearestKey(typed: string, known: readonly string[]): string {
  const near = closest(typed, known)
  return near === undefined ? '' : `; did you mean \`${near}\`?`
}

/** What ends "Unknown command stauts": `; did you mean status?`, or a full stop when nothing is near. */
export function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? '.' : `; did you mean ${suggestion}?`
}
