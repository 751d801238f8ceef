/**
 * Riding out a database outage: a restart, a failover, a dropped connection. Statements that
 * fail with a connection-class error are retried with backoff until a deadline, with a log line
 * each time, instead of failing the run.
 */
import type { Logger } from '../observe/logger.js'

// SQLSTATE classes and codes that mean "the connection or server went away", not "the SQL is wrong".
const TRANSIENT_CODES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01'])
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])
const TRANSIENT_MESSAGES = /Connection terminated|connection timeout|Client has encountered a connection error|the database system is (starting up|shutting down)|terminating connection|Client was closed|timeout exceeded when trying to connect/i

/** An error and its causes, the first five links: the driver's error is often wrapped. */
export function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = []
  for (let e: unknown = error; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e)
  return chain
}

/** The codes (SQLSTATEs, Node's, the library's own) an error and its causes carry, outermost first. */
export function codesOf(error: unknown): Set<string> {
  return new Set(causeChain(error).map((e) => (e as { code?: unknown }).code).filter((code): code is string => typeof code === 'string'))
}

/**
 * A serialization failure or a deadlock: two transactions met (most often on a database whose
 * default isolation is SERIALIZABLE), and trying again may go through. Transient, but no sign of
 * whether the database is in reach.
 */
export function isTransactionConflict(error: unknown): boolean {
  const codes = codesOf(error)
  return codes.has('40001') || codes.has('40P01')
}

/** True for errors a retry can cure: lost connections, server restarts, deadlocks, serialization failures. */
export function isTransientDbError(error: unknown): boolean {
  for (const e of causeChain(error)) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('08') || TRANSIENT_NODE_CODES.has(code))) return true
    const message = (e as { message?: unknown }).message
    if (typeof message === 'string' && TRANSIENT_MESSAGES.test(message)) return true
  }
  return false
}

/**
 * Refusals that fail every write alike, for as long as they last, and that an operator ends
 * without anyone calling a worker again: a privilege revoked while instances run, a database
 * turned read-only (a replica promoted the other way, a failover under way), a full disk, memory
 * short, a `statement_timeout` too tight for the statement. What each means, for the log line.
 */
const WRITE_REFUSALS: Record<string, string> = {
  '42501': 'a privilege it needs was revoked: grant back what the README lists under "Database privileges"',
  '25006': 'the database is read-only (a replica, or a failover under way)',
  '53100': "the database server's disk is full",
  '53200': 'the database server is out of memory',
  '57014': "a statement_timeout (the role's or the database's) cancelled it, or someone cancelled its statement",
}

/** What the refusal in `error`'s causes means, when it is one of {@link WRITE_REFUSALS}; else undefined. */
export function writeRefusal(error: unknown): string | undefined {
  for (const code of codesOf(error)) if (code in WRITE_REFUSALS) return `${WRITE_REFUSALS[code]} (SQLSTATE ${code})`
  return undefined
}

/**
 * A `statement_timeout` (the role's or the database's) cancelled the statement: a page of work
 * too big for it is tried again {@link SHRINK} times smaller, down to {@link MIN_PAGE_SIZE}
 * rows (enrolment's inserts, a sweep's claims).
 */
export const isStatementTimeout = (error: unknown): boolean => codesOf(error).has('57014')
export const SHRINK = 4
export const MIN_PAGE_SIZE = 16

/** A serialization failure or a deadlock: the database is there, another transaction was in the way. */
function isConflict(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === '40001' || code === '40P01'
}

export interface RetryTransientOptions {
  logger: Logger
  /** What is being attempted, for the log line: "claiming a page of run …". */
  what: string
  /** Give up after this long. @default 120000 */
  deadlineMs?: number | undefined
  /**
   * Retries a refusal that fails every write alike ({@link writeRefusal}) as an outage is: for
   * what holds outcomes already answered, which would otherwise be called for again.
   */
  holdThroughRefusals?: boolean | undefined
  /** The longest wait between two tries. @default 5000 */
  maxDelayMs?: number | undefined
  signal?: AbortSignal | undefined
}

/** After the first retry's line, at most one line this often while the outage lasts. */
const LOG_EVERY_MS = 10_000

/**
 * Runs `fn`, retrying transient database errors with capped exponential backoff. Its first retry
 * is logged, then one line every {@link LOG_EVERY_MS} at most: a short cap must not flood the log.
 * An outage said is followed by one `info` line when `fn` goes through.
 */
