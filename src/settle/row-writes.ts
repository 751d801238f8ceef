/**
 * The row writes that record outcomes, one statement each for a whole chunk. Every write is
 * guarded by ownership: it touches a row only while the job settling it still owns it (`job_id`)
 * and it is still `queued` (a success also when paused meanwhile). A job delivered twice, a settle replayed after a lost COMMIT reply,
 * or a job whose rows a rescue took over, therefore writes nothing the second time, and a slot
 * is never recorded complete twice.
 *
 * Rows are found by primary key (`sp.id = ANY($1)`) and each row's own values are read from `$2`,
 * a jsonb object keyed by row id: a lookup per row, never a join with the chunk, whose plan the
 * statistics of a table just swept could turn into a scan. The guards are written `(…) IS TRUE`,
 * which matches no partial index.
 */
import type { RetryOptions } from '../config/options.js'
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import type { Success } from './outcome.js'
import { KEPT_NEXT } from '../records/instants.js'

/** The row's values in `$2`: the job settling it first, then the write's own. */
export const VALUES = `($2::jsonb -> sp.id::text)`
/** The row is still owned by the job settling it, and still waiting for this outcome. */
const OWNED = `sp.id = ANY($1::uuid[]) AND (sp.job_id = (${VALUES} ->> 0)::uuid AND sp.status = 'queued') IS TRUE`

/** A row of a write, and the job that owns it. */
export interface Owned {
  id: string
  jobId: string
}

/** The row an outcome is about, and the job that called it. */
export const owned = (o: { row: { id: string }; jobId: string }): Owned => ({ id: o.row.id, jobId: o.jobId })

/** `$1` (the row ids) and `$2` (each row's owning job, then its values, keyed by id). */
export function rowParams<T extends Owned>(items: T[], valuesOf: (item: T) => unknown[] = () => []): [string[], string] {
  const values: Record<string, unknown[]> = {}
  for (const item of items) values[item.id] = [item.jobId, ...valuesOf(item)]
  return [items.map((item) => item.id), JSON.stringify(values)]
}

/** A success's values in `$2`: its next slot (null: the row has ended) and the worker's answer. */
export const successValues = (o: Success) => [o.nextRunAt?.toISOString() ?? null, o.response ?? null]

/**
 * A success is recorded for a row its job still owns, also when it was paused (or paused and
 * resumed) while the call was in flight: the worker did the work, so the slot is done and the
 * row moves on to its next slot, paused still if it is. Dropping it would call that slot again
 * after the resume.
 */
const OWNED_FOR_SUCCESS = `sp.id = ANY($1::uuid[]) AND (sp.job_id = (${VALUES} ->> 0)::uuid AND sp.status IN ('queued', 'paused', 'pending')) IS TRUE`
/** The success's next slot; null when the row has ended. */
const NEXT = `(${VALUES} ->> 1)::timestamptz`
const ENDED = `${VALUES} ->> 1 IS NULL`
/** A recorded slot's row: `ended` without a next slot, else `completed`. */
const SETTLED_STATUS = `CASE WHEN ${ENDED} THEN 'ended' ELSE 'completed' END`
/** A paused row whose success leaves it no slot: it ends, and its pause with it. */
const PAUSE_ENDS = `sp.status = 'paused' AND ${ENDED}`
/**
 * The row keeps the later of its next slot and the success's: a run made before its next slot (on
 * demand) does not bring back a slot skipped since, and a row paused until an instant meanwhile
 * keeps the first slot after it (the slots in between are not to be called). A sweep's slot is
 * the row's next one, which the success's follows. A run on demand that failed, retried to its
 * success, left its next slot in `kept_next_run_at` (recordFinalFailures()).
 */
const NEXT_KEPT = `CASE WHEN ${ENDED} THEN NULL ELSE GREATEST(sp.next_run_at, ${NEXT}, ${KEPT_NEXT}) END`

/**
 * Records successes: `$2` holds each row's job, next slot and answer; `$3` is now. Shared with
 * the statement that also adds the runs' counters (settle-chunk.ts).
 */
