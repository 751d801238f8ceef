/**
 * Scenario 3, idle: 1M subscriptions (smoke: 20k), all enrolled, none due. A sweep that finds nothing must
 * cost next to nothing, whatever the table's size: its claim must be an index range scan that
 * stops at once, not a scan of the table.
 *
 * Measured three ways: the claim SELECT under EXPLAIN ANALYZE (plan node and execution time,
 * held to the target), the same SELECT timed from the client, and whole `runNow()` calls in
 * the scheduler's child (which add the run's own bookkeeping: an INSERT and two UPDATEs).
 */
import pg from 'pg'
import { createEnrolmentGate } from '../../src/sweep/auto-enroll.js'
import type { SchedulerRunInput, SchedulerRunResult } from '../child/run-scheduler.js'
import { runChild } from '../lib/child.js'
import { explainClaim, explainCountDue, timeClaimSelect } from '../lib/explain.js'
import type { ExplainResult } from '../lib/explain.js'
import { formatMs, median } from '../lib/report.js'
import type { Scenario } from './shared.js'
import { schedulerCase, withSeeded } from './shared.js'

export const TARGET_MS = 5
const REPEATS = 5

interface EnrolmentTimes {
  /** A scheduled sweep's pass while the host table saw no insert: the gate's counter read. */
  gatedMs: number[]
  /** A pass that looks (on demand, or after an insert): two counts. */
  exactMs: number[]
  /** The anti-join an exact pass would run without the counts: for comparison only. */
  antiJoinMs: number
}

/** What auto-enrolment costs a sweep when every subscription is already enrolled. */
async function measureEnrolment(url: string): Promise<EnrolmentTimes> {
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  const silent = { debug() {}, info() {}, warn() {}, error() {} }
  try {
    const gate = createEnrolmentGate(silent)
    const time = async (fn: () => Promise<unknown>) => {
      const started = performance.now()
      await fn()
      return performance.now() - started
    }
    const exactMs: number[] = []
    for (let i = 0; i < REPEATS; i++) exactMs.push(await time(() => gate.run(pool, { exact: true })))
    const gatedMs: number[] = []
    for (let i = 0; i < REPEATS; i++) gatedMs.push(await time(() => gate.run(pool, { exact: false })))
    const antiJoinMs = await time(() =>
      pool.query(`SELECT s.id FROM subscriptions s WHERE NOT EXISTS (SELECT 1 FROM subscription_processing sp WHERE sp.subscription_id = s.id) LIMIT 5000`),
    )
    return { gatedMs, exactMs, antiJoinMs }
  } finally {
    await pool.end()
  }
}

interface IdleMeasurement {
  enrolment: EnrolmentTimes
  runs: SchedulerRunResult
  due: ExplainResult[]
  expired: ExplainResult
  clientMs: number[]
  countDue: ExplainResult
}

export const idle: Scenario = async (ctx) => {
  const { idleN: n, claimBatchSize, concurrency } = ctx.config
  const measured = await withSeeded(ctx, n, 'future', 'idle', async (db): Promise<IdleMeasurement> => {
    const enrolment = await measureEnrolment(db.url)
    const runs = await runChild<SchedulerRunInput, SchedulerRunResult>(
      'run-scheduler.ts',
      { url: db.url, concurrency, claimBatchSize, runs: REPEATS },
      'idle/scheduler',
    )
    const due: ExplainResult[] = []
    const clientMs: number[] = []
    for (let i = 0; i < REPEATS; i++) {
      due.push(await explainClaim(db.url, 'due', new Date(), claimBatchSize))
      clientMs.push(await timeClaimSelect(db.url, 'due', new Date(), claimBatchSize))
    }
    const expired = await explainClaim(db.url, 'expired', new Date(), claimBatchSize)
    const countDue = await explainCountDue(db.url, 'due', new Date())
    return { enrolment, runs, due, expired, clientMs, countDue }
  })
  const { enrolment, runs, due, expired, clientMs, countDue } = measured.result
  const gated = median(enrolment.gatedMs)
  ctx.report.add({
    scenario: 'idle',
    case: 'auto-enrolment, all enrolled: scheduled sweep',
    n,
    value: formatMs(gated),
    detail: `reads the insert counter of subscriptions; median of ${REPEATS}. src/auto-enroll.ts`,
    target: `<= ${TARGET_MS} ms`,
    met: gated <= TARGET_MS,
  })
  ctx.report.add({
    scenario: 'idle',
    case: 'auto-enrolment, all enrolled: runNow() or after an insert',
    n,
    value: formatMs(median(enrolment.exactMs)),
    detail: `two row counts; the anti-join they spare takes ${formatMs(enrolment.antiJoinMs)}; median of ${REPEATS}`,
  })

  const plan = due[due.length - 1]!
  const executionMs = median(due.map((d) => d.executionMs))
  const indexed = due.every((d) => d.usesIndex)
  ctx.report.add({
    scenario: 'idle',
    case: 'sweep claim SELECT (due), EXPLAIN',
    n,
    value: formatMs(executionMs),
    detail: `${plan.scan}; plan ${plan.shape}; planning ${formatMs(median(due.map((d) => d.planningMs)))}; client round trip ${formatMs(median(clientMs))} (median of ${REPEATS})`,
    target: `<= ${TARGET_MS} ms with an index`,
    met: indexed && executionMs <= TARGET_MS,
  })
  ctx.report.add({
    scenario: 'idle',
    case: 'sweep claim SELECT (expired leases)',
    n,
    value: formatMs(expired.executionMs),
    detail: `${expired.scan}; plan ${expired.shape}`,
    target: `<= ${TARGET_MS} ms with an index`,
    met: expired.usesIndex && expired.executionMs <= TARGET_MS,
  })
  ctx.report.add({
    scenario: 'idle',
    case: 'countDue(due): run start + each rescue tick',
    n,
    value: formatMs(countDue.executionMs),
    detail: `${countDue.scan}; plan ${countDue.shape}; src/status.ts, called by run-starter.ts on every run and by the rescue worker every minute`,
    target: `<= ${TARGET_MS} ms with an index`,
    met: countDue.usesIndex && countDue.executionMs <= TARGET_MS,
  })
  const walls = runs.runs.map((r) => r.wallMs)
  const reported = runs.runs.map((r) => r.summary?.durationMs ?? null)
  ctx.report.add({
    scenario: 'idle',
    case: schedulerCase(ctx, 'runNow() with nothing due'),
    n,
    value: formatMs(median(walls)),
    detail:
      `median of ${REPEATS} (min ${formatMs(Math.min(...walls))}, max ${formatMs(Math.max(...walls))}); ` +
      `includes createRun, auto-enrolment's two counts, countDue(due), 2 claim transactions, finishSweep and getRun; ` +
      `RunSummary.durationMs says ${reported.join('/')} ms; processed ${runs.runs.map((r) => r.summary?.processed ?? 'aborted').join('/')}`,
  })
  if (reported.every((ms) => ms === 0) && Math.min(...walls) > 1) {
    ctx.report.note(
      'idle: RunSummary.durationMs is 0 for every empty run although runNow() took milliseconds: finishSweep() settles ' +
        "the run with the sweep's start time (`now`, the claim cutoff), not the time it finished (src/sweep.ts).",
    )
  }
  if (!measured.allSettled) ctx.report.note(`idle: rows changed by an idle sweep: ${measured.after}.`)
}
