/**
 * What every scenario gets, and the measurement most of them share: a fresh database seeded
 * with N subscriptions, the scheduler started in a child process, `runNow()` timed there, and
 * every row checked afterwards.
 */
import type { BaselineRunInput, BaselineRunResult } from '../child/run-baseline.js'
import type { MeasuredRun, SchedulerRunInput, SchedulerRunResult } from '../child/run-scheduler.js'
import type { BenchConfig } from '../lib/args.js'
import { runChild } from '../lib/child.js'
import type { BenchDatabase, BenchServer } from '../lib/database.js'
import { withDatabase } from '../lib/database.js'
import type { Report } from '../lib/report.js'
import { formatMs } from '../lib/report.js'
import { describeCounts, seedSubscriptions, statusCounts } from '../lib/seed.js'
import type { SeedShape } from '../lib/seed.js'

export interface ScenarioContext {
  config: BenchConfig
  server: BenchServer
  template: BenchDatabase
  report: Report
  /**
   * Drains already measured in this run, by size and settings. The throughput (N=100k),
   * herd (100k, all due within one minute) and scale (…, 100k, …) drains are the same
   * measurement, so it is made once and its rows say where it came from.
   */
  drains: Map<string, { label: string; measured: Promise<Measured<SchedulerRunResult>> }>
}

export type Scenario = (ctx: ScenarioContext) => Promise<void>

export interface Measured<Result> {
  result: Result
  /** Rows by status after the run, e.g. "completed=100000". */
  after: string
  /** Whether every seeded row ended where it should (completed, for a due seed). */
  allSettled: boolean
  /** Set when this is a drain another scenario measured first: that scenario's label. */
  sharedWith?: string
}

/** Clones a database, seeds `n` rows of `shape`, runs `measure`, then checks every row. */
export async function withSeeded<Result>(
  ctx: ScenarioContext,
  n: number,
  shape: SeedShape,
  label: string,
  measure: (db: BenchDatabase) => Promise<Result>,
): Promise<Measured<Result>> {
  return await withDatabase(ctx.server, ctx.template, async (db) => {
    const seed = await seedSubscriptions(db.url, n, shape)
    console.error(`    [${label}] seeded ${seed.rows} rows (${shape}) into ${db.name} in ${formatMs(seed.ms)}`)
    const result = await measure(db)
    const counts = await statusCounts(db.url)
    // Due rows must all have been processed; future rows must all have been left alone.
    const allSettled = counts.completed === n
    if (!allSettled) console.error(`    [${label}] WARNING: rows after the run: ${describeCounts(counts)}`)
    return { result, after: describeCounts(counts), allSettled }
  })
}

/** Seeds `n` rows of `shape` and runs the scheduler's child on them. */
export async function measureScheduler(
  ctx: ScenarioContext,
  n: number,
  shape: SeedShape,
  label: string,
  input: Omit<SchedulerRunInput, 'url' | 'concurrency' | 'claimBatchSize'> & Partial<SchedulerRunInput> = {},
  { share = true }: { share?: boolean } = {},
): Promise<Measured<SchedulerRunResult>> {
  const full: Omit<SchedulerRunInput, 'url'> = {
    concurrency: ctx.config.concurrency,
    claimBatchSize: ctx.config.claimBatchSize,
    whatIf: ctx.config.whatIf,
    ...input,
  }
  // Only a plain drain (instant worker, one run) is shared between scenarios, unless a scenario
  // asks for a measurement of its own (a repeat).
  const key = share && shape === 'due' && !full.workerUrl && (full.runs ?? 1) === 1 ? JSON.stringify({ n, ...full }) : undefined
  const known = key ? ctx.drains.get(key) : undefined
  if (known) {
    console.error(`    [${label}] same drain as ${known.label}: reusing its measurement`)
    return { ...(await known.measured), sharedWith: known.label }
  }
  const measured = withSeeded(ctx, n, shape, label, (db) =>
    runChild<SchedulerRunInput, SchedulerRunResult>('run-scheduler.ts', { ...full, url: db.url }, label, full.nodeArgs),
  )
  if (key) ctx.drains.set(key, { label, measured })
  return await measured
}

/** Completed subscriptions per second of one run (partial, if a guard aborted it). */
export function runRate(run: MeasuredRun): number {
  return (run.completed / run.wallMs) * 1000
}

/** "processed 100000, ok 100000", or "ABORTED (RSS … guard after 80 s), 41250 completed". */
export function describeRun(run: MeasuredRun): string {
  if (!run.summary) return `ABORTED (${run.aborted}), ${run.completed} completed by then`
  return `processed ${run.summary.processed}, ok ${run.summary.successful}`
}

/** A scheduler row's case name, marked when what-if experiments were applied from the outside. */
export function schedulerCase(ctx: ScenarioContext, name: string): string {
  return ctx.config.whatIf.length ? `${name} [what-if: ${ctx.config.whatIf.join('+')}]` : name
}

/** Seeds `n` due rows and runs one baseline's child on them. */
export async function measureBaseline(
  ctx: ScenarioContext,
  n: number,
  label: string,
  input: Omit<BaselineRunInput, 'url'>,
): Promise<Measured<BaselineRunResult>> {
  return await withSeeded(ctx, n, 'due', label, (db) =>
    runChild<BaselineRunInput, BaselineRunResult>('run-baseline.ts', { ...input, url: db.url }, label),
  )
}
