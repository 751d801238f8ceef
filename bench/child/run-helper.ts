/**
 * Child process: a scheduler that only works, beside the one that starts the run (scale-out
 * scenario). It starts (`schedule: false`), says it is ready in the `bench_ready` table (which
 * the parent creates: helpers creating it at once race each other), takes jobs until every run
 * on the database has finished, then stops.
 *
 * Started by bench/lib/child.ts (`node --import tsx bench/child/run-helper.ts`).
 */
import pg from 'pg'
import { createSubscriptionScheduler } from '../../src/index.js'
import type { Logger } from '../../src/index.js'
import { failChild, readInput, report } from '../lib/child.js'

export interface HelperInput {
  url: string
  concurrency: number
  workerUrl: string
}

/** Longer than the measured process waits for its helpers (run-scheduler.ts). */
const NO_RUN_TIMEOUT_MS = 180_000

const logger: Logger = { debug() {}, info() {}, warn: (m) => console.log(`warn: ${m}`), error: (m) => console.log(`error: ${m}`) }

async function main(): Promise<void> {
  const input = readInput<HelperInput>()
  const pool = new pg.Pool({ connectionString: input.url, max: 20 })
  pool.on('error', (error) => console.log(`pool error: ${error.message}`))
  const scheduler = createSubscriptionScheduler(pool, { workerUrl: input.workerUrl, concurrency: input.concurrency, schedule: false, logger })
  await scheduler.start()
  await pool.query(`INSERT INTO bench_ready VALUES ($1)`, [process.pid])
  // The run starts once every helper is ready; if it never does (the measured process failed),
  // give up rather than wait for ever.
  const startBy = performance.now() + NO_RUN_TIMEOUT_MS
  for (;;) {
    const { rows } = await pool.query<{ runs: number; open: number }>(
      `SELECT count(*)::int AS runs, count(*) FILTER (WHERE finished_at IS NULL)::int AS open FROM subscription_scheduler.runs`,
    )
    if (rows[0]!.runs > 0 && rows[0]!.open === 0) break
    if (rows[0]!.runs === 0 && performance.now() > startBy) throw new Error(`no run started within ${NO_RUN_TIMEOUT_MS / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await scheduler.stop({ timeoutMs: 5000 })
  await pool.end()
  await report({ pid: process.pid })
}

main().catch(failChild)
