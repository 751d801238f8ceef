/**
 * The log line of each failed attempt, at most {@link ATTEMPT_LINES_PER_MINUTE} a minute per
 * scheduler. A worker outage fails thousands of attempts a minute on every instance; each one is
 * still recorded (the failures table, `listFailures()`, events and metrics), but the log says
 * once that it stops listing them, and how many it left out when the next minute begins.
 */
import type { Logger } from './logger.js'

export const ATTEMPT_LINES_PER_MINUTE = 20
const MINUTE_MS = 60_000

export interface AttemptLog {
  /** Logs `message` as a warning, unless this minute's lines are spent: then it is counted. */
  failed(message: string): void
}

export function createAttemptLog(logger: Logger, now: () => number): AttemptLog {
  let minuteStart = Number.NEGATIVE_INFINITY
  let logged = 0
  let unlogged = 0
  return {
    failed(message) {
      const at = now()
      if (at - minuteStart >= MINUTE_MS) {
        if (unlogged > 0) {
          logger.warn(
            `${unlogged} more failed attempt${unlogged === 1 ? ' was' : 's were'} not logged one by one in the minute before: ` +
              'listFailures(), the failures table and the pss.subscriptions.failed metric have each.',
          )
        }
        minuteStart = at
        logged = 0
        unlogged = 0
      }
      if (logged >= ATTEMPT_LINES_PER_MINUTE) {
        unlogged += 1
        return
      }
      logged += 1
      logger.warn(message)
      if (logged === ATTEMPT_LINES_PER_MINUTE) {
        logger.warn(
          `${ATTEMPT_LINES_PER_MINUTE} failed attempts logged this minute: until ${new Date(minuteStart + MINUTE_MS).toISOString()} ` +
            'further ones are counted, not logged (the failures table keeps each).',
        )
      }
    },
  }
}

/** One per scheduler (its resolved options), made on first use. */
const logs = new WeakMap<object, AttemptLog>()

export function attemptLogOf(owner: object, logger: Logger, now: () => number): AttemptLog {
  let log = logs.get(owner)
  if (!log) logs.set(owner, (log = createAttemptLog(logger, now)))
  return log
}
