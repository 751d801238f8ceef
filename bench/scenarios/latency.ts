/**
 * Scenario 2, latency: the scheduler calls a real local HTTP worker (`workerUrl`) that answers
 * after 20 ms, at concurrency 64. Ideal throughput is concurrency / latency = 3200 calls/s;
 * efficiency is what was achieved over that.
 *
 * The machine's own ceiling is measured first: the library's HTTP client alone, `concurrency`
 * loops, no database (bench/baselines/http-ceiling.ts). The target is a share of that ceiling:
 * what the scheduler adds to the calls, not what the machine can do.
 *
 * The two are measured in alternated pairs, and the median of the pairs' ratios is held to the
 * target: a single pair moves by several points from run to run on a shared machine.
 *
 * Two rates are reported for the scheduler. "steady" is the worker's own view (calls over the window from the
 * first request to the last answer), which is what concurrency and per-batch overheads govern;
 * it is the one compared. "end to end" divides by the whole `runNow()`, which also
 * pays for the sweep's start and the run's completion poll.
 */
import type { BaselineRunInput, BaselineRunResult } from '../child/run-baseline.js'
import { runChild } from '../lib/child.js'
import { startHttpWorker } from '../lib/http-worker.js'
import { describeProcess, formatRate, median, printProfile } from '../lib/report.js'
import type { Scenario } from './shared.js'
import { measureScheduler, schedulerCase } from './shared.js'

/** Of the rate the HTTP client alone reaches on the same machine, in the same run. */
export const TARGET_OF_CLIENT = 0.9
/**
 * Pairs measured, client then scheduler, alternately. One pair's ratio moved between 0.83 and
 * 0.94 from run to run on a shared 2-core machine (bench/RESULTS.md); the median of alternated
 * pairs is held to the target, and every pair is reported.
 */
const PAIRS = 3

/**
 * The child's own CPU per call: on two cores both sides are bound by CPU, the machine's and this
 * process's, so a change to the call path shows here before the noisy rates can tell it.
 */
function cpuPerCall(cpuMs: number, calls: number): string {
  return `process CPU ${Math.round((cpuMs * 1000) / calls)} µs/call`
}

interface Pair {
  ceilingRate: number
  steady: number
  ofClient: number
}

export const latency: Scenario = async (ctx) => {
  const { latencyN: n, concurrency, workerDelayMs } = ctx.config
  const worker = await startHttpWorker(workerDelayMs)
  const ideal = concurrency / (workerDelayMs / 1000)
  const pairs: Pair[] = []
  const pairCount = ctx.config.smoke ? 1 : PAIRS
  try {
    for (let i = 0; i < pairCount; i++) {
      const tag = pairCount > 1 ? ` (pair ${i + 1} of ${pairCount})` : ''
      worker.reset()
      const ceiling = await runChild<BaselineRunInput, BaselineRunResult>(
        'run-baseline.ts',
        { kind: 'http-ceiling', url: '', ceiling: { workerUrl: worker.url, calls: n, concurrency } },
        `latency/http-ceiling${tag}`,
      )
      const ceilingStats = worker.stats()
      const ceilingRate = ceilingStats.windowMs > 0 ? (ceilingStats.calls / ceilingStats.windowMs) * 1000 : 0
      ctx.report.add({
        scenario: 'latency',
        case: `baseline: HTTP client alone, no database${tag}`,
        n,
        value: formatRate(ceilingRate, 'calls'),
        detail:
          `${(ceilingRate / ideal).toFixed(2)} of ${formatRate(ideal, 'calls')}; mean in flight ${ceilingStats.meanInFlight.toFixed(1)}; ` +
          `${ceiling.processed} ok, ${ceiling.failed ?? 0} failed; ${describeProcess(ceiling.wallMs, ceiling, n)}; ${cpuPerCall(ceiling.cpuMs, n)}`,
      })
      worker.reset()

      const measured = await measureScheduler(ctx, n, 'due', `latency/scheduler${tag}`, { workerUrl: worker.url })
      const run = measured.result.runs[0]!
      const stats = worker.stats()
      const steady = stats.windowMs > 0 ? (stats.calls / stats.windowMs) * 1000 : 0
      const endToEnd = (stats.calls / run.wallMs) * 1000
      const ofClient = ceilingRate > 0 ? steady / ceilingRate : 0
      pairs.push({ ceilingRate, steady, ofClient })
      ctx.report.add({
        scenario: 'latency',
        case: schedulerCase(ctx, `HTTP ${workerDelayMs} ms worker, c=${concurrency}${tag}`),
        n,
        value: formatRate(steady, 'calls'),
        detail:
          `${ofClient.toFixed(2)} of the client alone; efficiency ${(steady / ideal).toFixed(2)} of ${formatRate(ideal, 'calls')}; end to end ${formatRate(endToEnd, 'calls')} ` +
          `(${(endToEnd / ideal).toFixed(2)}); mean in flight ${stats.meanInFlight.toFixed(1)}, max ${stats.maxInFlight}; ` +
          `${stats.calls} calls, ${stats.errors} errors; ${describeProcess(run.wallMs, measured.result, n)}; ${cpuPerCall(measured.result.cpuMs, n)}`,
      })
      if (i === pairCount - 1) printProfile('the scheduler', measured.result)
      if (stats.calls !== n || !measured.allSettled) {
        ctx.report.note(`latency${tag}: the worker saw ${stats.calls} calls for ${n} subscriptions; rows after: ${measured.after}.`)
      }
    }
    const ratio = median(pairs.map((p) => p.ofClient))
    ctx.report.add({
      scenario: 'latency',
      case: schedulerCase(ctx, `scheduler / client alone, median of ${pairs.length}`),
      n,
      value: `${ratio.toFixed(2)}x`,
      detail: `pairs: ${pairs.map((p) => `${formatRate(p.steady, 'calls')} / ${formatRate(p.ceilingRate, 'calls')} = ${p.ofClient.toFixed(2)}`).join('; ')}`,
      target: `>= ${TARGET_OF_CLIENT} of the client alone`,
      met: ratio >= TARGET_OF_CLIENT,
    })
  } finally {
    await worker.close()
  }
}
