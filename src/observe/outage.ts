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
import { performance } from 'node:perf_hooks'
import { isTransactionConflict } from '../db/transient.js'
import { describeError } from './describe-error.js'
import { oneLine } from '../printable.js'
import type { Logger } from './logger.js'
import { isDatabaseClock } from './database-clock.js'

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

/**
 * What kept this instance from the database, as its lines name it: the server out of reach, the
 * server's connection slots full (SQLSTATE 53300: it is up, its `max_connections` is spent), or
 * the pool's own wait for a connection timed out (`connectionTimeoutMillis`). A trial with a
 * full server read "out of reach" at error level while the database answered everyone else.
 * Or a connection closed under it (`dropped`): a session killed by `pg_terminate_backend`, or
 * the first sign of a server going down. A trial's killed sessions each read "out of reach" at
 * error level while the server was up: it is a warning until it is more (see DROPPED_GRACE_MS).
 */
type Cause = 'unreachable' | 'full' | 'pool' | 'dropped'

/** Sessions ended by the server (admin_shutdown, crash_shutdown), or sockets closed under the driver. */
const DROPPED_CODES = new Set(['57P01', '57P02', 'ECONNRESET'])

function causeOf(error: unknown): Cause {
  const code = (error as { code?: unknown } | null)?.code
  const message = messageOf(error)
  if (code === '53300' || /remaining connection slots are reserved|too many clients/i.test(message)) return 'full'
  if (/timeout exceeded when trying to connect/i.test(message)) return 'pool'
  if ((typeof code === 'string' && DROPPED_CODES.has(code)) || /connection terminated unexpectedly|terminating connection/i.test(message)) return 'dropped'
  return 'unreachable'
}

/**
 * A closed connection is said as an outage (at error level) once a failure of another kind
 * follows it (a refused connection: the server is down), or once failures go on this long after
 * it (every new connection closed too).
 */
export const DROPPED_GRACE_MS = 5_000

const HELD =
  "This instance's sweeps and calls wait for it; outcomes of calls already answered are held and recorded once it answers, " +
  'and pg-boss retries on its own.'

function outageLine(cause: Cause, message: string): string {
  switch (cause) {
    case 'full':
      return `The database server refuses this instance more connections (${message}): its max_connections is spent, by every ` +
        `client together. ${HELD} Lower the pools' max (the scheduler needs few: see "Connection budget" in docs/scaling.md) ` +
        'or raise max_connections. Its end is said too.'
    case 'pool':
      return `This instance's pool gave no connection within its connectionTimeoutMillis (${message}): the pool's connections ` +
        `are all in use, or the server is slow to open one. ${HELD} Raise the pool's max or its connectionTimeoutMillis. ` +
        'Its end is said too.'
    case 'dropped':
      return `A database connection of this instance was closed (${message}): a session ended by pg_terminate_backend, or a ` +
        `server going down. Statements are retried on new connections; if the database stays out of reach, that is said at ` +
        `error level within ${DROPPED_GRACE_MS / 1000} s.`
    default:
      return `The database is out of reach (${message}). ${HELD} Its return is said too.`
  }
}

function returnLine(cause: Cause, took: string): string {
  switch (cause) {
    case 'unreachable':
      return `The database answers again, after ${took} out of reach.`
    case 'dropped':
      return `Connected to the database again, ${took} after a connection was closed.`
    default:
      return `This instance has its connections again, after ${took} without (${cause === 'full' ? "the server's slots full" : 'its pool spent'}).`
  }
}

function createOutageWatch({ logger, clock }: Owner): OutageWatch {
  // The default clock is corrected by the database's, and a correction read as the database comes
  // back (a server restarted with its clock moved) is no part of the outage: timed by the
  // monotonic clock, which nothing moves. A clock of the host's choosing (a test's) as it reads.
  const elapsedMs = isDatabaseClock(clock) ? () => performance.now() : () => clock.now().getTime()
  let since: { at: number; cause: Cause } | null = null
  return {
    unreachable(error) {
      // Retried as transient, but no sign of the database's reach: two transactions met.
      if (isTransactionConflict(error)) return
      const cause = causeOf(error)
      if (since === null) {
        since = { at: elapsedMs(), cause }
        if (cause === 'dropped') logger.warn(outageLine(cause, messageOf(error)))
        else logger.error(outageLine(cause, messageOf(error)))
        return
      }
      // A closed connection that turned out to be more: the outage dates from it.
      if (since.cause === 'dropped' && (cause !== 'dropped' || elapsedMs() - since.at >= DROPPED_GRACE_MS)) {
        since = { at: since.at, cause: cause === 'dropped' ? 'unreachable' : cause }
        logger.error(outageLine(since.cause, messageOf(error)))
      }
    },
    reached() {
      if (since === null) return
      const seconds = Math.max(0, (elapsedMs() - since.at) / 1000)
      const took = `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`
      const { cause } = since
      since = null
      logger.info(returnLine(cause, took))
    },
    out: () => since !== null,
  }
}
