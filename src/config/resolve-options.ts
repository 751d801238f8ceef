/**
 * Validation of the options, in one place: each bad value throws a `ConfigurationError` that
 * names the option, the bad value and the fix.
 */
import { nearestKey } from './suggest.js'
import { CronExpressionParser } from 'cron-parser'
import { resolveCircuitBreaker } from './circuit-breaker.js'
import { resolveRetry } from './retry-options.js'
import { positiveInteger } from './integers.js'
import { createDatabaseClock } from '../observe/database-clock.js'
import { ConfigurationError } from '../errors.js'
import { configurationReason, shown } from '../error-text.js'
import { SCHEDULER_SCHEMA } from '../db/names.js'
import { createHttpWorkerClient } from '../worker-client/http-client.js'
import { resolveLogger } from '../observe/logger.js'
import { isValidTimeZone, parseRunAt, zoneName } from '../schedule/next-run.js'
import { fixedOffsetNote, offsetHint } from '../schedule/local-time.js'
import { resolveFrequencies } from '../schedule/frequency-rules.js'
import { DEFAULTS } from './options.js'
import { resolveFlow } from './flow.js'
import type { PgBossTuning, ResolvedOptions, SchedulerOptions } from './options.js'
import type { WorkerClient } from '../worker-client/types.js'

/** Every option, checked by the compiler: a new option cannot be left out of validation. */
export const OPTION_KEYS = {
  workerClient: true, workerUrl: true, workerTimeoutMs: true, cron: true, timezone: true, runAt: true, frequencies: true,
  catchUp: true, catchUpWindowDays: true, unknownFrequency: true, concurrency: true,
  maxConcurrentCalls: true, maxCallsPerSecond: true, spreadMinutes: true, claimBatchSize: true, retry: true, circuitBreaker: true, migrate: true,
  autoEnroll: true, schedule: true, work: true, queuePrefix: true, bossSchema: true, pollingIntervalSeconds: true,
  pauseAfterConsecutiveFailures: true, historyRetentionDays: true, rescueCron: true, interruptedSweepAfterSeconds: true,
  maxStoredResponseBytes: true, pgBoss: true, logger: true, clock: true,
} as const satisfies Record<keyof SchedulerOptions, true>

const KNOWN_KEYS = new Set<string>(Object.keys(OPTION_KEYS))

const PG_BOSS_KEYS = Object.keys({
  cronMonitorIntervalSeconds: true, cronWorkerIntervalSeconds: true, maintenanceIntervalSeconds: true,
  superviseIntervalSeconds: true, monitorIntervalSeconds: true,
} as const satisfies Record<keyof PgBossTuning, true>)

function booleanOption(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigurationError(option, `expected true or false, got ${shown(value)}.`)
  return value
}

function resolveCatchUp(value: unknown): 'latest' | 'all' {
  if (value === undefined) return DEFAULTS.catchUp
  if (value === 'latest' || value === 'all') return value
  throw new ConfigurationError('catchUp', `expected 'latest' (one call for a subscription that missed slots) or 'all' (one call per missed slot), got ${shown(value)}.`)
}

/**
 * From a day to a century. A window shorter than the time between sweeps would skip slots no
 * outage missed (a slot at 08:00 swept at 09:00 is an hour behind already): a day is the least.
 */
function resolveCatchUpWindow(value: unknown, catchUp: 'latest' | 'all'): number | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 36_500) {
    throw new ConfigurationError(
      'catchUpWindowDays',
      `expected a number of days from 1 to 36500 (fractions allowed: 1.5), or null for no limit, got ${shown(value)}. ` +
        'A shorter window would skip slots that only wait for the next sweep.',
    )
  }
  if (catchUp !== 'all') {
    throw new ConfigurationError('catchUpWindowDays', "limits how far back catchUp 'all' replays missed slots; with catchUp 'latest' a subscription gets one call whatever it missed. Set catchUp: 'all', or leave catchUpWindowDays out.")
  }
  return value
}

function resolveUnknownFrequency(value: unknown): 'daily' | 'fail' {
  if (value === undefined) return DEFAULTS.unknownFrequency
  if (value === 'daily' || value === 'fail') return value
  throw new ConfigurationError('unknownFrequency', `expected 'daily' (run it daily, with a warning) or 'fail' (call nobody; record its slot failed until the frequency is fixed), got ${shown(value)}.`)
}

function resolvePgBoss(tuning: unknown): PgBossTuning {
  if (tuning === undefined) return {}
  if (typeof tuning !== 'object' || tuning === null) throw new ConfigurationError('pgBoss', `expected an object, got ${shown(tuning)}.`)
  for (const [key, value] of Object.entries(tuning)) {
    if (!PG_BOSS_KEYS.includes(key)) throw new ConfigurationError(`pgBoss.${key}`, `unknown key${nearestKey(key, PG_BOSS_KEYS) || '.'} Known keys: ${PG_BOSS_KEYS.join(', ')}.`)
    positiveInteger(`pgBoss.${key}`, value, 3600)
  }
  return tuning as PgBossTuning
}

