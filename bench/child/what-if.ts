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
 */
import { PgBoss } from 'pg-boss'
import type { WorkerClient } from '../../src/index.js'

export const WHAT_IFS = ['jobs-per-fetch-8'] as const
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

export function applyWhatIfs(whatIfs: readonly WhatIf[]): AppliedWhatIfs {
  for (const whatIf of whatIfs) {
    if (whatIf === 'jobs-per-fetch-8') overrideProcessWork((options) => ({ ...options, batchSize: 8 }))
  }
  return { rewrite: (sql) => sql, wrapClient: (client) => client }
}
