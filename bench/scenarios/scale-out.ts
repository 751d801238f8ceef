/**
 * Scenario, scale-out: a worker that answers after 50 ms, and 1, 2, then 4 scheduler processes
 * on one database (each at the default concurrency, 16). One process starts the run; the others
 * only work. Calls per second must grow with the processes: the target is 1.8x with 2 and 3.2x
 * with 4, against 1 process measured in the same run.
 */
import type { HelperInput } from '../child/run-helper.js'
import type { SchedulerRunInput, SchedulerRunResult } from '../child/run-scheduler.js'
import { runChild } from '../lib/child.js'
import { startHttpWorker } from '../lib/http-worker.js'
import { formatRate, formatRatio } from '../lib/report.js'
import { createReadyTable } from '../lib/seed.js'
import type { Scenario } from './shared.js'
import { describeRun, runRate, withSeeded } from './shared.js'

export const TARGETS: Record<number, number> = { 2: 1.8, 4: 3.2 }
const PROCESSES = [1, 2, 4]
const CONCURRENCY = 16
const DELAY_MS = 50

export const scaleOut: Scenario = async (ctx) => {
  const n = ctx.config.scaleOutN
  const worker = await startHttpWorker(DELAY_MS)
  const rates = new Map<number, number>()
  try {
    for (const processes of PROCESSES) {
      worker.reset()
      const label = `scale-out/${processes}`
      const measured = await withSeeded(ctx, n, 'due', label, async (db) => {
        const helperInput: HelperInput = { url: db.url, concurrency: CONCURRENCY, workerUrl: worker.url }
        await createReadyTable(db.url)
        const helpers = Array.from({ length: processes - 1 }, (_, i) => runChild<HelperInput, unknown>('run-helper.ts', helperInput, `${label}/helper-${i + 1}`))
        // Awaited below; a helper failing meanwhile must not end the parent as an unhandled rejection.
        for (const helper of helpers) helper.catch(() => {})
        const input: SchedulerRunInput = { url: db.url, concurrency: CONCURRENCY, claimBatchSize: ctx.config.claimBatchSize, workerUrl: worker.url, peers: processes - 1 }
        const result = await runChild<SchedulerRunInput, SchedulerRunResult>('run-scheduler.ts', input, label)
        await Promise.all(helpers)
        return result
      })
      const run = measured.result.runs[0]!
      const rate = runRate(run)
      rates.set(processes, rate)
      const ratio = rate / rates.get(1)!
      const target = TARGETS[processes]
      ctx.report.add({
        scenario: 'scale-out',
        case: `${processes} process${processes === 1 ? '' : 'es'}, 50 ms worker, concurrency ${CONCURRENCY} each`,
        n,
        value: formatRate(rate, 'calls'),
        detail: `${processes === 1 ? 'baseline' : `${formatRatio(ratio)} of 1 process`}; ${describeRun(run)}; worker saw ${worker.stats().calls} calls, at most ${worker.stats().maxInFlight} at once; ${measured.after}`,
        ...(target === undefined ? {} : { target: `>= ${target}x of 1 process`, met: ratio >= target }),
      })
    }
  } finally {
    await worker.close()
  }
}