export const COMPLETE_ROWS = `
  UPDATE subscription_processing sp
     SET status = CASE WHEN sp.status = 'paused' AND NOT ${ENDED} THEN 'paused' ELSE ${SETTLED_STATUS} END,
         paused_reason = CASE WHEN ${PAUSE_ENDS} THEN NULL ELSE sp.paused_reason END,
         paused_until = CASE WHEN ${PAUSE_ENDS} THEN NULL ELSE sp.paused_until END,
         last_run_at = $3, next_run_at = ${NEXT_KEPT}, error = NULL,
         last_completed_for = sp.scheduled_for, consecutive_failures = 0, last_failed_for = NULL,
         lease_expires_at = NULL, job_id = NULL, attempts = sp.attempts + 1, kept_next_run_at = NULL,
         anchor_at = COALESCE(sp.anchor_at, sp.scheduled_for),
         first_run_for = CASE WHEN sp.anchor_at IS NULL THEN sp.scheduled_for ELSE sp.first_run_for END, last_response = NULLIF(${VALUES} -> 2, 'null'::jsonb), updated_at = $3
   WHERE ${OWNED_FOR_SUCCESS} AND sp.last_completed_for IS DISTINCT FROM sp.scheduled_for`

export interface RetryWrite extends Owned {
  error: string
  /** The job that now owns the row (none: the rescue takes it), and until when it is claimed. */
  nextJobId: string | null
  leaseUntil: Date
}

/** Records failures that will be retried: the row stays `queued`, owned by its retry job. */
export async function recordRetries(db: Executor, retries: RetryWrite[], now: Date): Promise<Set<string>> {
  if (retries.length === 0) return new Set()
  const { rows } = await db.query<{ id: string }>(
    `UPDATE subscription_processing sp
        SET attempts = sp.attempts + 1, error = ${VALUES} ->> 1, job_id = (${VALUES} ->> 2)::uuid,
            lease_expires_at = (${VALUES} ->> 3)::timestamptz, updated_at = $3
      WHERE ${OWNED}
     RETURNING sp.id`,
    [...rowParams(retries, (r) => [r.error, r.nextJobId, r.leaseUntil.toISOString()]), now],
  )
  return new Set(rows.map((r) => r.id))
}

/**
 * Gives rows to another job of their run (`$2`'s second value): stop() came before their calls,
 * or the circuit breaker held them back, when the claim lasts at least until the third value.
 */
