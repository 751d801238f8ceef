/**
 * What-if experiments: changes to the scheduler applied from the outside at runtime, in the
 * scheduler's child process, so their effect can be measured before anyone edits src/. Each one
 * is off unless asked for with `--what-if <name>`, and every row measured with one is labelled.
 *
 * Each undoes one choice of the engine, to show what that choice costs or saves:
 *
 * - jobs-per-fetch-8: an instance fetches 8 page jobs at a time instead of the jobs per fetch
 *   src/config/flow.ts sets, so it holds four times the work. Fewer pg-boss fetches and
 *   completions per subscription; but the work an instance holds is work its peers cannot
 *   share, and each row waits behind all of it.
 * - no-carry: page jobs carry only their rows' ids, and each job reads its rows when it starts
 *   (what a job does anyway when it was delivered late, or again). Smaller jobs for pg-boss to
 *   write, compress and return; one more read per job.
 */
import { PgBoss } from 'pg-boss'
import type { WorkerClient } from '../../src/index.js'

export const WHAT_IFS = ['jobs-per-fetch-8', 'no-carry'] as const
export type WhatIf = (typeof WHAT_IFS)[number]

export interface AppliedWhatIfs {
  /** Rewrites a statement before it is sent, or returns it unchanged. */
  rewrite: (sql: string) => string
  /** Wraps the worker client, when a what-if needs it. */
  wrapClient: (client: WorkerClient) => WorkerClient
}

const isProcessQueue = (name: unknown) => typeof name === 'string' && name.endsWith('.process')

/** Overrides the options of `boss.work()` for the scheduler's process queue. */
function overrideProcessWork(override: (options: Record<string, unknown>) => Record<string, unknown>): void {
  const proto = PgBoss.prototype as unknown as { work: (...args: unknown[]) => unknown }
  const original = proto.work
  proto.work = function (this: unknown, ...args: unknown[]) {
    const [name, options] = args
    if (isProcessQueue(name) && typeof options === 'object' && options !== null) args[1] = override(options as Record<string, unknown>)
    return original.apply(this, args)
  }
}

/** Changes the jobs `boss.insert()` writes to the scheduler's process queue. */
function overrideProcessInsert(change: (job: { data?: Record<string, unknown> }) => object): void {
  const proto = PgBoss.prototype as unknown as { insert: (...args: unknown[]) => unknown }
  const original = proto.insert
  proto.insert = function (this: unknown, ...args: unknown[]) {
    const [name, jobs] = args
    if (isProcessQueue(name) && Array.isArray(jobs)) args[1] = jobs.map(change)
    return original.apply(this, args)
  }
}

export function applyWhatIfs(whatIfs: readonly WhatIf[]): AppliedWhatIfs {
  for (const whatIf of whatIfs) {
    if (whatIf === 'jobs-per-fetch-8') overrideProcessWork((options) => ({ ...options, batchSize: 8 }))
    if (whatIf === 'no-carry') {
      overrideProcessInsert(({ data, ...job }) => {
        const { rows: _rows, ...rest } = data ?? {}
        return { ...job, data: rest }
      })
    }
  }
  return { rewrite: (sql) => sql, wrapClient: (client) => client }
}
