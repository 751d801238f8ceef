/**
 * The shape of a process job, shared by the stages that make, run and settle one. A job carries a
 * page of rows claimed together: the ids only, since each row names the job that owns it
 * (`subscription_processing.job_id`) and everything else is read when the job runs. A retry of
 * one subscription is a page of one. Leaf module: it imports nothing of the library's.
 */
import { randomUUID } from 'node:crypto'
import type { JobInsert, JobWithMetadata } from 'pg-boss'

export interface PageJobData {
  runId: string
  /** `subscription_processing.id` of every row the job owns. */
  ids: string[]
  /** The spread window of the sweep that claimed the rows: each call waits for its own start. */
  spreadMs?: number | undefined
}

export type PageJob = JobWithMetadata<PageJobData>

/** Jobs left by an older version carry another shape: they own no row, so there is nothing to do. */
export function isPageJobData(data: unknown): data is PageJobData {
  const candidate = data as Partial<PageJobData> | null
  return typeof candidate?.runId === 'string' && Array.isArray(candidate.ids) && candidate.ids.every((id) => typeof id === 'string')
}

export interface PageJobTimings {
  expireInSeconds: number
  heartbeatSeconds: number
}

/** pg-boss retries a job whose instance died this many times; the rescue takes its rows after that. */
const CRASH_RETRIES = 10

/**
 * The pg-boss priority of a failed call's retry job: fetched before the pages queued ahead of it
 * (pg-boss takes the highest priority first, then the oldest). A trial's outage of 100,000 rows
 * saw retries start 110–480 s after their backoff of at most 5 s, queued behind a run's pages.
 */
export const RETRY_PRIORITY = 1

/**
 * pg-boss's `startAfter` for a job due at `at` by the scheduler's clock: its delay from `now`, in
 * seconds, which pg-boss adds to the database's own time. An instant would be read against the
 * database's clock, so a host clock ahead of it (or a manual clock set in the future, in a test)
 * would hold the job back by the difference, and one behind it would skip the wait. None when
 * the job is due already.
 */
export function startAfterOf(at: Date | null | undefined, now: Date): number | undefined {
  const ms = at ? Math.round(at.getTime() - now.getTime()) : 0
  return ms > 0 ? ms / 1000 : undefined
}

/**
 * A job for `ids`, ready for `boss.insert`. Its key is unique (the queue's `exclusive` policy
 * would otherwise merge jobs with no key). A row's failed call is not the job's failure: pg-boss
 * retries a job only when its instance died or stopped.
 */
export function pageJob(
  runId: string,
  ids: string[],
  timings: PageJobTimings,
  options: { id?: string | undefined; key?: string | undefined; startAfter?: number | undefined; priority?: number | undefined } = {},
): JobInsert<PageJobData> & { id: string } {
  const id = options.id ?? randomUUID()
  return {
    id,
    data: { runId, ids },
    singletonKey: options.key ?? `page:${runId}:${id}`,
    expireInSeconds: timings.expireInSeconds,
    heartbeatSeconds: timings.heartbeatSeconds,
    retryLimit: CRASH_RETRIES,
    retryDelay: 1,
    retryBackoff: false,
    ...(options.startAfter ? { startAfter: options.startAfter } : {}),
    ...(options.priority ? { priority: options.priority } : {}),
  }
}
