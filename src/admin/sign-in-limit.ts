/**
 * Refused sign-ins, counted per handler. Each is logged, and past {@link MAX_REFUSALS} in a
 * minute the form answers 429 until that minute is over. A token of 16 characters or more is out
 * of a guesser's reach either way: the limit keeps the form from running `authorize` (the host's
 * own check, perhaps a slow one) without end, and the log shows one at work. Bearer headers are
 * not limited (each is judged, as an API client's are): the docs say to keep `authorize` cheap. It counts the handler's
 * refusals, not a client's (behind a proxy every client has its address): a flood delays signing
 * in by form for the rest of its minute, while bearer requests and signed-in sessions go on.
 */
import type { Logger } from '../observe/logger.js'

export const MAX_REFUSALS = 10
export const WINDOW_MS = 60_000

export interface SignInLimit {
  /** Milliseconds until sign-ins are judged again, or null when they are now. */
  blockedForMs(): number | null
  /** A token `authorize` refused: counted and logged. */
  refused(): void
}

/** Refused bearer headers, counted per handler: logged at the 1st, 10th, 100th… of each minute. */
export interface HeaderRefusals {
  refused(): void
}

/** Refusals counted in the current minute (a window from the first refusal after the last one ended). */
function minuteCount(now: () => number) {
  let windowStart = 0
  let refusals = 0
  const current = () => {
    if (now() - windowStart >= WINDOW_MS) {
      windowStart = now()
      refusals = 0
    }
  }
  return {
    /** Refusals so far this minute, and how long until it ends (ms). */
    read: () => (current(), { refusals, endsInMs: windowStart + WINDOW_MS - now() }),
    /** Counts one more; returns how many this minute. */
    add: () => (current(), ++refusals),
  }
}

/**
 * A bearer header `authorize` refused is answered 401 and judged again at the next request, as
 * an API client's are, with no limit; but it is said, or a guesser (or a client left with an old
 * token) would go unseen. Once per power of ten a minute, so that a flood is said, not written out.
 */
export function createHeaderRefusals(logger: Logger, now: () => number = Date.now): HeaderRefusals {
  const minute = minuteCount(now)
  return {
    refused() {
      const refusals = minute.add()
      if (!/^10*$/.test(String(refusals))) return
      logger.warn(
        refusals === 1
          ? 'Admin API refused a request: its Authorization header was not accepted (a client with an old token, or someone guessing).'
          : `Admin API refused ${refusals} requests this minute whose Authorization header was not accepted: a client with an old token, or someone guessing.`,
      )
    },
  }
}

export function createSignInLimit(logger: Logger, now: () => number = Date.now): SignInLimit {
  const minute = minuteCount(now)
  return {
    blockedForMs() {
      const { refusals, endsInMs } = minute.read()
      return refusals >= MAX_REFUSALS ? endsInMs : null
    },
    refused() {
      const refusals = minute.add()
      if (refusals < MAX_REFUSALS) logger.warn(`Admin sign-in refused: the token was not accepted (${refusals} this minute).`)
      else logger.warn(`Admin sign-in refused ${refusals} times this minute: the form answers 429 until the minute is over.`)
    },
  }
}
