/**
 * One scheduler instance in a process of its own, as a host backend would run it. Started by
 * the chaos suite (test/chaos/children.ts) with `node --import tsx`, never by hand.
 *
 * Environment:
 * - DATABASE_URL       the database, shared by every instance
 * - WORKER_URL         base URL of the worker (POST {WORKER_URL}/process)
 * - CHAOS_INSTANCE     a name for log lines
 * - SCHEDULER_OPTIONS  JSON, merged over the defaults below (any SchedulerOptions but
 *                      workerClient, logger, clock)
 * - POOL_MAX           size of the pg.Pool. @default 10
 * - STOP_TIMEOUT_MS    given to stop() on SIGTERM. @default 5000
 * - RUN_NOW=1          call runNow({ wait: false }) once started
 * - GUARD_CLIENT_ERRORS=1  give every pooled client an 'error' listener of its own: the
 *                      workaround a host needs while the scheduler leaves checked-out clients
 *                      without one (a dropped connection mid-transaction then crashes it)
 *
 * Protocol on stdout, one line each: `READY <pid> …`, `RUN <runId>`, `LOG <level> <message>`,
 * `STOPPED`. On stdin it accepts `run-now`. It exits 0 after stop() on SIGTERM (or when stdin
 * closes, so that it never outlives the test), and 70 on an unhandled rejection or exception,
 * with the error on stderr.
 */
import { createInterface } from 'node:readline'
import pg from 'pg'
import { createSubscriptionScheduler } from '../../src/index.js'
import type { Logger, SchedulerOptions } from '../../src/index.js'

const instance = process.env.CHAOS_INSTANCE ?? `pid-${process.pid}`
const bootedAt = performance.now()

function emit(line: string): void {
  process.stdout.write(`${line.replace(/\n/g, '\\n')}\n`)
}

function fatal(kind: string, error: unknown): never {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error)
  process.stderr.write(`FATAL ${kind} in ${instance}: ${text}\n`)
  process.exit(70)
}

process.on('unhandledRejection', (error) => fatal('unhandledRejection', error))
process.on('uncaughtException', (error) => fatal('uncaughtException', error))

const databaseUrl = process.env.DATABASE_URL
const workerUrl = process.env.WORKER_URL
if (!databaseUrl || !workerUrl) fatal('configuration', new Error('DATABASE_URL and WORKER_URL are required'))

const logger: Logger = {
  debug() {},
  info: (message) => emit(`LOG info ${message}`),
  warn: (message) => emit(`LOG warn ${message}`),
  error: (message) => emit(`LOG error ${message}`),
}

const extra = JSON.parse(process.env.SCHEDULER_OPTIONS ?? '{}') as SchedulerOptions
const options: SchedulerOptions = {
  workerUrl,
  concurrency: 16,
  workerTimeoutMs: 1000,
  retry: { limit: 3, delaySeconds: 1, maxDelaySeconds: 2 },
  migrate: true,
  pollingIntervalSeconds: 0.5,
  ...extra,
  logger,
}

// No 'error' listener of our own on the pool: the scheduler promises to add one while it runs,
// and this process is here to find out whether a dropped idle connection crashes a host.
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.POOL_MAX ?? 10) })
if (process.env.GUARD_CLIENT_ERRORS === '1') pool.on('connect', (client) => client.on('error', () => {}))
const scheduler = createSubscriptionScheduler(pool, options)

let stopping: Promise<void> | undefined
function shutdown(reason: string): Promise<void> {
  stopping ??= (async () => {
    const timeoutMs = Number(process.env.STOP_TIMEOUT_MS ?? 5000)
    // A stop that hangs is a bug worth a distinct exit code, not a test that never ends.
    const watchdog = setTimeout(() => {
      process.stderr.write(`FATAL stop() in ${instance} (${reason}) did not return within ${timeoutMs + 15_000} ms\n`)
      process.exit(75)
    }, timeoutMs + 15_000)
    try {
      await scheduler.stop({ timeoutMs })
      await pool.end()
      emit('STOPPED')
      clearTimeout(watchdog)
      process.exit(0)
    } catch (error) {
      process.stderr.write(`FATAL stop() in ${instance} failed: ${(error as Error).stack ?? String(error)}\n`)
      process.exit(1)
    }
  })()
  return stopping
}

async function runNow(): Promise<void> {
  try {
    const { runId } = await scheduler.runNow({ wait: false })
    emit(`RUN ${runId}`)
  } catch (error) {
    emit(`LOG error runNow failed: ${(error as Error).message}`)
    emit('RUN_FAILED')
  }
}

process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))

await scheduler.start()
emit(`READY ${process.pid} (loaded in ${Math.round(bootedAt)} ms, started in ${Math.round(performance.now() - bootedAt)} ms)`)

const commands = createInterface({ input: process.stdin })
commands.on('line', (line) => {
  if (line.trim() === 'run-now') void runNow()
})
// The test process went away: don't outlive it.
commands.on('close', () => void shutdown('stdin closed'))

if (process.env.RUN_NOW === '1') await runNow()
