/**
 * Every error this library throws or records extends {@link SchedulerError}, so a host can
 * catch them with one `instanceof` check. `instanceof` holds across copies of the library too
 * (its ESM and CJS builds both loaded, or two versions): each error carries a brand in the
 * global symbol registry, and a class recognises another copy's errors by their code.
 */

export const CODES = ['CONFIGURATION', 'MIGRATION', 'NOT_MIGRATED', 'NOT_STARTED', 'PERMANENT', 'RETRYABLE', 'SUBSCRIPTION_DATA', 'NOT_FOUND', 'SUBSCRIPTION_BUSY', 'SUBSCRIPTION_STATE', 'CALLS_PAUSED'] as const

export type SchedulerErrorCode = (typeof CODES)[number]

/** Shared by every copy of the library in a process, whichever build or version loaded it. */
const BRAND = Symbol.for('pg-subscription-scheduler.error')

// Fields are declared and set in constructors, never initialised in the class body: the CJS build's
// transform would wrap such classes as `(_class = class …)`, and every error would print as `_class5`.
export class SchedulerError extends Error {
  declare readonly code: SchedulerErrorCode

  constructor(code: SchedulerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SchedulerError'
    this.code = code
    Object.defineProperty(this, BRAND, { value: true })
  }

  /**
   * Plain `instanceof`, and for the library's own classes also another copy's errors of the same
   * code. A host's subclass keeps plain `instanceof`.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true
    if (!CLASS_KINDS.has(this) || typeof value !== 'object' || value === null || !(value as { [BRAND]?: unknown })[BRAND]) return false
    const kind = CLASS_KINDS.get(this)
    // By name too: a `new SchedulerError('NOT_FOUND', …)` of another copy is no NotFoundError (it lacks its fields).
    return kind === undefined || ((value as { code?: unknown }).code === kind.code && (value as { name?: unknown }).name === kind.name)
  }
}

/** An option is missing, malformed or out of range. The message names the option and the fix. */
/** The database session's settings a ConfigurationError may name, rather than an option. */
const SESSION_SETTINGS = new Set(['DateStyle', 'search_path'])

export class ConfigurationError extends SchedulerError {
  declare readonly code: 'CONFIGURATION'
  declare readonly option: string

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    // A database session's setting is no option of the library's: a trial read "Invalid option `search_path`" and looked for one.
    super('CONFIGURATION', `${SESSION_SETTINGS.has(option) ? 'Unusable database setting' : 'Invalid option'} \`${option}\`: ${message}`, options)
    this.name = 'ConfigurationError'
    this.option = option
  }
}

/** The library's tables could not be created or brought up to date. */
export class MigrationError extends SchedulerError {
  declare readonly code: 'MIGRATION'
  /**
   * Each problem found, with its fix, as the message numbers them: an adopted table can have
   * several at once (duplicate rows, orphans, constraints in the way), all listed so that one
   * round of fixes does. A single problem is the message itself.
   */
  declare readonly problems: readonly string[]

  constructor(message: string, options?: { cause?: unknown; problems?: readonly string[] | undefined }) {
    super('MIGRATION', message, options)
    this.name = 'MigrationError'
    this.problems = options?.problems ?? [message]
  }
}

/**
 * The database has not been migrated: the scheduler's tables are missing, or older than this
 * version (the MVP's `subscription_processing`, say). The message names the three ways to
 * create or update them.
 */
export class NotMigratedError extends SchedulerError {
  declare readonly code: 'NOT_MIGRATED'

  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      'NOT_MIGRATED',
      `The scheduler's tables are missing from this database, or older than this version (${detail}). Create or update them with \`await migrate(pool, { bossSchema: 'pgboss' })\` ` +
        "(the bossSchema the scheduler uses: without it, migrate() installs the scheduler's tables but not pg-boss's schema), " +
        'with `scheduler.start()` (it migrates unless `migrate: false`), or with `pg-subscription-scheduler migrate`, as a database ' +
        "user who may create tables (the tables' owner, where the application's user may not: see the README's \"Database privileges\").",
      options,
    )
    this.name = 'NotMigratedError'
  }
}