const CRON_EXAMPLE = "Example: '0 9 * * *' for 09:00 daily."

function validateCron(option: string, cron: unknown, timezone: string): string {
  // Five fields (minute hour day-of-month month day-of-week): pg-boss files a schedule's jobs by
  // minute, so a seconds field cannot fire more often; cron-parser would accept four or six.
  const fields = typeof cron === 'string' ? cron.trim().split(/\s+/).filter(Boolean).length : 0
  if (fields === 6) {
    throw new ConfigurationError(option, `${JSON.stringify(cron)} has 6 fields: seconds are not supported (pg-boss sends a schedule's job at most once a minute). Drop the first field. ${CRON_EXAMPLE}`)
  }
  if (typeof cron === 'string' && cron.trim() !== '' && fields !== 5) {
    throw new ConfigurationError(option, `${JSON.stringify(cron)} has ${fields} field${fields === 1 ? '' : 's'}; expected 5 (minute hour day-of-month month day-of-week). ${CRON_EXAMPLE}`)
  }
  try {
    if (typeof cron !== 'string') throw new TypeError('not a string')
    // cron-parser reads '' as '* * * * *' (every minute); pg-boss's schedule() rejects it at start().
    if (cron.trim() === '') throw new TypeError('empty')
    CronExpressionParser.parse(cron, { tz: timezone, strict: false })
    return cron
  } catch (error) {
    throw new ConfigurationError(option, `${JSON.stringify(cron)} is not a cron expression (${(error as Error).message}). ${CRON_EXAMPLE}`, { cause: error })
  }
}


function identifier(option: string, value: unknown, pattern: RegExp, hint: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new ConfigurationError(option, `expected ${hint}, got ${shown(value)}.`)
  }
  return value
}

/** The `queuePrefix` option: the scheduler's name among others on one database. */
export function checkQueuePrefix(value: unknown): string {
  return identifier('queuePrefix', value, /^[\w.-]{1,60}$/, 'letters, digits, `_`, `-` or `.` (at most 60)')
}

