/**
 * What every command shares: the database URL, the pool the CLI owns, the scheduler built from
 * flags and environment, the logger, and the mapping from an error to an exit code.
 */
import { createConsola } from 'consola'
import pg from 'pg'
import { CallsPausedError, isConfigurationError, SubscriptionBusyError, SubscriptionStateError } from '../index.js'
import type { Logger, SchedulerOptions } from '../index.js'
import { LOG_TAG } from '../observe/logger.js'
import { configurationReason, shown } from '../error-text.js'
import { connectionHint } from '../db/connection-hint.js'
import { isPermissionDenied, PRIVILEGES_SECTION } from '../db/privileges.js'
import { isSchedulerError } from '../error-guards.js'
import { checkBossSchema, checkQueuePrefix, resolveOptions } from '../config/resolve-options.js'
import { inUserTerms, UsageError } from './usage-error.js'
import { inCliTerms, workerClientWithHeaders } from './worker-headers.js'

/** Exit codes, as documented in `--help` and the README. */
export const EXIT = {
  ok: 0,
  /** The command could not do its job: database down, migration refused, worker unreachable… */
  failure: 1,
  /** Bad command line or configuration: nothing was attempted. */
  usage: 2,
  /** `run-now`, `retry-failed` or `backfill` finished, but at least one subscription (or slot) failed. */
  subscriptionsFailed: 3,
  /** `skip`, `reschedule`, `run-now <id>` or `backfill` refused: a call for the subscription in flight (try again once it has settled), or its state (paused, ended, inactive); or a run refused while calls are paused fleet-wide. */
  busy: 4,
  /** `run-now`, `retry-failed` or `backfill` stopped by SIGINT or SIGTERM before its run settled (128 + SIGINT, as shells say). */
  interrupted: 130,
} as const

export { UsageError } from './usage-error.js'

export function requireDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL?.trim()
  if (!url) throw new UsageError('DATABASE_URL is not set: export DATABASE_URL=postgres://user:pass@host:5432/db')
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    throw new UsageError('DATABASE_URL is not a URL: expected postgres://user:pass@host:5432/db')
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new UsageError(`DATABASE_URL must start with postgres:// or postgresql://, got ${protocol}//…`)
  }
  return url
}

/**
 * Opens a pool on DATABASE_URL, runs `fn`, and always closes the pool: the CLI created it, so
 * the CLI closes it (the scheduler never does).
 */
export async function withPool<T>(logger: Logger, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: requireDatabaseUrl(), max: 10, application_name: 'pg-subscription-scheduler-cli' })
  // An idle client losing its connection must not crash the process; the next query reports it.
  // Said here only while the CLI listens alone: a started scheduler says it in its own line.
  const onError = (error: Error) => {
    if (pool.listeners('error').length === 1) logger.warn(`database connection lost: ${error.message}`)
  }
  pool.on('error', onError)
  try {
    return await fn(pool)
  } finally {
    await pool.end()
  }
}

/** Logs go to stderr, so stdout carries only the command's output (and `--json` stays parseable). */
export function createCliLogger(level: 'quiet' | 'normal', verbose: boolean): Logger {
  // consola levels: 1 warn, 3 info, 4 debug.
  const consolaLevel = verbose ? 4 : level === 'quiet' ? 1 : 3
  // Everything goes to stderr, so its being a terminal decides the style: one line per entry when
  // it is piped or redirected, whatever stdout is.
  return createConsola({ level: consolaLevel, stdout: process.stderr, stderr: process.stderr, fancy: process.stderr.isTTY === true }).withTag(LOG_TAG)
}

export interface SchedulerFlags {
  workerUrl?: string | undefined
  concurrency?: string | undefined
  timezone?: string | undefined
  cron?: string | undefined
}

export function integerFlag(flag: string, value: string | undefined, min = Number.MIN_SAFE_INTEGER): number | undefined {
  if (value === undefined || value === '') return undefined
  const parsed = Number(value)
  if (!Number.isInteger(parsed)) throw new UsageError(`--${flag}: expected a whole number, got ${shown(value)}.`)
  if (parsed < min) throw new UsageError(`--${flag}: expected at least ${min}, got ${parsed}.`)
  return parsed
}

/** Which scheduler on the database a command works with: the variable, and its option's check. */
const NAMESPACE = [
  ['SUBSCRIPTION_QUEUE_PREFIX', 'queuePrefix', checkQueuePrefix],
  ['SUBSCRIPTION_BOSS_SCHEMA', 'bossSchema', checkBossSchema],
] as const

/**
 * The scheduler's `queuePrefix` and `bossSchema` when its instances were given others than the
 * defaults: every command must use theirs, or it reads and enqueues where no instance looks.
 */
export function namespaceOptions(env: NodeJS.ProcessEnv = process.env): Pick<SchedulerOptions, 'queuePrefix' | 'bossSchema'> {
  const options: Pick<SchedulerOptions, 'queuePrefix' | 'bossSchema'> = {}
  for (const [variable, option, check] of NAMESPACE) {
    if (env[variable] === undefined) continue
    const value = env[variable].trim()
    // A shell variable that expanded to nothing must not mean the default: that is another scheduler.
    if (!value) throw new UsageError(`${variable} is set but empty: unset it for the default, or set it to the ${option} the scheduler's instances are given.`)
    try {
      options[option] = check(value)
    } catch (error) {
      throw new UsageError(`${variable}: ${configurationReason(error as Error)} Set it to the ${option} the scheduler's instances are given.`)
    }
  }
  return options
}

