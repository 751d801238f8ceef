/**
 * A backfill travels as a chain of jobs on the process queue, one per slot and attempt: each
 * calls the worker for its slot, then (in the transaction that records the outcome) enqueues the
 * next, so slots go oldest first and a crash re-calls at most the slot in hand. The run's
 * counters say how far it got: a job whose slot is already counted does nothing.
 */
import type { JobInsert, JobWithMetadata } from 'pg-boss'
import type { PageJobTimings } from '../process/page-job.js'

export interface BackfillJobData {
  kind: 'backfill'
  runId: string
  subscriptionId: string
  /** Every slot of the backfill, oldest first, as ISO strings. */
  slots: string[]
  /** The slot this job processes. */
  index: number
  /** This call's attempt at the slot (1 for the first). */
  attempt: number
}

export type BackfillJob = JobWithMetadata<BackfillJobData>

export function isBackfillJobData(data: unknown): data is BackfillJobData {
  const candidate = data as Partial<BackfillJobData> | null
  return candidate?.kind === 'backfill' && typeof candidate.runId === 'string' && Array.isArray(candidate.slots)
    && typeof candidate.index === 'number' && typeof candidate.attempt === 'number'
}

/** pg-boss delivers a step whose instance died again, this many times. */
const CRASH_RETRIES = 10

/** The job for slot `index`, attempt `attempt`; its key makes a second insert of the same step a no-op. */
export function backfillJob(
  data: Omit<BackfillJobData, 'kind'>,
  timings: PageJobTimings,
  /** Seconds from now ({@link startAfterOf}). */
  startAfter?: number,
): JobInsert<BackfillJobData> {
  return {
    data: { kind: 'backfill', ...data },
    singletonKey: `backfill:${data.runId}:${data.index}#${data.attempt}`,
    expireInSeconds: timings.expireInSeconds,
    heartbeatSeconds: timings.heartbeatSeconds,
    retryLimit: CRASH_RETRIES,
    retryDelay: 1,
    retryBackoff: false,
    ...(startAfter ? { startAfter } : {}),
  }
}
