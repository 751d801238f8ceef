/**
 * Child process: a scheduler that only works, beside the one that starts the run (scale-out
 * scenario). It starts (`schedule: false`), says it is ready in the `bench_ready` table, takes
 * jobs until every run on the database has finished, then stops.
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

const logger: Logger = { debug() {}, info() {}, warn: (m) => console.log(`warn: ${m}`), error: (m) => console.log(`error: ${m}`) }

async function main(): Promise<void> {
  const input = readInput<HelperInput>()
  const pool = new pg.Pool({ connectionString: input.url, max: 20 })
  pool.on('error', (error) => console.log(`pool error: ${error.message}`))
  const scheduler = createSubscriptionScheduler(pool, { workerUrl: input.workerUrl, concurrency: input.concurrency, schedule: false, logger })
  await scheduler.start()
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_ready (pid int)`)
  await pool.query(`INSERT INTO bench_ready VALUES ($1)`, [process.pid])
  for (;;) {
    const { rows } = await pool.query<{ runs: number; open: number }>(
      `SELECT count(*)::int AS runs, count(*) FILTER (WHERE finished_at IS NULL)::int AS open FROM subscription_scheduler.runs`,
    )
    if (rows[0]!.runs > 0 && rows[0]!.open === 0) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await scheduler.stop({ timeoutMs: 5000 })
  await pool.end()
  await report({ pid: process.pid })
}

main().catch(failChild)