/** Flags win over the environment; what neither sets keeps the library's default. */
export function schedulerOptions(flags: SchedulerFlags, logger: Logger, env: NodeJS.ProcessEnv = process.env): SchedulerOptions {
  const options: SchedulerOptions = { logger, ...namespaceOptions(env) }
  const workerUrl = flags.workerUrl || undefined
  if (workerUrl) options.workerUrl = workerUrl
  const sources = optionSources(flags)
  // A worker behind auth: the client that sends SUBSCRIPTION_WORKER_HEADERS replaces the plain one.
  const withHeaders = workerClientWithHeaders(workerUrl ?? env.SUBSCRIPTION_WORKER_URL, env, sources.workerUrl)
  if (withHeaders) {
    options.workerClient = withHeaders
    delete options.workerUrl
  }
  const concurrency = integerFlag('concurrency', flags.concurrency, 1)
  if (concurrency !== undefined) options.concurrency = concurrency
  const timezone = flags.timezone || env.SUBSCRIPTION_TIMEZONE
  if (timezone) options.timezone = timezone
  const cron = flags.cron || env.SUBSCRIPTION_CRON
  if (cron) options.cron = cron
  // Checked quietly: its warnings (a fixed-offset zone) are said once, when the command resolves them.
  inFlagOrVariableTerms(() => resolvedQuietly(options), sources)
  return options
}

const QUIET: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/**
 * The options resolved for what a command reads of them (its queue prefix, say), without their
 * warnings (a fixed-offset zone): the scheduler the command creates says those, once.
 */
export function resolvedQuietly(options: SchedulerOptions): ReturnType<typeof resolveOptions> {
  return resolveOptions({ ...options, logger: QUIET })
}

/** The flag or variable each scheduler option the CLI sets came from: flags win, as above. */
function optionSources(flags: SchedulerFlags): Record<string, string> {
  return {
    workerUrl: flags.workerUrl ? '--worker-url' : 'SUBSCRIPTION_WORKER_URL',
    concurrency: '--concurrency',
    timezone: flags.timezone ? '--timezone' : 'SUBSCRIPTION_TIMEZONE',
    cron: flags.cron ? '--cron' : 'SUBSCRIPTION_CRON',
  }
}

/**
 * Runs the library's check of the options; a ConfigurationError about one a flag or variable set
 * becomes a UsageError naming what the user typed (`--cron: …`, not "Invalid option `cron`"),
 * said once: the library's own cause (the HTTP client's `baseUrl`) repeats it in API terms.
 */
function inFlagOrVariableTerms(check: () => unknown, sources: Record<string, string>): void {
  try {
    check()
  } catch (error) {
    // The library says where a URL from the environment came from; the source named here does.
    throw inUserTerms(error, sources, (reason) => inCliTerms(reason.replace(/^\(from the SUBSCRIPTION_WORKER_URL environment variable\) /, '')))
  }
}

/** `start()` would refuse without a worker; say it in the CLI's terms instead of the API's. */
export function requireWorkerUrl(flags: SchedulerFlags, env: NodeJS.ProcessEnv = process.env): void {
  if (flags.workerUrl || env.SUBSCRIPTION_WORKER_URL) return
  throw new UsageError('No subscription worker to call: pass --worker-url http://worker:8080 or export SUBSCRIPTION_WORKER_URL.')
}

/** citty's own parse errors (unknown command, missing argument) carry this name. */
export function isCittyUsageError(error: unknown): boolean {
  return error instanceof Error && error.name === 'CLIError'
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || isConfigurationError(error) || isCittyUsageError(error)) return EXIT.usage
  if (error instanceof SubscriptionBusyError || error instanceof SubscriptionStateError || error instanceof CallsPausedError) return EXIT.busy
  return EXIT.failure
}

/** One line per error in the cause chain; stacks only with `--verbose`. */
export function formatErrorChain(error: unknown, verbose: boolean): string {
  const lines: string[] = []
  let current: unknown = error
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const message = messageOf(current)
    if (depth === 0) lines.push(`error: ${message}`)
    else if (!lines.some((line) => line.includes(message))) lines.push(`  caused by: ${message}`)
    if (verbose && current instanceof Error && current.stack) lines.push(current.stack.split('\n').slice(1).join('\n'))
    current = current instanceof Error ? current.cause : undefined
  }
  const hint = connectionHint(error, 'DATABASE_URL')
  if (hint) lines.push(`  hint: ${hint}, then run the command again.`)
  else if (isPermissionDenied(error) && !isSchedulerError(error)) lines.push(`  hint: the database user lacks a privilege: grant it what ${PRIVILEGES_SECTION} lists, then run the command again.`)
  return lines.join('\n')
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  // A refused connection to a name with IPv4 and IPv6 addresses is an AggregateError with an
  // empty message; its parts say what happened.
  if (!error.message && error instanceof AggregateError) {
    return [...new Set(error.errors.map((e) => messageOf(e)))].join('; ') || error.name
  }
  return error.message || error.name
}
