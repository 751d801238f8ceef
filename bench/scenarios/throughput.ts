/**
 * Scenario 1, throughput: N due subscriptions drained by one `scheduler.runNow()` with an
 * instant worker (concurrency 64, claimBatchSize 1000), against two baselines measured in the
 * same run on the same server: the hand-written pg-boss fan-out and the MVP's seed algorithm.
 * Each side runs in a child process; its peak RSS is its own.
 */
import type { BaselineRunResult } from '../child/run-baseline.js'
import { BOSS_SCHEMA } from '../lib/database.js'
import { describeProcess, formatRate, formatRatio, printProfile } from '../lib/report.js'
import type { Measured, Scenario, ScenarioContext } from './shared.js'
import { describeRun, measureBaseline, measureScheduler, runRate, schedulerCase } from './shared.js'

/** Targets from the issue, at N = 100k (against the fan-out, 2x is the aim). */
export const TARGETS = { vsFanout: 1.5, vsSeed: 6 } as const

function baselineRow(ctx: ScenarioContext, n: number, name: string, measured: Measured<BaselineRunResult>): number {
  const { result } = measured
  const rate = (result.processed / result.wallMs) * 1000
  const extra = result.pages === undefined ? '' : `, ${result.pages} SELECT pages`
  ctx.report.add({
    scenario: 'throughput',
    case: name,
    n,
    value: formatRate(rate, 'subs'),
    detail: `${describeProcess(result.wallMs, result, result.processed)}${extra}; ${measured.after}`,
  })
  printProfile(name, result)
  return rate
}

export const throughput: Scenario = async (ctx) => {
  const { n, concurrency, claimBatchSize } = ctx.config

  const scheduler = await measureScheduler(ctx, n, 'due', 'throughput/scheduler')
  const run = scheduler.result.runs[0]!
  const schedulerRate = runRate(run)
  ctx.report.add({
    scenario: 'throughput',
    case: schedulerCase(ctx, `scheduler (c=${concurrency}, claim ${claimBatchSize})`),
    n,
    value: formatRate(schedulerRate, 'subs'),
    detail: `${describeProcess(run.wallMs, scheduler.result, run.completed)}; ${describeRun(run)}; ${scheduler.after}`,
  })
  printProfile('the scheduler', scheduler.result)

  const fanout = await measureBaseline(ctx, n, 'throughput/fanout', {
    kind: 'fanout',
    fanout: { chunk: 1000, batchSize: 500, localConcurrency: 2, schema: BOSS_SCHEMA },
  })
  const fanoutRate = baselineRow(ctx, n, 'baseline: pg-boss fan-out', fanout)

  const seed = await measureBaseline(ctx, n, 'throughput/seed', { kind: 'seed', seed: { pageSize: 100, parallel: 5 } })
  const seedRate = baselineRow(ctx, n, 'baseline: seed algorithm', seed)

  const vsFanout = schedulerRate / fanoutRate
  const vsSeed = schedulerRate / seedRate
  ctx.report.add({
    scenario: 'throughput',
    case: schedulerCase(ctx, 'ratio scheduler / fan-out'),
    n,
    value: formatRatio(vsFanout),
    detail: `${formatRate(schedulerRate, 'subs')} vs ${formatRate(fanoutRate, 'subs')}`,
    target: `>= ${TARGETS.vsFanout}x`,
    met: vsFanout >= TARGETS.vsFanout,
  })
  ctx.report.add({
    scenario: 'throughput',
    case: schedulerCase(ctx, 'ratio scheduler / seed'),
    n,
    value: formatRatio(vsSeed),
    detail: `${formatRate(schedulerRate, 'subs')} vs ${formatRate(seedRate, 'subs')}`,
    target: `>= ${TARGETS.vsSeed}x`,
    met: vsSeed >= TARGETS.vsSeed,
  })
  if (!scheduler.allSettled || !fanout.allSettled || !seed.allSettled) {
    ctx.report.note('throughput: some rows were not completed after a drain; see the warnings in the log.')
  }
}
