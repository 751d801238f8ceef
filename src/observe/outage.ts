/**
 * Whether this instance reaches the database, as it last found out: the first failure to reach
 * it is one error line, and its return one line saying how long it was away. pg-boss's own
 * failures come as warnings, one per poll of each of its loops and then counted a minute at a
 * time (limited-log.ts): a trial's alert on error lines missed a 20 s outage, and nothing said
 * when it ended.
 *
 * Fed by pg-boss's errors (which come while the database is away) and by this instance's report
 * in the instances table (presence.ts), which is written every few seconds and says it is back.
 */
import { describeError } from './describe-error.js'
import { oneLine } from '../printable.js'
import type { Logger } from './logger.js'

export interface OutageWatch {
  /** A statement failed because the database could not be reached. */
  unreachable(error: unknown): void
  /** A statement went through. */
  reached(): void
  /** Whether the database was out of reach at the last word of it. */
  out(): boolean
}

interface Owner {
  logger: Logger
  clock: { now(): Date }
}

/** One per scheduler (its resolved options), made on first use. */
const watches = new WeakMap<object, OutageWatch>()

export function outageOf(owner: Owner): OutageWatch {
  let watch = watches.get(owner)
  if (!watch) watches.set(owner, (watch = createOutageWatch(owner)))
  return watch
}

/**
 * The error's message, as pg-boss's own log lines quote it: pg-boss reports a lost connection as a
 * plain object that copies the error's fields (its stack too), which describeError() would write
 * out whole.
 */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message
  return typeof message === 'string' ? oneLine(message) : describeError(error)
}

function createOutageWatch({ logger, clock }: Owner): OutageWatch {
  let since: Date | null = null
  return {
    unreachable(error) {
      if (since !== null) return
      since = clock.now()
      logger.error(
        `The database is out of reach (${messageOf(error)}). This instance's sweeps and calls wait for it; ` +
          'outcomes of calls already answered are held and recorded once it answers, and pg-boss retries on its own. ' +
          'Its return is said too.',
      )
    },
    reached() {
      if (since === null) return
      const seconds = Math.max(0, (clock.now().getTime() - since.getTime()) / 1000)
      since = null
      logger.info(`The database answers again, after ${seconds.toFixed(seconds < 10 ? 1 : 0)} s out of reach.`)
    },
    out: () => since !== null,
  }
}
