/**
 * A zone's UTC offset at an instant, remembered in 15-minute steps. luxon asks Intl for every
 * offset (a formatToParts call, microseconds each), and a sweep asks for the same few instants
 * thousands of times: every row's slot, anchor and next slot lie in a handful of steps.
 *
 * A step is remembered only when the offset is the same at its first and its last millisecond.
 * Zones change offset at most twice a year, never twice within 15 minutes, so such a step has no
 * change inside it; a step with a change in it is asked of luxon each time.
 */
import type { IANAZone } from 'luxon'

const STEP_MS = 15 * 60_000
/** Steps remembered across all zones before the memo starts over. */
const MAX_STEPS = 16_384

const steps = new Map<string, Map<number, number>>()
let remembered = 0

/** The offset of `zone` at `instant`, in minutes east of UTC, as luxon's `zone.offset()`. */
export function zoneOffset(zone: IANAZone, instant: number): number {
  const step = Math.floor(instant / STEP_MS)
  let known = steps.get(zone.name)
  const hit = known?.get(step)
  if (hit !== undefined) return hit
  const first = zone.offset(step * STEP_MS)
  if (first !== zone.offset(step * STEP_MS + STEP_MS - 1)) return zone.offset(instant)
  if (remembered >= MAX_STEPS) {
    steps.clear()
    remembered = 0
    known = undefined
  }
  if (!known) steps.set(zone.name, (known = new Map()))
  known.set(step, first)
  remembered += 1
  return first
}
