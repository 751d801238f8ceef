/**
 * What-if experiments: the fixes this bench proposes for src/, applied from the outside at
 * runtime in the scheduler's child process, so their effect can be measured before anyone
 * edits the library. Nothing here changes a file; each one is off unless asked for with
 * `--what-if <name,…>`, and every row measured with one is labelled with it.
 *
 * - zone-cache: memoise luxon's `IANAZone.isValidZone`, which builds a new Intl.DateTimeFormat
 *   per call; src/next-run.ts `isValidTimeZone()` calls it twice per job.
 * - begin-plan: write the status guards of the batch writes in src/settle.ts (beginProcessing,
 *   releaseSkipped, recordCompletions, recordFinalFailures, recordRetries) as `(…) IS TRUE`, so
 *   the planner cannot drive them from the partial lease index while its statistics still say
 *   nothing is queued (bench/diagnose/begin-plan.ts shows the plans).
 * - pipeline: twice as many pg-boss fetch loops on the process queue (same batch size), with the
 *   worker calls capped at `concurrency` by one shared semaphore, so one loop's database work
 *   overlaps the calls of the others (src/scheduler.ts, src/process-jobs.ts).
 * - big-batch: fetch 256 jobs per batch (2 loops), calls still capped at `concurrency`.
 */
import { IANAZone } from 'luxon'
import { PgBoss } from 'pg-boss'
import type { WorkerClient } from '../../src/index.js'

export const WHAT_IFS = ['zone-cache', 'begin-plan', 'pipeline', 'big-batch'] as const
export type WhatIf = (typeof WHAT_IFS)[number]

export interface AppliedWhatIfs {
  /** Rewrites a statement before it is sent, or returns it unchanged. */
  rewrite: (sql: string) => string
  /** Caps the worker client's calls in flight, when a what-if needs it. */
  wrapClient: (client: WorkerClient) => WorkerClient
}

function memoiseZoneValidation(): void {
  const original = IANAZone.isValidZone.bind(IANAZone)
  const cache = new Map<string, boolean>()
  IANAZone.isValidZone = (zone: string) => {
    let valid = cache.get(zone)
    if (valid === undefined) cache.set(zone, (valid = original(zone)))
    return valid
  }
}

const STATUS_GUARD = "sp.status IN ('queued', 'processing')"
const SETTLE_GUARD = "sp.status = 'processing'"

/** The batch writes of src/settle.ts, with status guards no partial index can drive. */
function rewriteBeginPlan(sql: string): string {
  if (!sql.includes('UPDATE subscription_processing sp') || !sql.includes('unnest(')) return sql
  return sql.replaceAll(STATUS_GUARD, `(${STATUS_GUARD}) IS TRUE`).replaceAll(SETTLE_GUARD, `(${SETTLE_GUARD}) IS TRUE`)
}

/** Overrides the options of `boss.work()` for the scheduler's process queue. */
function overrideProcessWork(override: (options: Record<string, unknown>) => Record<string, unknown>): void {
  const proto = PgBoss.prototype as unknown as { work: (...args: unknown[]) => unknown }
  const original = proto.work
  proto.work = function (this: unknown, ...args: unknown[]) {
    const [name, options] = args
    if (typeof name === 'string' && name.endsWith('.process') && typeof options === 'object' && options !== null) {
      args[1] = override(options as Record<string, unknown>)
    }
    return original.apply(this, args)
  }
}

function limitConcurrency(client: WorkerClient, limit: number): WorkerClient {
  let inFlight = 0
  const waiting: Array<() => void> = []
  return {
    async process(request, context) {
      if (inFlight >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
      inFlight += 1
      try {
        return await client.process(request, context)
      } finally {
        inFlight -= 1
        waiting.shift()?.()
      }
    },
  }
}

export function applyWhatIfs(whatIfs: readonly WhatIf[], concurrency: number): AppliedWhatIfs {
  const on = new Set(whatIfs)
  if (on.has('zone-cache')) memoiseZoneValidation()
  if (on.has('pipeline') && on.has('big-batch')) throw new Error('what-if: choose one of pipeline and big-batch.')
  if (on.has('pipeline')) {
    overrideProcessWork((o) => ({ ...o, localConcurrency: Number(o.localConcurrency ?? 1) * 2 }))
  }
  if (on.has('big-batch')) {
    overrideProcessWork((o) => ({ ...o, localConcurrency: 2, batchSize: Math.max(256, concurrency) }))
  }
  const capped = on.has('pipeline') || on.has('big-batch')
  return {
    rewrite: on.has('begin-plan') ? rewriteBeginPlan : (sql) => sql,
    wrapClient: (client) => (capped ? limitConcurrency(client, concurrency) : client),
  }
}
