/**
 * Child process: the scheduler side of a measurement. Starts a scheduler on the database it is
 * given, calls `runNow()` one or more times, and reports each run's wall time, the worker's
 * first and last call, and this process's peak RSS, CPU and database time.
 *
 * Started by bench/lib/child.ts (`node --import tsx bench/child/run-scheduler.ts`).
 */
import { performance } from 'node:perf_hooks'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeHeapSnapshot } from 'node:v8'
import { Session } from 'node:inspector/promises'
import { writeFileSync } from 'node:fs'
import pg from 'pg'
import { createHttpWorkerClient, createSubscriptionScheduler } from '../../src/index.js'
import type { Logger, RunSummary, SchedulerOptions, WorkerClient } from '../../src/index.js'
import { readBufferCounts } from '../lib/buffer-cache.js'
import type { BufferCounts } from '../lib/buffer-cache.js'
import { failChild, readInput, report, startMeter } from '../lib/child.js'
import type { ProcessMetrics } from '../lib/child.js'
import { QueryProfile } from '../lib/query-profile.js'
import { guardRun } from './run-guard.js'
import { applyWhatIfs } from './what-if.js'
import type { WhatIf } from './what-if.js'

export interface SchedulerRunInput {
  url: string
  concurrency: number
  claimBatchSize: number
  /** Calls go to this HTTP worker; without it, to an instant in-process worker. */
  workerUrl?: string
  /** How many `runNow()` calls to make, one after another. @default 1 */
  runs?: number
  /** Pool size of the host's `pg.Pool`. @default 20 */
  poolMax?: number
  /** Experiments applied from the outside (see what-if.ts). @default none */
  whatIf?: WhatIf[]
  /** Flags for the child's `node` (e.g. a heap cap); read by the parent when it spawns. */
  nodeArgs?: string[]
  /** Helpers (run-helper.ts) to wait for in `bench_ready` before the first run. @default 0 */
  peers?: number
}

export interface MeasuredRun {
  wallMs: number
  /** Null when a guard (memory or time) aborted the run. */
  summary: Pick<RunSummary, 'processed' | 'successful' | 'failed' | 'retried' | 'skipped' | 'durationMs' | 'error'> | null
  /** Rows completed by this run: the summary's `successful`, or a count when aborted. */
  completed: number
  /** Why the run did not finish, if it did not. */
  aborted?: string
  /** Worker calls seen in-process (instant worker only), and when the first and last began. */
  calls: number
  firstCallMs: number | null
  lastCallMs: number | null
}

export interface SchedulerRunResult extends ProcessMetrics {
  startMs: number
  runs: MeasuredRun[]
  /** The database's buffer cache counters before the runs and after the scheduler stopped. */
  buffers?: { before: BufferCounts; after: BufferCounts }
}

/** How long the scale-out scenario's helpers may take to start. */
const PEERS_TIMEOUT_MS = 120_000

/** Warnings and errors reach the parent's log; the rest is dropped. */
const logger: Logger = {
  debug() {},
  info() {},
  warn: (message) => console.log(`warn: ${message}`),
  error: (message) => console.log(`error: ${message}`),
}

/** Answers at once, and notes when each call began. */
function instantWorker(clock: { origin: number; calls: number; first: number | null; last: number | null }): WorkerClient {
  return {
    async process() {
      const at = performance.now() - clock.origin
      clock.calls += 1
      clock.first ??= at
      clock.last = at
      return { ok: true }
    },
  }
}

