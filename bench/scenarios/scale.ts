/**
 * Scenario 5, scale: the throughput drain at N = 10k, 100k and 1M (smoke: 2k, 10k, 20k). The
 * cost per subscription should not grow with N (no step that scans the table, sorts all due
 * rows or holds them in memory), and the scheduler's peak RSS at the largest N must stay small.
 */
import { describeBuffers } from '../lib/buffer-cache.js'
import { describeProcess, formatRate, formatRatio, printProfile } from '../lib/report.js'
import type { Scenario } from './shared.js'
import { describeRun, measureScheduler, runRate, schedulerCase } from './shared.js'

/** Cost per subscription is "flat" when the largest N costs at most this much more than the cheapest. */
export const FLAT_RATIO = 1.5
/** Peak RSS of the scheduler's process at the largest N, with node's default flags. */
export const TARGET_RSS_MB = 256
/**
 * Under thousands of jobs a second V8 grows its young generation to its largest size, which it
 * derives from the machine's memory (two 64 MB semi-spaces on a 24 GB machine), and that is most
 * of a drain's peak RSS above what the process holds. A host can bound it with node's own flag;
 * when the default drain misses the target, the largest N is drained once more with it, to show
 * what the bound costs.
 */
export const SEMI_SPACE_MB = 16

interface Point {
  n: number
  rate: number
  usPerSub: number
  steadyUsPerSub: number
  rssMb: number
  aborted: boolean
}

export const scale: Scenario = async (ctx) => {
  const points: Point[] = []
  for (const n of ctx.config.scaleNs) {
    const measured = await measureScheduler(ctx, n, 'due', `scale/${n}`)
    const run = measured.result.runs[0]!
    // An aborted drain (memory or time guard) is costed on the rows it completed, and counts as a
    // miss. The steady cost leaves out the wait for the first worker call (up to one polling
    // interval, a fixed cost the herd scenario reports), which would otherwise dominate small N.
    const done = Math.max(1, run.completed)
    const steadyMs = run.wallMs - (run.firstCallMs ?? 0)
    const point = {
      n,
      rate: runRate(run),
      usPerSub: (run.wallMs * 1000) / done,
      steadyUsPerSub: (steadyMs * 1000) / done,
      rssMb: measured.result.maxRssMb,
      aborted: !run.summary,
    }
    points.push(point)
    ctx.report.add({
      scenario: 'scale',
      case: schedulerCase(ctx, 'scheduler drain'),
      n,
      value: formatRate(point.rate, 'subs'),
      detail:
        `${point.usPerSub.toFixed(0)} µs/sub (${point.steadyUsPerSub.toFixed(0)} after the first call); ${describeProcess(run.wallMs, measured.result)}; ${describeRun(run)}; ${measured.after}` +
        (measured.result.buffers ? `; ${describeBuffers(measured.result.buffers.before, measured.result.buffers.after, done)}` : '') +
        (measured.sharedWith ? `; same drain as ${measured.sharedWith}` : ''),
    })
    if (!measured.sharedWith) printProfile(`the scheduler at N=${n}`, measured.result)
    if (!measured.allSettled) ctx.report.note(`scale: at N=${n}, rows after the drain: ${measured.after}.`)
  }

  const costs = points.map((p) => p.steadyUsPerSub)
  const ratio = Math.max(...costs) / Math.min(...costs)
  ctx.report.add({
    scenario: 'scale',
    case: schedulerCase(ctx, 'steady cost per sub, max/min'),
    n: null,
    value: formatRatio(ratio),
    detail: `after the first call: ${points.map((p) => `${p.n}: ${p.steadyUsPerSub.toFixed(0)} µs`).join(', ')}`,
    target: `<= ${FLAT_RATIO}x (flat)`,
    met: ratio <= FLAT_RATIO && !points.some((p) => p.aborted),
  })
  const largest = points[points.length - 1]!
  ctx.report.add({
    scenario: 'scale',
    case: schedulerCase(ctx, 'scheduler peak RSS at largest N'),
    n: largest.n,
    value: `${largest.aborted ? '> ' : ''}${Math.round(largest.rssMb)} MB`,
    detail: points.map((p) => `${p.n}: ${Math.round(p.rssMb)} MB${p.aborted ? ' (aborted by a guard)' : ''}`).join(', '),
    target: `<= ${TARGET_RSS_MB} MB`,
    met: !largest.aborted && largest.rssMb <= TARGET_RSS_MB,
  })

  if (!largest.aborted && largest.rssMb <= TARGET_RSS_MB) return
  const capped = await measureScheduler(ctx, largest.n, 'due', `scale/${largest.n}/semi-space-${SEMI_SPACE_MB}`, { nodeArgs: [`--max-semi-space-size=${SEMI_SPACE_MB}`] })
  const cappedRun = capped.result.runs[0]!
  const cappedRate = runRate(cappedRun)
  ctx.report.add({
    scenario: 'scale',
    case: schedulerCase(ctx, `scheduler drain, node --max-semi-space-size=${SEMI_SPACE_MB}`),
    n: largest.n,
    value: `${cappedRun.summary ? '' : '> '}${Math.round(capped.result.maxRssMb)} MB`,
    detail: `${formatRate(cappedRate, 'subs')} (${formatRatio(cappedRate / largest.rate)} of the default drain); ${describeProcess(cappedRun.wallMs, capped.result)}; ${describeRun(cappedRun)}; ${capped.after}`,
  })
}
