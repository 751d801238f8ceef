/**
 * A deadline that does not blame the other side for this process's own stalls. Node runs due
 * timers before it reads its sockets, in each turn of the event loop: after a stall (a host short
 * of CPU, a long garbage collection, a burst of synchronous work), an answer that arrived in time
 * sits unread while its deadline fires, and a worker that answered in 50 ms was recorded as timed
 * out and called again (a trial, on a busy host after a database outage). So a deadline that
 * fires late, by more than {@link LATE_MS}, waits once more, as long as it was late (at most
 * {@link MAX_GRACE_MS}), for the loop to read what has arrived; then it expires.
 */
import { performance } from 'node:perf_hooks'

/** A timer this late means the event loop was held up, not merely busy. */
export const LATE_MS = 50
/** The longest wait given back: a turn of the loop reads what has arrived in far less. */
export const MAX_GRACE_MS = 1_000

export interface Deadline {
  clear(): void
}

/** Calls `expire` once `ms` have passed, not counting a stall of this process at the end (above). */
export function startDeadline(ms: number, expire: () => void): Deadline {
  const due = performance.now() + ms
  let graced = false
  const check = () => {
    const late = performance.now() - due
    if (!graced && late > LATE_MS) {
      graced = true
      timer = setTimeout(check, Math.min(late, MAX_GRACE_MS))
      return
    }
    expire()
  }
  let timer = setTimeout(check, ms)
  return {
    clear: () => clearTimeout(timer),
  }
}