export async function retryTransient<T>(fn: () => Promise<T>, options: RetryTransientOptions): Promise<T> {
  const deadline = Date.now() + (options.deadlineMs ?? 120_000)
  let loggedAt = Number.NEGATIVE_INFINITY
  // When the outage was first said: its end is said too, so that an operator sees it is over.
  let outageSaidAt: number | undefined
  // It failed for want of the database (not for a conflict) before it got through.
  let outage = false
  // The last failure said was a refusal (writeRefusal), not an outage.
  let refusedSaid = false
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await fn()
      if (outage) databaseBack()
      if (outageSaidAt !== undefined) {
        const seconds = ((Date.now() - outageSaidAt) / 1000).toFixed(1)
        const again = refusedSaid ? 'Refusal over' : 'Database reachable again'
        options.logger.info(`${again}: ${options.what} went through at try ${attempt}, ${seconds} s after the first failure.`)
      }
      return result
    } catch (error) {
      const refusal = options.holdThroughRefusals && !isTransientDbError(error) ? writeRefusal(error) : undefined
      if ((!isTransientDbError(error) && refusal === undefined) || Date.now() >= deadline || options.signal?.aborted) throw error
      // Jittered, so that two transactions a deadlock or a restart failed together do not meet again.
      const delay = Math.round(Math.min(250 * 2 ** (attempt - 1), options.maxDelayMs ?? 5_000) * (0.5 + Math.random() / 2))
      // A conflict is an event of its own, each said; an outage is said as it begins, then now and then.
      const message = (error as Error).message
      if (isConflict(error)) {
        options.logger.warn(`A conflict with a concurrent transaction while ${options.what} (${message}); retrying in ${delay} ms.`)
      } else if (Date.now() - loggedAt >= LOG_EVERY_MS) {
        loggedAt = Date.now()
        outageSaidAt ??= loggedAt
        const tries = attempt === 1 ? '' : `, ${attempt} tries so far`
        refusedSaid = refusal !== undefined
        if (refusal === undefined) options.logger.warn(`Database unavailable while ${options.what} (${message}${tries}); retrying in ${delay} ms.`)
        else options.logger.error(`The database refused ${options.what} (${message}${tries}): ${refusal}. Holding them and retrying in ${delay} ms, so that nobody is called again for them.`)
      }
      if (!isConflict(error)) outage = true
      // Through an outage, woken as soon as any statement gets through: the database is back.
      await backoff(delay, options.signal, isConflict(error) ? null : outageSleepers)
    }
  }
}

/**
 * Retries waiting out an outage's backoff (up to {@link RetryTransientOptions.maxDelayMs}), each
 * woken as soon as another retry gets through: once the database is back, the outcomes waiting to
 * be recorded are recorded at once, not up to 5 s later. A conflict's wait is never cut short: its
 * jitter keeps two transactions from meeting again.
 */
const outageSleepers = new Set<() => void>()

async function backoff(ms: number, signal: AbortSignal | undefined, wakers: Set<() => void> | null): Promise<void> {
  if (signal?.aborted) return
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      wakers?.delete(done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
    wakers?.add(done)
  })
}

/** Wakes every retry waiting out an outage: one has just got through. */
function databaseBack(): void {
  for (const wake of [...outageSleepers]) wake()
}

/** While a restart or a proxy drops the pool's idle connections, one line says so this often at most. */
const DROPS_SAID_EVERY_MS = 30_000

/**
 * Listens to the host pool's `error` events: an idle connection the server or a proxy dropped is
 * routine (the pool opens a new one at its next query), and a restart drops every one at once. The
 * first drop is a warning, and those following it within {@link DROPS_SAID_EVERY_MS} are not
 * said again; any other error of an idle connection is an error, each time.
 */
export function poolErrorListener(logger: Logger): (error: Error) => void {
  let saidAt = Number.NEGATIVE_INFINITY
  return (error) => {
    if (!isTransientDbError(error)) return void logger.error(`Database connection error: ${error.message}`)
    if (Date.now() - saidAt < DROPS_SAID_EVERY_MS) return
    saidAt = Date.now()
    logger.warn(`Database connection error: ${error.message}. The pool opens a new connection at its next query; idle connections dropped with it in the next ${DROPS_SAID_EVERY_MS / 1000} s are not said one by one.`)
  }
}