/** The `bossSchema` option: the schema of pg-boss's tables. */
export function checkBossSchema(value: unknown): string {
  const schema = identifier('bossSchema', value, /^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case Postgres schema name')
  // Postgres reserves pg_*; the scheduler's own schema and the catalog's are not pg-boss's to share.
  if (schema.startsWith('pg_') || schema === 'information_schema' || schema === SCHEDULER_SCHEMA) {
    throw new ConfigurationError('bossSchema', `${shown(schema)} is ${schema.startsWith('pg_') ? "reserved by Postgres (names starting with 'pg_')" : 'a schema of its own, not for pg-boss'}; use another name, such as 'pgboss' (the default).`)
  }
  // pg-boss's tables have plain names (job, queue, schedule, subscription, version): in the
  // schema a host's own tables live in by default, they would sit beside them, and could meet one.
  if (schema === 'public') {
    throw new ConfigurationError('bossSchema', "\"public\" is where your own tables live by default: pg-boss would create tables named job, queue, schedule, subscription and version there, beside yours; give it a schema of its own, such as 'pgboss' (the default).")
  }
  return schema
}

function resolveWorkerClient(options: SchedulerOptions, timeoutMs: number, maxStoredResponseBytes: number): WorkerClient | undefined {
  if (options.workerClient !== undefined) {
    if (typeof options.workerClient?.process !== 'function') {
      throw new ConfigurationError('workerClient', 'expected an object with a `process(request, { signal })` method.')
    }
    return options.workerClient
  }
  const fromEnv = options.workerUrl === undefined
  const url = options.workerUrl ?? process.env.SUBSCRIPTION_WORKER_URL
  // A scheduler used only to enrol or report needs no worker; start() checks for one. An empty
  // variable is unset; an empty workerUrl given is refused below, naming it.
  if (url === undefined || (fromEnv && url === '')) return undefined
  try {
    return createHttpWorkerClient({ baseUrl: url, timeoutMs, maxStoredResponseBytes })
  } catch (error) {
    // The HTTP client names its own `baseUrl`; the host set `workerUrl` (or the variable).
    if (error instanceof ConfigurationError && error.option === 'baseUrl') {
      const detail = configurationReason(error)
      throw new ConfigurationError('workerUrl', `${fromEnv ? '(from the SUBSCRIPTION_WORKER_URL environment variable) ' : ''}${detail}`, { cause: error })
    }
    throw error
  }
}

/** The worker client, or the error `start()` throws when there is none. */
export function requireWorkerClient(options: ResolvedOptions): WorkerClient {
  if (options.workerClient) return options.workerClient
  throw new ConfigurationError(
    'workerClient',
    'no worker to send subscriptions to. Pass `workerClient`, or `workerUrl`, or set the SUBSCRIPTION_WORKER_URL environment variable.',
  )
}

/** Validates and completes the options. Throws `ConfigurationError` on the first bad one. */
export function resolveOptions(options: SchedulerOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigurationError('options', `expected an object such as { workerUrl: 'http://worker:8080' }, got ${shown(options)}.`)
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new ConfigurationError(key, `unknown option${nearestKey(key, [...KNOWN_KEYS]) || '.'} Known options: ${[...KNOWN_KEYS].join(', ')}.`)
    }
  }
  const timezone = options.timezone ?? DEFAULTS.timezone
  if (typeof timezone !== 'string') {
    throw new ConfigurationError('timezone', `expected an IANA time zone name (a string) such as 'UTC' or 'Europe/Berlin', got ${shown(timezone)}.`)
  }
  if (!isValidTimeZone(timezone)) {
    throw new ConfigurationError('timezone', `unknown time zone ${JSON.stringify(timezone)}. Use an IANA name such as 'UTC' or 'Europe/Berlin'.${offsetHint(timezone)}`)
  }
  const cron = validateCron('cron', options.cron ?? DEFAULTS.cron, timezone)
  const rescueCron = validateCron('rescueCron', options.rescueCron ?? DEFAULTS.rescueCron, timezone)
  const runAt = options.runAt ?? DEFAULTS.runAt
  parseRunAt(runAt)
  const workerTimeoutMs = positiveInteger('workerTimeoutMs', options.workerTimeoutMs ?? DEFAULTS.workerTimeoutMs, 3_600_000)
  const polling = options.pollingIntervalSeconds ?? DEFAULTS.pollingIntervalSeconds
  if (typeof polling !== 'number' || !(polling >= 0.5) || polling > 3600) {
    throw new ConfigurationError('pollingIntervalSeconds', `expected a number from 0.5 to 3600, got ${shown(polling)}.`)
  }
  // A scheduler named apart (its own queuePrefix: two in one process) says so in its default logger's tag.
  const named = typeof options.queuePrefix === 'string' && options.queuePrefix !== DEFAULTS.queuePrefix ? options.queuePrefix : undefined
  const logger = resolveLogger(options.logger, named)
  const fixedOffset = fixedOffsetNote(timezone)
  if (fixedOffset) logger.warn(`The \`timezone\` option: ${fixedOffset}`)
  // The host's clock, corrected to the database's once started; a clock given is taken as it is.
  const clock = options.clock ?? createDatabaseClock()
  if (typeof clock?.now !== 'function') throw new ConfigurationError('clock', 'expected an object with a now(): Date method.')
  const reading: unknown = clock.now()
  if (!(reading instanceof Date) || Number.isNaN(reading.getTime())) {
    throw new ConfigurationError('clock', `now() must return a valid Date, got ${shown(reading)}.`)
  }
  const maxStoredResponseBytes = positiveInteger('maxStoredResponseBytes', options.maxStoredResponseBytes ?? DEFAULTS.maxStoredResponseBytes, 1_048_576)
  const concurrency = positiveInteger('concurrency', options.concurrency ?? DEFAULTS.concurrency, 10_000)
  const claimBatchSize = positiveInteger('claimBatchSize', options.claimBatchSize ?? DEFAULTS.claimBatchSize, 10_000)
  const flow = resolveFlow(options, concurrency, workerTimeoutMs, claimBatchSize)
  const catchUp = resolveCatchUp(options.catchUp)
  return {
    workerClient: resolveWorkerClient(options, workerTimeoutMs, maxStoredResponseBytes),
    workerTimeoutMs,
    cron,
    timezone: zoneName(timezone),
    runAt,
    frequencies: resolveFrequencies(options.frequencies),
    catchUp,
    catchUpWindowDays: resolveCatchUpWindow(options.catchUpWindowDays, catchUp),
    unknownFrequency: resolveUnknownFrequency(options.unknownFrequency),
    concurrency,
    claimBatchSize,
    retry: resolveRetry(options.retry),
    circuitBreaker: resolveCircuitBreaker(options.circuitBreaker),
    migrate: booleanOption('migrate', options.migrate, DEFAULTS.migrate),
    autoEnroll: booleanOption('autoEnroll', options.autoEnroll, DEFAULTS.autoEnroll),
    schedule: booleanOption('schedule', options.schedule, DEFAULTS.schedule),
    work: booleanOption('work', options.work, DEFAULTS.work),
    queuePrefix: checkQueuePrefix(options.queuePrefix ?? DEFAULTS.queuePrefix),
    bossSchema: checkBossSchema(options.bossSchema ?? DEFAULTS.bossSchema),
    pollingIntervalSeconds: polling,
    pauseAfterConsecutiveFailures:
      options.pauseAfterConsecutiveFailures === undefined ? null : positiveInteger('pauseAfterConsecutiveFailures', options.pauseAfterConsecutiveFailures, 10_000),
    historyRetentionDays: positiveInteger('historyRetentionDays', options.historyRetentionDays ?? DEFAULTS.historyRetentionDays, 3650),
    rescueCron,
    interruptedSweepAfterSeconds: positiveInteger('interruptedSweepAfterSeconds', options.interruptedSweepAfterSeconds ?? DEFAULTS.interruptedSweepAfterSeconds, 86_400),
    maxStoredResponseBytes,
    pgBoss: resolvePgBoss(options.pgBoss),
    logger,
    clock,
    ...flow,
  }
}
