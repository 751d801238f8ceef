/**
 * A scheduler instance in a process of its own, for tests that SIGKILL it: it starts on
 * DATABASE_URL with the options in SCHEDULER_OPTIONS (JSON) and a fake worker client, starts a
 * run without waiting for it, prints `run <id>`, and lives until it is killed.
 */
import pg from 'pg'
import { createSubscriptionScheduler } from '../../src/index.js'
import { createFakeWorkerClient } from '../../src/testing.js'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 })
pool.on('error', () => {})
const options = JSON.parse(process.env.SCHEDULER_OPTIONS ?? '{}') as Record<string, unknown>
const scheduler = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), logger: { info() {}, warn() {}, error() {}, debug() {} }, migrate: false, ...options })
await scheduler.start()
const { runId } = await scheduler.runNow({ wait: false })
process.stdout.write(`run ${runId}\n`)
setInterval(() => {}, 60_000)
