/**
 * Warnings that come by the thousand when something is wrong everywhere at once: the failed
 * attempts of a worker outage, the subscriptions of a cadence name nobody defined. At most
 * {@link LINES_PER_MINUTE} lines of each kind a minute per scheduler; past that, one line says
 * the rest are counted, and the next minute begins with their number. What they report is kept
 * elsewhere in full (the failures table, the rows themselves), so nothing is lost but log volume.
 */
import type { Logger } from './logger.js'

export const LINES_PER_MINUTE = 20
const MINUTE_MS = 60_000

export interface LimitedLog {
  /** Logs `message` as a warning, unless this minute's lines are spent: then it is counted. */
  warn(message: string): void
  /** Logs the count of lines left out so far, at once (the minute ends early): for `stop()`. */
  flush(): void
}

export interface LimitedKind {
  /** What the lines are, plural: "failed attempts". */
  what: string
  /** Where each one can still be found, for the lines that say some were left out. */
  where: string
}

/** Runs `fn` after `ms` without keeping the process alive for it. */
export type Timer = (fn: () => void, ms: number) => { cancel(): void }

const realTimer: Timer = (fn, ms) => {
  const handle = setTimeout(fn, ms)
  handle.unref()
  return { cancel: () => clearTimeout(handle) }
}

export function createLimitedLog(logger: Logger, now: () => number, kind: LimitedKind, timer: Timer = realTimer): LimitedLog {
  let minuteStart = Number.NEGATIVE_INFINITY
  let logged = 0
  let unlogged = 0
  // Set while lines are being counted: says how many when their minute ends, if no line came first.
  let pending: { cancel(): void } | undefined
  const endMinute = (when = 'in the minute before') => {
    pending?.cancel()
    pending = undefined
    if (unlogged > 0) logger.warn(`${unlogged} more ${kind.what} not logged one by one ${when}: ${kind.where}.`)
    minuteStart = Number.NEGATIVE_INFINITY
    logged = 0
    unlogged = 0
  }
  const log: LimitedLog = {
    flush() {
      if (unlogged > 0) endMinute(`since ${new Date(minuteStart).toISOString()}`)
    },
    warn(message) {
      const at = now()
      if (at - minuteStart >= MINUTE_MS) {
        endMinute()
        minuteStart = at
      }
      if (logged >= LINES_PER_MINUTE) {
        unlogged += 1
        pending ??= timer(() => endMinute(), minuteStart + MINUTE_MS - at)
        return
      }
      logged += 1
      logger.warn(message)
      if (logged === LINES_PER_MINUTE) {
        const until = new Date(minuteStart + MINUTE_MS).toISOString()
        logger.warn(`${LINES_PER_MINUTE} ${kind.what} logged this minute: until ${until} further ones are counted, not logged (${kind.where}).`)
      }
    },
  }
  let flushed = toFlush.get(logger)
  if (!flushed) toFlush.set(logger, (flushed = new Set()))
  flushed.add(log)
  return log
}

/** Every limited log writing to a logger, so that `stop()` can say what each left out. */
const toFlush = new WeakMap<Logger, Set<LimitedLog>>()

/**
 * Logs, at once, the count of lines each limited log writing to `logger` has left out this
 * minute: a process that stops within the minute would otherwise never say it.
 */
export function flushLimitedLogs(logger: Logger): void {
  for (const log of toFlush.get(logger) ?? []) log.flush()
}

export const FAILED_ATTEMPTS: LimitedKind = {
  what: 'failed attempts',
  where: 'each one is in listFailures(), the failures table and the pss.subscriptions.failed metric',
}

/**
 * Failures that gave up on their slot (permanent, or the retries spent): counted apart from the
 * attempts that will be retried, so that a storm of those never keeps these out of the log.
 */
export const FINAL_FAILURES: LimitedKind = {
  what: 'failures that gave up on their slot',
  where: FAILED_ATTEMPTS.where,
}

/** Subscriptions paused for failing `pauseAfterConsecutiveFailures` runs in a row: a worker outage pauses them by the thousand. */
export const PAUSED_FOR_FAILURES: LimitedKind = {
  what: 'subscriptions paused for failing in a row',
  where: "getStatus().pausedForFailures counts them, and each one's history says when it was paused",
}

export const UNKNOWN_FREQUENCIES: LimitedKind = {
  what: 'subscriptions with an unknown frequency',
  where: "each runs daily until its frequency is a built-in name or one of the `frequencies` option's",
}

export const ANSWERS_AFTER_THE_END: LimitedKind = {
  what: 'answers that came after their call had ended',
  where: "a worker client that ignores its `signal` goes on working after its call ends: honour it",
}

export const UNREACHABLE_DATABASE: LimitedKind = {
  what: "pg-boss errors of a database out of reach",
  where: 'pg-boss retries by itself, and the scheduler logs its own retries apart',
}

/** One per scheduler (its resolved options) and kind, made on first use. */
const logs = new WeakMap<object, Map<LimitedKind, LimitedLog>>()

export function limitedLogOf(owner: { logger: Logger; clock: { now(): Date } }, kind: LimitedKind): LimitedLog {
  let kinds = logs.get(owner)
  if (!kinds) logs.set(owner, (kinds = new Map()))
  let log = kinds.get(kind)
  if (!log) kinds.set(kind, (log = createLimitedLog(owner.logger, () => owner.clock.now().getTime(), kind)))
  return log
}