/** A method was called on a scheduler that has not been started, or has been stopped. */
export class NotStartedError extends SchedulerError {
  declare readonly code: 'NOT_STARTED'

  /** The run a call was waiting for when `stop()` began: it goes on; read it with `getRun()`. */
  declare readonly runId: string | undefined

  /** `why`: what happened instead, when the scheduler was running and stopped meanwhile. */
  constructor(method: string, why?: string, runId?: string) {
    super('NOT_STARTED', why ? `scheduler.${method}(): ${why}` : `scheduler.${method}() needs a running scheduler: call \`await scheduler.start()\` first.`)
    this.name = 'NotStartedError'
    this.runId = runId
  }
}

/**
 * Thrown by a worker client to say "retrying will not help": the attempt is recorded as failed
 * and no further attempt is made for this slot. The HTTP client throws it for a 4xx other than
 * 408, 409, 425 and 429.
 */
export class PermanentError extends SchedulerError {
  declare readonly code: 'PERMANENT'
  declare readonly status: number | undefined

  constructor(message: string, options?: { cause?: unknown; status?: number | undefined }) {
    super('PERMANENT', message, options)
    this.name = 'PermanentError'
    this.status = options?.status
  }
}

/** A wait in milliseconds, 0 or more: what `retryAfterMs` (and the fake client's `delayMs`) take. */
export function isWaitMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

/**
 * Thrown by a worker client for a failure worth retrying: a timeout, a network error, a 408,
 * 409 (its Idempotency-Key still in progress), 425, 429 or 5xx. `retryAfterMs` carries the worker's `Retry-After`, when it sent one.
 */
export class RetryableError extends SchedulerError {
  declare readonly code: 'RETRYABLE'
  declare readonly status: number | undefined
  declare readonly retryAfterMs: number | undefined

  constructor(message: string, options?: { cause?: unknown; status?: number | undefined; retryAfterMs?: number | undefined }) {
    const retryAfterMs = options?.retryAfterMs
    // A wait that is no number of milliseconds would be logged as "asked NaN s", and ignored.
    if (retryAfterMs !== undefined && !isWaitMs(retryAfterMs)) {
      throw new RangeError(`RetryableError: retryAfterMs must be a number of milliseconds, 0 or more, got ${String(retryAfterMs)}; leave it out to wait the retry backoff.`)
    }
    super('RETRYABLE', message, options)
    this.name = 'RetryableError'
    this.status = options?.status
    this.retryAfterMs = retryAfterMs
  }
}

/** A row of `subscription_processing` or `subscriptions` holds data the scheduler cannot use. */
export class SubscriptionDataError extends SchedulerError {
  declare readonly code: 'SUBSCRIPTION_DATA'
  /** The subscription whose row holds the data; undefined for a value given to a preview of no subscription. */
  declare readonly subscriptionId: string | undefined
  /** The column to fix, table-qualified (`subscription_processing.run_at`, `subscriptions.frequency`), when one is to blame. */
  declare readonly column: string | undefined

  constructor(message: string, options?: { cause?: unknown; subscriptionId?: string | undefined; column?: string | undefined }) {
    super('SUBSCRIPTION_DATA', message, options)
    this.name = 'SubscriptionDataError'
    this.subscriptionId = options?.subscriptionId
    this.column = options?.column
  }
}

/**
 * What a call named is not there: a subscription with no `subscription_processing` row (or no host
 * row), a run, or a failure entry (pruned, say).
 */
export class NotFoundError extends SchedulerError {
  declare readonly code: 'NOT_FOUND'
  /** The subscription not found (the first, when a call named several); undefined when a run or entry was not. */
  declare readonly subscriptionId: string | undefined
  /** The run not found; undefined when a subscription or entry was not. */
  declare readonly runId: string | undefined

