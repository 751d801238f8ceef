/**
 * Scenario 4, herd: 100k subscriptions (smoke: 5k) all due in the same minute, the morning
 * peak. How long after `runNow()` starts does the first worker call happen (the sweep must not
 * claim everything before anything runs), and when does the last one?
 */
import { herdSize } from '../lib/args.js'
import { describeProcess, formatMs, formatRate, printProfile } from '../lib/report.js'
import type { Scenario } from './shared.js'
import { describeRun, measureScheduler, runRate, schedulerCase } from './shared.js'

export const TARGET_FIRST_CALL_MS = 250

export const herd: Scenario = async (ctx) => {
  const n = herdSize(ctx.config)
  const measured = await measureScheduler(ctx, n, 'due', 'herd/scheduler')
  const run = measured.result.runs[0]!
  const first = run.firstCallMs ?? Number.POSITIVE_INFINITY
  const last = run.lastCallMs ?? Number.POSITIVE_INFINITY
  const claims = measured.result.queries.find((q) => q.category === 'sweep: claim page')
  const sweepInfo = claims
    ? `first claim page committed by ${formatMs(claims.firstEndMs)}, last by ${formatMs(claims.lastEndMs)}`
    : 'no claim page seen'
  ctx.report.add({
    scenario: 'herd',
    case: schedulerCase(ctx, 'time to first worker call'),
    n,
    value: formatMs(first),
    detail: `${sweepInfo}; ${run.calls} calls${measured.sharedWith ? `; same drain as ${measured.sharedWith}` : ''}`,
    target: `<= ${TARGET_FIRST_CALL_MS} ms`,
    met: first <= TARGET_FIRST_CALL_MS,
  })
  ctx.report.add({
    scenario: 'herd',
    case: schedulerCase(ctx, 'time to last worker call'),
    n,
    value: formatMs(last),
    detail: `runNow() resolved after ${formatMs(run.wallMs)} (${formatRate(runRate(run), 'subs')}); ${describeRun(run)}; ${describeProcess(run.wallMs, measured.result)}`,
  })
  if (!measured.sharedWith) printProfile('the scheduler', measured.result)
  if (run.calls !== n || !measured.allSettled) {
    ctx.report.note(`herd: ${run.calls} worker calls for ${n} due subscriptions; rows after: ${measured.after}.`)
  }
}