export async function handOverRows(db: Executor, rows: (Owned & { nextJobId: string; leaseUntil: Date | null })[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set()
  const { rows: moved } = await db.query<{ id: string }>(
    `UPDATE subscription_processing sp
        SET job_id = (${VALUES} ->> 1)::uuid, lease_expires_at = GREATEST(sp.lease_expires_at, (${VALUES} ->> 2)::timestamptz)
      WHERE ${OWNED} RETURNING sp.id`,
    rowParams(rows, (r) => [r.nextJobId, r.leaseUntil?.toISOString() ?? null]),
  )
  return new Set(moved.map((r) => r.id))
}

/**
 * The row's failures in a row before the statement that returns this: a subquery sees the
 * statement's snapshot, not the row it is updating.
 */
const COUNT_BEFORE = `SELECT o.consecutive_failures FROM subscription_processing o WHERE o.id = sp.id`

/**
 * Records final failures: the row is `failed` with `next_run_at` on the failed slot, so the next
 * sweep (or `retryFailed`) tries that slot again with the same idempotency key. A run on demand
 * made before the row's next slot keeps that slot in `kept_next_run_at`, for its success. Each
 * run that ends a row failed counts towards `$4` (`pauseAfterConsecutiveFailures`), except a
 * `retryFailed()` or `runSubscription()` of a slot that already failed: an operator's re-drive is
 * not another failed run. A row that reaches `$4` is `paused` (reason `failures`) instead, when
 * this failure is its own (`pauses`: failsOnItsOwn()); one a worker outage caused stays `failed`,
 * for the sweeps after the outage to call.
 * A failed row waits `retry.failedSlotDelaySeconds` (`$5`), doubled for each failed run in a row
 * and at most `$6`, before a sweep tries its slot again (`retry_at`; the claim's `due` selection),
 * counted from its claim (the sweep's cutoff): from its failure, seconds into a sweep, it fell
 * just after the sweep a whole number of cron periods on, and waited one period more. But never
 * less than half the delay after the failure itself: the last failures of a long run (a worker
 * down through 100,000 calls, 12 minutes) would otherwise be due again at once.
 */
export async function recordFinalFailures(
  db: Executor,
  failures: (Owned & { error: string; pauses: boolean })[],
  now: Date,
  pauseAfter: number | null,
  retry: Pick<Required<RetryOptions>, 'failedSlotDelaySeconds' | 'failedSlotMaxDelaySeconds'>,
): Promise<{ recorded: Set<string>; paused: Set<string>; pausedAgain: Set<string> }> {
  if (failures.length === 0) return { recorded: new Set(), paused: new Set(), pausedAgain: new Set() }
  const redrive = `(sp.last_failed_for = sp.scheduled_for AND (SELECT r.trigger FROM ${TABLES.runs} r WHERE r.id = sp.run_id) IN ('retry', 'single')) IS TRUE`
  const runs = `sp.consecutive_failures + (CASE WHEN ${redrive} THEN 0 ELSE 1 END)`
  const pausing = `(${runs} >= $4 AND (${VALUES} ->> 2)::boolean)`
  const delay = `make_interval(secs => LEAST($6::int, $5::int * power(2, LEAST(GREATEST(${runs}, 1) - 1, 30))))`
  const { rows } = await db.query<{ id: string; status: string; counted: boolean }>(
    `UPDATE subscription_processing sp
        SET status = CASE WHEN ${pausing} THEN 'paused' ELSE 'failed' END,
            paused_reason = CASE WHEN ${pausing} THEN 'failures' END,
            consecutive_failures = ${runs}, last_failed_for = sp.scheduled_for,
            next_run_at = sp.scheduled_for, attempts = sp.attempts + 1, error = ${VALUES} ->> 1,
            kept_next_run_at = CASE WHEN sp.next_run_at > sp.scheduled_for THEN GREATEST(${KEPT_NEXT}, sp.next_run_at) ELSE ${KEPT_NEXT} END,
            retry_at = CASE WHEN $5::int > 0 THEN GREATEST(COALESCE(sp.claimed_at, $3::timestamptz) + ${delay}, $3::timestamptz + ${delay} / 2) END,
            lease_expires_at = NULL, job_id = NULL, updated_at = $3
      WHERE ${OWNED}
     RETURNING sp.id, sp.status, sp.consecutive_failures > (${COUNT_BEFORE}) AS counted`,
    [...rowParams(failures, (f) => [f.error, f.pauses]), now, pauseAfter ?? 2_147_483_647, retry.failedSlotDelaySeconds, retry.failedSlotMaxDelaySeconds],
  )
  const paused = rows.filter((r) => r.status === 'paused')
  // A retry of a slot paused for failing (retryFailed() lifts the pause) that fails again is
  // paused again, with no failed run more to count.
  return { recorded: new Set(rows.map((r) => r.id)), paused: new Set(paused.map((r) => r.id)), pausedAgain: new Set(paused.filter((r) => !r.counted).map((r) => r.id)) }
}

/**
 * Lets go of rows whose call succeeded for a slot already recorded complete: claimed for it again
 * (`runSubscription()` twice at one instant of a frozen clock, or a next slot set back by hand).
 * Nothing is recorded for the slot a second time; the row is free, its next slot the one after
 * (`$2`: each row's job, then that slot). Left queued, it waited for its lease's rescue, which
 * called the worker for the same slot again, every lease. Returns each one let go of, with its
 * run: each counts once as skipped there.
 */
export async function releaseRepeats(db: Executor, rows: (Owned & { nextRunAt: Date | null })[], now: Date): Promise<Map<string, string>> {
  if (rows.length === 0) return new Map()
  const { rows: released } = await db.query<{ id: string; run_id: string }>(
    `UPDATE subscription_processing sp
        SET status = ${SETTLED_STATUS}, next_run_at = ${NEXT},
            attempts = sp.attempts + 1, job_id = NULL, lease_expires_at = NULL, updated_at = $3
      WHERE ${OWNED} AND sp.last_completed_for = sp.scheduled_for
     RETURNING sp.id, sp.run_id`,
    [...rowParams(rows, (r) => [r.nextRunAt?.toISOString() ?? null]), now],
  )
  return new Map(released.map((r) => [r.id, r.run_id]))
}

/**
 * Lets go of rows their job owns and did not call: paused, their subscription inactive, or calls
 * paused fleet-wide, when it read them (back to `pending`, picked again by a sweep once callable).
 * Whatever their state by now: one resumed since (a pause lifted within a re-read) is not called
 * by this job either, and left queued it would wait for its lease's rescue. A row keeps the slot
 * it was claimed for: a new subscription's first slot (no `next_run_at` yet) is not replaced by a
 * later sweep's time, so its call carries the same idempotency key. Returns each one let go of,
 * with its run: each counts once as skipped there.
 */
export async function releaseRows(db: Executor, rows: Owned[], now: Date): Promise<Map<string, string>> {
  if (rows.length === 0) return new Map()
  const { rows: released } = await db.query<{ id: string; run_id: string }>(
    `UPDATE subscription_processing sp
        SET job_id = NULL, lease_expires_at = NULL, updated_at = $3,
            status = CASE WHEN sp.status = 'queued' THEN 'pending' ELSE sp.status END,
            next_run_at = COALESCE(sp.next_run_at, sp.scheduled_for)
      WHERE sp.id = ANY($1::uuid[]) AND (sp.job_id = (${VALUES} ->> 0)::uuid) IS TRUE
     RETURNING sp.id, sp.run_id`,
    [...rowParams(rows), now],
  )
  return new Map(released.map((r) => [r.id, r.run_id]))
}

/**
 * Lets go of rows their job owns and did not call because their slot lies outside their own
 * `starts_at`/`ends_at` (process/slot-window.ts): each moves to its first slot inside them (`$2`:
 * each row's job, then that slot), or ends without one, its pause with it. Returns each one let
 * go of, with its run: each counts once as skipped there.
 */
export async function releaseOutsideWindow(db: Executor, rows: (Owned & { nextRunAt: Date | null })[], now: Date): Promise<Map<string, string>> {
  if (rows.length === 0) return new Map()
  const { rows: released } = await db.query<{ id: string; run_id: string }>(
    `UPDATE subscription_processing sp
        SET status = CASE WHEN ${ENDED} THEN 'ended' WHEN sp.status = 'queued' THEN 'pending' ELSE sp.status END,
            paused_reason = CASE WHEN ${PAUSE_ENDS} THEN NULL ELSE sp.paused_reason END,
            paused_until = CASE WHEN ${PAUSE_ENDS} THEN NULL ELSE sp.paused_until END,
            next_run_at = ${NEXT}, job_id = NULL, lease_expires_at = NULL, updated_at = $3
      WHERE sp.id = ANY($1::uuid[]) AND (sp.job_id = (${VALUES} ->> 0)::uuid) IS TRUE
     RETURNING sp.id, sp.run_id`,
    [...rowParams(rows, (r) => [r.nextRunAt?.toISOString() ?? null]), now],
  )
  return new Map(released.map((r) => [r.id, r.run_id]))
}

/**
 * Rows that no longer exist (their subscription was deleted), each counted for its run once
 * however often this is asked: returns, per run, how many were not counted before.
 */
export async function recordGone(db: Executor, rows: { id: string; runId: string }[]): Promise<Map<string, number>> {
  if (rows.length === 0) return new Map()
  const { rows: counted } = await db.query<{ run_id: string; n: number }>(
    `WITH gone AS (
       INSERT INTO ${TABLES.runSkips} (run_id, processing_id)
       SELECT g.run_id, g.id FROM unnest($1::uuid[], $2::uuid[]) AS g(id, run_id)
        WHERE NOT EXISTS (SELECT 1 FROM subscription_processing sp WHERE sp.id = g.id)
       ON CONFLICT DO NOTHING
       RETURNING run_id
     )
     SELECT run_id::text, count(*)::int AS n FROM gone GROUP BY run_id`,
    [rows.map((r) => r.id), rows.map((r) => r.runId)],
  )
  return new Map(counted.map((r) => [r.run_id, r.n]))
}