  constructor(message: string, options?: { subscriptionId?: string | undefined; runId?: string | undefined }) {
    super('NOT_FOUND', message)
    this.name = 'NotFoundError'
    this.subscriptionId = options?.subscriptionId
    this.runId = options?.runId
  }
}

/**
 * A change to a subscription's schedule was refused because a call for it is in flight (or
 * waiting for its retry): its outcome will set the next slot. Try again once it has settled.
 */
export class SubscriptionBusyError extends SchedulerError {
  declare readonly code: 'SUBSCRIPTION_BUSY'
  /** The subscription refused. */
  declare readonly subscriptionId: string

  constructor(message: string, options: { subscriptionId: string }) {
    super('SUBSCRIPTION_BUSY', message)
    this.name = 'SubscriptionBusyError'
    this.subscriptionId = options.subscriptionId
  }
}

/**
 * `runSubscription()` was refused because of the subscription's state: it is paused, ended, or
 * inactive (or gone) in the host's `subscriptions` table, or a trigger or constraint of the
 * host's refused its claim (`cause` is the database's error), so no call would be made. The
 * message names the state and the way out (`resume()`, `retryFailed()`, a later `endsAt`).
 */
export class SubscriptionStateError extends SchedulerError {
  declare readonly code: 'SUBSCRIPTION_STATE'
  /** The subscription refused. */
  declare readonly subscriptionId: string

  constructor(message: string, options: { cause?: unknown; subscriptionId: string }) {
    super('SUBSCRIPTION_STATE', message, options)
    this.name = 'SubscriptionStateError'
    this.subscriptionId = options.subscriptionId
  }
}

/**
 * A run was refused because calls are paused fleet-wide (`pauseCalls()`): it would call nobody.
 * `resumeCalls()` lifts the pause.
 */
export class CallsPausedError extends SchedulerError {
  declare readonly code: 'CALLS_PAUSED'
  /** Since when calls are paused. */
  declare readonly pausedAt: Date
  /** The note the pause was given; null without one. */
  declare readonly note: string | null

  constructor(message: string, options: { pausedAt: Date; note: string | null }) {
    super('CALLS_PAUSED', message)
    this.name = 'CallsPausedError'
    this.pausedAt = options.pausedAt
    this.note = options.note
  }
}

/**
 * The library's own classes, each with the code and name its errors carry (none: any of them);
 * read by instanceof. The names are written out: a minifier may rename the classes themselves.
 */
const CLASS_KINDS: ReadonlyMap<unknown, { code: SchedulerErrorCode; name: string } | undefined> = new Map<unknown, { code: SchedulerErrorCode; name: string } | undefined>([
  [SchedulerError, undefined],
  [ConfigurationError, { code: 'CONFIGURATION', name: 'ConfigurationError' }],
  [MigrationError, { code: 'MIGRATION', name: 'MigrationError' }],
  [NotMigratedError, { code: 'NOT_MIGRATED', name: 'NotMigratedError' }],
  [NotStartedError, { code: 'NOT_STARTED', name: 'NotStartedError' }],
  [PermanentError, { code: 'PERMANENT', name: 'PermanentError' }],
  [RetryableError, { code: 'RETRYABLE', name: 'RetryableError' }],
  [SubscriptionDataError, { code: 'SUBSCRIPTION_DATA', name: 'SubscriptionDataError' }],
  [NotFoundError, { code: 'NOT_FOUND', name: 'NotFoundError' }],
  [SubscriptionBusyError, { code: 'SUBSCRIPTION_BUSY', name: 'SubscriptionBusyError' }],
  [SubscriptionStateError, { code: 'SUBSCRIPTION_STATE', name: 'SubscriptionStateError' }],
  [CallsPausedError, { code: 'CALLS_PAUSED', name: 'CallsPausedError' }],
])
