/**
 * The row writes that record outcomes, one statement each for a whole chunk. Every write is
 * guarded by ownership: it touches a row only while the job settling it still owns it (`job_id`)
 * and it is still `queued`. A job delivered twice, a settle replayed after a lost COMMIT reply,
 * or a job whose rows a rescue took over, therefore writes nothing the second time, and a slot
 * is never recorded complete twice.
 *
 * Rows are found by primary key (`sp.id = ANY($1)`) and each row's own values are read from `$2`,
 * a jsonb object keyed by row id: a lookup per row, never a join with the chunk, whose plan the
 * statistics of a table just swept could turn into a scan. The guards are written `(…) IS TRUE`,
 * which matches no partial index.
 */
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'

/** The row's values in `$2`. */
export const VALUES = `($2::jsonb -> sp.id::text)`
/** The row is still owned by the job `$3`, and still waiting for this outcome. */
const OWNED = `sp.id = ANY($1::uuid[]) AND (sp.job_id = $3::uuid AND sp.status = 'queued') IS TRUE`

/** `$1` (the row ids) and `$2` (each row's values, keyed by id). */
export function rowParams<T>(items: T[], idOf: (item: T) => string, valuesOf: (item: T) => unknown[]): [string[], string] {
  const values: Record<string, unknown[]> = {}
  for (const item of items) values[idOf(item)] = valuesOf(item)
  return [items.map(idOf), JSON.stringify(values)]
}

/**
 * Records successes: `$2` holds each row's next slot and answer, `$3` the owning job, `$4` now.
 * Shared with the statement that also adds the run's counters (settle-chunk.ts).
 */
export const COMPLETE_ROWS = `
  UPDATE subscription_processing sp
     SET status = 'completed', last_run_at = $4, next_run_at = (${VALUES} ->> 0)::timestamptz, error = NULL,
         last_completed_for = sp.scheduled_for, consecutive_failures = 0, last_failed_for = NULL,
         lease_expires_at = NULL, job_id = NULL, attempts = sp.attempts + 1,
         anchor_at = COALESCE(sp.anchor_at, sp.scheduled_for), last_response = NULLIF(${VALUES} -> 1, 'null'::jsonb), updated_at = $4
   WHERE ${OWNED} AND sp.last_completed_for IS DISTINCT FROM sp.scheduled_for`

export interface RetryWrite {
  id: string
  error: string
  /** The job that now owns the row (none: the rescue takes it), and until when it is claimed. */
  jobId: string | null
  leaseUntil: Date
}

/** Records failures that will be retried: the row stays `queued`, owned by its retry job. */
export async function recordRetries(db: Executor, jobId: string, retries: RetryWrite[], now: Date): Promise<Set<string>> {
  if (retries.length === 0) return new Set()
  const { rows } = await db.query<{ id: string }>(
    `UPDATE subscription_processing sp
        SET attempts = sp.attempts + 1, error = ${VALUES} ->> 0, job_id = (${VALUES} ->> 1)::uuid,
            lease_expires_at = (${VALUES} ->> 2)::timestamptz, updated_at = $4
      WHERE ${OWNED}
     RETURNING sp.id`,
    [...rowParams(retries, (r) => r.id, (r) => [r.error, r.jobId, r.leaseUntil.toISOString()]), jobId, now],
  )
  return new Set(rows.map((r) => r.id))
}

/**
 * Records final failures: the row is `failed` with `next_run_at` on the failed slot, so the next
 * sweep (or `retryFailed`) tries that slot again with the same idempotency key. Each run that
 * ends a row failed counts towards `$5` (`pauseAfterConsecutiveFailures`), except a
 * `retryFailed()` of a slot that already failed: an operator's re-drive is not another failed
 * run. A row that reaches `$5` is `paused` (reason `failures`) instead.
 */
export async function recordFinalFailures(
  db: Executor,
  jobId: string,
  failures: { id: string; error: string }[],
  now: Date,
  pauseAfter: number | null,
): Promise<{ recorded: Set<string>; paused: Set<string> }> {
  if (failures.length === 0) return { recorded: new Set(), paused: new Set() }
  const redrive = `(sp.last_failed_for = sp.scheduled_for AND (SELECT r.trigger FROM ${TABLES.runs} r WHERE r.id = sp.run_id) = 'retry') IS TRUE`
  const runs = `sp.consecutive_failures + (CASE WHEN ${redrive} THEN 0 ELSE 1 END)`
  const { rows } = await db.query<{ id: string; status: string }>(
    `UPDATE subscription_processing sp
        SET status = CASE WHEN ${runs} >= $5 THEN 'paused' ELSE 'failed' END,
            paused_reason = CASE WHEN ${runs} >= $5 THEN 'failures' END,
            consecutive_failures = ${runs}, last_failed_for = sp.scheduled_for,
            next_run_at = sp.scheduled_for, attempts = sp.attempts + 1, error = ${VALUES} ->> 0,
            lease_expires_at = NULL, job_id = NULL, updated_at = $4
      WHERE ${OWNED}
     RETURNING sp.id, sp.status`,
    [...rowParams(failures, (f) => f.id, (f) => [f.error]), jobId, now, pauseAfter ?? 2_147_483_647],
  )
  return { recorded: new Set(rows.map((r) => r.id)), paused: new Set(rows.filter((r) => r.status === 'paused').map((r) => r.id)) }
}

/**
 * Lets go of rows `jobId` owns but may not call for: paused, or their subscription inactive
 * (back to `pending`, picked again once reactivated). Returns those it let go of: each counts
 * once as skipped in its run.
 */
export async function releaseRows(db: Executor, jobId: string, ids: string[], now: Date): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const { rows } = await db.query<{ id: string }>(
    `UPDATE subscription_processing sp
        SET job_id = NULL, lease_expires_at = NULL, updated_at = $3,
            status = CASE WHEN sp.status = 'queued' THEN 'pending' ELSE sp.status END
       FROM subscriptions s
      WHERE sp.id = ANY($1::uuid[]) AND (sp.job_id = $2::uuid) IS TRUE AND s.id = sp.subscription_id
        AND (sp.status <> 'queued' OR s.active IS NOT TRUE)
     RETURNING sp.id`,
    [ids, jobId, now],
  )
  return new Set(rows.map((r) => r.id))
}

/**
 * Rows among `ids` that no longer exist (their subscription was deleted), counted for `runId`
 * once however often this is asked: returns how many were not counted before.
 */
export async function recordGone(db: Executor, runId: string, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0
  const { rowCount } = await db.query(
    `INSERT INTO ${TABLES.runSkips} (run_id, processing_id)
     SELECT $1, g.id FROM unnest($2::uuid[]) AS g(id)
      WHERE NOT EXISTS (SELECT 1 FROM subscription_processing sp WHERE sp.id = g.id)
     ON CONFLICT DO NOTHING`,
    [runId, ids],
  )
  return rowCount ?? 0
}
