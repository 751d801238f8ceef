/**
 * The logging seam. Any object with `debug`, `info`, `warn` and `error` will do, consola's
 * instances included. The default is consola tagged `pg-subscription-scheduler`: its boxed,
 * blank-line-padded entries on a terminal, one line per entry anywhere else (a container's or a
 * service's log, where consola's own default pads every warning with blank lines).
 *
 * A host's logger is called through a guard: a logger that throws (or an async one that
 * rejects) must not change what is recorded. Its message then goes to stderr, and the failure is
 * said there once.
 */
import { createConsola } from 'consola'
import { ConfigurationError } from '../errors.js'

export interface Logger {
  debug(message: string, ...args: unknown[]): void
  info(message: string, ...args: unknown[]): void
  warn(message: string, ...args: unknown[]): void
  error(message: string, ...args: unknown[]): void
}

export const LOG_TAG = 'pg-subscription-scheduler'

/** Consola, tagged `pg-subscription-scheduler`, or `pg-subscription-scheduler:<name>` for a scheduler named apart. */
export function defaultLogger(name?: string): Logger {
  return createConsola({ fancy: process.stdout.isTTY === true && process.stderr.isTTY === true }).withTag(name ? `${LOG_TAG}:${name}` : LOG_TAG)
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const

/**
 * The `logger` option: checked and guarded when given, else the default, whose tag names `name`
 * when given: two schedulers in one process (a `queuePrefix` each) log apart.
 */
export function resolveLogger(given: Logger | undefined, name?: string): Logger {
  if (given === undefined) return defaultLogger(name)
  for (const level of LEVELS) {
    if (typeof given?.[level] !== 'function') throw new ConfigurationError('logger', `expected an object with a ${level}() method (consola instances work).`)
  }
  return guardedLogger(given)
}

/** `logger`, whose failures never reach the caller: each message it failed on goes to stderr instead. */
export function guardedLogger(logger: Logger, stderr: (line: string) => void = (line) => void process.stderr.write(line)): Logger {
  let said = false
  const failed = (level: string, error: unknown, message: string) => {
    if (!said) {
      said = true
      stderr(`${LOG_TAG}: the logger's ${level}() failed (${describeFailure(error)}); messages it fails on are written here instead.\n`)
    }
    stderr(`${LOG_TAG} [${level}] ${message}\n`)
  }
  const guarded = {} as Logger
  for (const level of LEVELS) {
    guarded[level] = (message: string, ...args: unknown[]) => {
      try {
        const result: unknown = logger[level](message, ...args)
        if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
          ;(result as PromiseLike<unknown>).then(undefined, (error: unknown) => failed(level, error, message))
        }
      } catch (error) {
        failed(level, error, message)
      }
    }
  }
  return guarded
}

function describeFailure(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  } catch {
    return 'an error that cannot be shown'
  }
}

const loggersOf = new WeakMap<object, Logger>()

/** Remembers `owner`'s logger, for the parts given only the owner (the admin handler, given a scheduler). */
export function rememberLogger(owner: object, logger: Logger): void {
  loggersOf.set(owner, logger)
}

/** The logger remembered for `owner`; the default for an object no one remembered one for. */
export function loggerOf(owner: object): Logger {
  return loggersOf.get(owner) ?? defaultLogger()
}
