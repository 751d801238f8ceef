/**
 * What-if experiments: changes to the scheduler applied from the outside at runtime, in the
 * scheduler's child process, so their effect can be measured before anyone edits src/. Each one
 * is off unless asked for with `--what-if <name,…>`, and every row measured with one is labelled.
 *
 * The earlier experiments here (memoised zone validation, plan-proof batch writes, more jobs
 * per fetch than call slots) were measured, then adopted in src/. What is left:
 *
 * - fetch-256, fetch-512: fetch that many jobs per pg-boss fetch (src/resolve-flow.ts fetches 4
 *   per call slot, 128 at concurrency 64). pg-boss's fetch costs about the same per call whatever
 *   its size, so bigger fetches drain faster; src/ does not take them because a fetched job's
 *   expiry must cover its wait behind the others (8 and 16 rounds of calls at the worker's
 *   timeout), which would delay pg-boss's retry of a dead instance's jobs by minutes.
 */
import { PgBoss } from 'pg-boss'
import type { WorkerClient } from '../../src/index.js'

export const WHAT_IFS = ['fetch-256', 'fetch-512'] as const
export type WhatIf = (typeof WHAT_IFS)[number]

export interface AppliedWhatIfs {
  /** Rewrites a statement before it is sent, or returns it unchanged. */
  rewrite: (sql: string) => string
  /** Wraps the worker client, when a what-if needs it. */
  wrapClient: (client: WorkerClient) => WorkerClient
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

export function applyWhatIfs(whatIfs: readonly WhatIf[], _concurrency: number): AppliedWhatIfs {
  if (whatIfs.length > 1) throw new Error(`what-if: choose one of ${WHAT_IFS.join(', ')}.`)
  const size = whatIfs[0] === 'fetch-256' ? 256 : whatIfs[0] === 'fetch-512' ? 512 : null
  if (size !== null) overrideProcessWork((o) => ({ ...o, batchSize: size }))
  return { rewrite: (sql) => sql, wrapClient: (client) => client }
}