async function main(): Promise<void> {
  const input = readInput<SchedulerRunInput>()
  const pool = new pg.Pool({ connectionString: input.url, max: input.poolMax ?? 20 })
  pool.on('error', (error) => console.log(`pool error: ${error.message}`))
  const whatIfs = applyWhatIfs(input.whatIf ?? [])
  const profile = new QueryProfile()
  profile.attach(pool, whatIfs.rewrite)

  const clock = { origin: 0, calls: 0, first: null as number | null, last: null as number | null }
  // Without what-ifs, exactly what a host writes: `workerUrl`, or its own client.
  const worker: Pick<SchedulerOptions, 'workerUrl' | 'workerClient'> = input.whatIf?.length
    ? { workerClient: whatIfs.wrapClient(input.workerUrl ? createHttpWorkerClient({ baseUrl: input.workerUrl }) : instantWorker(clock)) }
    : input.workerUrl
      ? { workerUrl: input.workerUrl }
      : { workerClient: instantWorker(clock) }
  const options: SchedulerOptions = {
    concurrency: input.concurrency,
    claimBatchSize: input.claimBatchSize,
    // The template is migrated, but src/ may have gained a migration since: start() applies it
    // (outside the measured interval).
    migrate: true,
    logger,
    ...worker,
  }
  const scheduler = createSubscriptionScheduler(pool, options)
  const startedAt = performance.now()
  await scheduler.start()
  const startMs = performance.now() - startedAt

  const runs: MeasuredRun[] = []
  const buffersBefore = await readBufferCounts(input.url)
  profile.reset()
  const meter = startMeter()
  const guard = guardRun((reason) => void abort(reason))
  // Past a guard (memory or time): report the run so far (completed rows counted in the database) and exit.
  async function abort(reason: string): Promise<void> {
    const wallMs = performance.now() - clock.origin
    const { rows } = await pool
      .query<{ n: number }>(`SELECT count(*)::int AS n FROM subscription_processing WHERE last_completed_for IS NOT NULL`)
      .catch(() => ({ rows: [{ n: clock.calls }] }))
    runs.push({
      wallMs: Math.round(wallMs),
      summary: null,
      completed: rows[0]!.n,
      aborted: `${reason} after ${Math.round(wallMs / 1000)} s`,
      calls: clock.calls,
      firstCallMs: clock.first === null ? null : Math.round(clock.first),
      lastCallMs: clock.last === null ? null : Math.round(clock.last),
    })
    await report({ ...meter.finish(profile.stats()), startMs: Math.round(startMs), runs } satisfies SchedulerRunResult)
  }
  // BENCH_HEAP_SNAPSHOT_AT=<s>: one heap snapshot that many seconds into the first run
  // (read it with bench/diagnose/heap-summary.ts).
  const snapshotAt = Number(process.env.BENCH_HEAP_SNAPSHOT_AT)
  if (snapshotAt > 0) {
    const file = join(tmpdir(), `pss-bench-${process.pid}.heapsnapshot`)
    setTimeout(() => console.log(`heap snapshot: ${writeHeapSnapshot(file)}`), snapshotAt * 1000).unref()
  }
  // BENCH_ALLOC_PROFILE=<file>: V8's sampling heap profile of every allocation over the runs,
  // collected objects included (read it with bench/diagnose/alloc-summary.ts).
  const allocations = process.env.BENCH_ALLOC_PROFILE ? new Session() : null
  if (allocations) {
    allocations.connect()
    await allocations.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
  }
  // The scale-out scenario: the other processes are started and taking jobs before the run. A
  // helper that died at its start would otherwise leave this one waiting for ever.
  const peersBy = performance.now() + PEERS_TIMEOUT_MS
  while ((input.peers ?? 0) > 0) {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM bench_ready`)
    if (rows[0]!.n >= input.peers!) break
    if (performance.now() > peersBy) throw new Error(`${rows[0]!.n} of ${input.peers} helpers ready after ${PEERS_TIMEOUT_MS / 1000} s.`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  for (let i = 0; i < (input.runs ?? 1); i++) {
    Object.assign(clock, { origin: performance.now(), calls: 0, first: null, last: null })
    const summary = await scheduler.runNow()
    const wallMs = performance.now() - clock.origin
    runs.push({
      wallMs: Math.round(wallMs * 100) / 100,
      summary: {
        processed: summary.processed,
        successful: summary.successful,
        failed: summary.failed,
        retried: summary.retried,
        skipped: summary.skipped,
        durationMs: summary.durationMs,
        error: summary.error,
      },
      completed: summary.successful,
      calls: clock.calls,
      firstCallMs: clock.first === null ? null : Math.round(clock.first),
      lastCallMs: clock.last === null ? null : Math.round(clock.last),
    })
  }
  const metrics = meter.finish(profile.stats())
  if (allocations) {
    const { profile: sampled } = await allocations.post('HeapProfiler.stopSampling')
    writeFileSync(process.env.BENCH_ALLOC_PROFILE!, JSON.stringify(sampled))
    console.log(`allocation profile: ${process.env.BENCH_ALLOC_PROFILE}`)
  }
  guard.stop()
  const stopping = performance.now()
  await scheduler.stop({ timeoutMs: 5000 })
  await pool.end()
  console.log(`start() took ${Math.round(startMs)} ms, stop() ${Math.round(performance.now() - stopping)} ms`)
  // A backend reports its counters at most once a second, and as it exits.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const buffers = { before: buffersBefore, after: await readBufferCounts(input.url) }
  const result: SchedulerRunResult = { ...metrics, startMs: Math.round(startMs), runs, buffers }
  await report(result)
}

main().catch(failChild)
