/**
 * Child process: one baseline. For the throughput scenario the pg-boss fan-out or the MVP's seed
 * algorithm, with the same instant worker; for the latency scenario the HTTP client's ceiling
 * (no database). Measured the same way as the scheduler: wall time, peak RSS, CPU and database
 * time of this process.
 *
 * Started by bench/lib/child.ts (`node --import tsx bench/child/run-baseline.ts`).
 */
import pg from 'pg'
import type { WorkerClient } from '../../src/index.js'
import { runHttpCeiling } from '../baselines/http-ceiling.js'
import type { HttpCeilingOptions } from '../baselines/http-ceiling.js'
import { runFanout } from '../baselines/pg-boss-fanout.js'
import type { FanoutOptions } from '../baselines/pg-boss-fanout.js'
import { runSeedAlgorithm } from '../baselines/seed-algorithm.js'
import type { SeedAlgorithmOptions } from '../baselines/seed-algorithm.js'
import { failChild, readInput, report, startMeter } from '../lib/child.js'
import type { ProcessMetrics } from '../lib/child.js'
import { QueryProfile } from '../lib/query-profile.js'

export type BaselineKind = 'fanout' | 'seed' | 'http-ceiling'

export interface BaselineRunInput {
  kind: BaselineKind
  /** The database; unused by the HTTP ceiling. */
  url: string
  /** Pool size. @default 20 for the fan-out, 10 (pg's default) for the seed algorithm */
  poolMax?: number
  fanout?: FanoutOptions
  seed?: SeedAlgorithmOptions
  ceiling?: HttpCeilingOptions
}

export interface BaselineRunResult extends ProcessMetrics {
  kind: BaselineKind
  processed: number
  wallMs: number
  /** Seed algorithm only: SELECT rounds. */
  pages?: number
  /** HTTP ceiling only: calls that failed. */
  failed?: number
}

/** The same instant worker the scheduler gets. */
const instantWorker: WorkerClient = {
  async process() {
    return { ok: true }
  },
}

async function main(): Promise<void> {
  const input = readInput<BaselineRunInput>()
  if (input.kind === 'http-ceiling') {
    const meter = startMeter()
    const run = await runHttpCeiling(input.ceiling!)
    const result: BaselineRunResult = { ...meter.finish([]), kind: input.kind, processed: run.processed, wallMs: Math.round(run.wallMs), failed: run.failed }
    await report(result)
  }
  const poolMax = input.poolMax ?? (input.kind === 'fanout' ? 20 : 10)
  const pool = new pg.Pool({ connectionString: input.url, max: poolMax })
  pool.on('error', (error) => console.log(`pool error: ${error.message}`))
  const profile = new QueryProfile()
  profile.attach(pool)

  let meter = startMeter()
  let run: { processed: number; wallMs: number; pages?: number }
  if (input.kind === 'fanout') {
    // The fan-out's start (pg-boss, queue, worker) is outside its measured drain, as the
    // scheduler's start() is; the meter restarts when the drain does.
    run = await runFanout(pool, instantWorker, {
      ...input.fanout,
      onDrainStart: () => {
        profile.reset()
        meter = startMeter()
      },
    })
  } else {
    profile.reset()
    meter = startMeter()
    run = await runSeedAlgorithm(pool, instantWorker, input.seed)
  }
  const metrics = meter.finish(profile.stats())
  await pool.end()
  const result: BaselineRunResult = {
    ...metrics,
    kind: input.kind,
    processed: run.processed,
    wallMs: Math.round(run.wallMs),
    ...(run.pages === undefined ? {} : { pages: run.pages }),
  }
  await report(result)
}

main().catch(failChild)
