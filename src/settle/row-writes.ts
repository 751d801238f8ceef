/**
 * The row writes around a worker call, each one statement for a whole batch. Every write is
 * guarded by the row's slot (`scheduled_for`) and status, so a late or duplicate job can never
 * overwrite a newer state, and a slot is never recorded complete twice.
 */
import type { Executor } from '../db/executor.js'

export interface JobRef {
  processingId: string
  scheduledFor: Date
}

/** A row this job may call the worker for, with what the call needs. */
export interface ActiveRow {
  id: string
  subscription_id: string
  user_id: string | null
  frequency: string | null
  timezone: string | null
  anchor_at: Date | null
  scheduled_for: Date
  attempts: number
}

const JOBS = `unnest($1::uuid[], $2::timestamptz[]) AS j(id, slot)`

/*
 * Every batch write below finds its rows by primary key (`sp.id = ANY($1)`) and reads each
 * row's own values (its slot first) from `$2`, a jsonb object keyed by row id: a lookup per
 * row, never a join. Right after a sweep the table's statistics still say nothing is queued;
 * joined to an unnest() of the batch, the planner then either drove the write from the partial
 * lease index, reading every queued row (178 ms for 256 jobs among 200k queued rows), or
 * compared every row with every job (3.6 ms of 5.6 at 128 jobs, growing with the square):
 * bench/diagnose/begin-plan.ts. The status guards are written `(…) IS TRUE`, which matches no
 * partial index.
 */
export const VALUES = `($2::jsonb -> sp.id::text)`
export const SLOT_MATCHES = `sp.scheduled_for = (${VALUES} ->> 0)::timestamptz`

function refs(jobs: JobRef[]): [string[], Date[]] {
  return [jobs.map((j) => j.processingId), jobs.map((j) => j.scheduledFor)]
}

/** `$1` (the row ids) and `$2` (each row's slot, then `more` of its values). */
export function keyedValues<T extends JobRef>(jobs: T[], more: (job: T, index: number) => unknown[] = () => []): [string[], string] {
  const values: Record<string, unknown[]> = {}
  jobs.forEach((job, i) => (values[job.processingId] = [job.scheduledFor.toISOString(), ...more(job, i)]))
  return [jobs.map((j) => j.processingId), JSON.stringify(values)]
}

/**
 * Marks the rows `processing` and returns those still owed a call: same slot, still queued (or
 * processing, after a crash), subscription still active. Extends the lease past the call.
 */
export async function beginProcessing(db: Executor, jobs: JobRef[], now: Date, leaseSeconds: number): Promise<ActiveRow[]> {
  const { rows } = await db.query<ActiveRow>(
    `UPDATE subscription_processing sp
        SET status = 'processing', attempts = sp.attempts + 1,
            lease_expires_at = $3::timestamptz + make_interval(secs => $4), updated_at = $3
       FROM subscriptions s
      WHERE sp.id = ANY($1::uuid[]) AND ${SLOT_MATCHES} AND (sp.status IN ('queued', 'processing')) IS TRUE
        AND s.id = sp.subscription_id AND s.active IS TRUE
     RETURNING sp.id, sp.subscription_id, s.user_id::text AS user_id, s.frequency::text AS frequency,
               sp.timezone, sp.anchor_at, sp.scheduled_for, sp.attempts`,
    [...keyedValues(jobs), now, leaseSeconds],
  )
  return rows
}

/**
 * For jobs that were not begun: releases rows whose subscription went inactive (back to
 * `pending`, picked again once reactivated), and returns the jobs to count as skipped. That is
 * every one except duplicates of a slot already settled (completed, failed, or moved past),
 * which were counted when they settled; so every run adds up, whatever happened to its rows.
 */
export async function releaseSkipped(db: Executor, jobs: JobRef[], now: Date): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(
    `WITH jobs AS (SELECT * FROM ${JOBS}),
     released AS (
       UPDATE subscription_processing sp
          SET status = 'pending', lease_expires_at = NULL, updated_at = $3
         FROM jobs j, subscriptions s
        WHERE sp.id = ANY($1::uuid[]) AND sp.id = j.id AND sp.scheduled_for = j.slot AND (sp.status IN ('queued', 'processing')) IS TRUE
          AND s.id = sp.subscription_id AND s.active IS NOT TRUE
       RETURNING sp.id
     )
     SELECT j.id FROM jobs j
       LEFT JOIN subscription_processing sp ON sp.id = j.id
      WHERE sp.id IS NULL
         OR NOT (COALESCE(sp.last_completed_for = j.slot, false)
                 OR (sp.status = 'failed' AND sp.scheduled_for = j.slot)
                 OR COALESCE(sp.scheduled_for > j.slot, false))`,
    [...refs(jobs), now],
  )
  return new Set(rows.map((r) => r.id))
}

export interface Completion extends JobRef {
  nextRunAt: Date
  /** The worker's answer, already bounded in size, or null. */
  response: unknown
}

export interface Failure extends JobRef {
  error: string
}

/**
 * Records successes (`$2` holds each row's slot, next slot and answer; `$3` is now), once per
 * slot. Shared with settle-successes.ts, which adds the run counters to the same statement.
 */
export const COMPLETE_ROWS = `
  UPDATE subscription_processing sp
     SET status = 'completed', last_run_at = $3, next_run_at = (${VALUES} ->> 1)::timestamptz, error = NULL,
         last_completed_for = sp.scheduled_for, consecutive_failures = 0, lease_expires_at = NULL,
         anchor_at = COALESCE(sp.anchor_at, sp.scheduled_for), last_response = NULLIF(${VALUES} -> 2, 'null'::jsonb), updated_at = $3
   WHERE sp.id = ANY($1::uuid[]) AND ${SLOT_MATCHES} AND (sp.status = 'processing') IS TRUE
     AND sp.last_completed_for IS DISTINCT FROM sp.scheduled_for`

/** A completion's values after its slot, in `COMPLETE_ROWS`' order. */
export function completionValues(c: Completion): unknown[] {
  return [c.nextRunAt.toISOString(), c.response ?? null]
}

/** Records successes. Returns the ids actually completed by this call. */
export async function recordCompletions(db: Executor, done: Completion[], now: Date): Promise<Set<string>> {
  if (done.length === 0) return new Set()
  const { rows } = await db.query<{ id: string }>(`${COMPLETE_ROWS} RETURNING sp.id`, [...keyedValues(done, completionValues), now])
  return new Set(rows.map((r) => r.id))
}

function failureParams(failures: Failure[], now: Date): unknown[] {
  return [...keyedValues(failures, (f) => [f.error]), now]
}

/**
 * Records final failures: the row is `failed` with `next_run_at` on the failed slot, so the next
 * sweep (or `retryFailed`) tries that slot again with the same idempotency key. A row that has
 * now failed `pauseAfter` slots in a row is `paused` (reason `failures`) instead. Returns the
 * ids recorded, and which of them were paused.
 */
export async function recordFinalFailures(
  db: Executor,
  failures: Failure[],
  now: Date,
  pauseAfter: number | null,
): Promise<{ recorded: Set<string>; paused: Set<string> }> {
  if (failures.length === 0) return { recorded: new Set(), paused: new Set() }
  const { rows } = await db.query<{ id: string; status: string }>(
    `UPDATE subscription_processing sp
        SET status = CASE WHEN sp.consecutive_failures + 1 >= $4 THEN 'paused' ELSE 'failed' END,
            paused_reason = CASE WHEN sp.consecutive_failures + 1 >= $4 THEN 'failures' END,
            next_run_at = sp.scheduled_for, consecutive_failures = sp.consecutive_failures + 1,
            lease_expires_at = NULL, error = ${VALUES} ->> 1, updated_at = $3
      WHERE sp.id = ANY($1::uuid[]) AND ${SLOT_MATCHES} AND (sp.status = 'processing') IS TRUE
     RETURNING sp.id, sp.status`,
    [...failureParams(failures, now), pauseAfter ?? 2_147_483_647],
  )
  return { recorded: new Set(rows.map((r) => r.id)), paused: new Set(rows.filter((r) => r.status === 'paused').map((r) => r.id)) }
}

/** Records failures that will be retried: back to `queued`, claimed past the longest backoff. */
export async function recordRetries(db: Executor, failures: Failure[], now: Date, leaseSeconds: number): Promise<Set<string>> {
  if (failures.length === 0) return new Set()
  const { rows } = await db.query<{ id: string }>(
    `UPDATE subscription_processing sp
        SET status = 'queued', lease_expires_at = $3::timestamptz + make_interval(secs => $4),
            error = ${VALUES} ->> 1, updated_at = $3
      WHERE sp.id = ANY($1::uuid[]) AND ${SLOT_MATCHES} AND (sp.status = 'processing') IS TRUE
     RETURNING sp.id`,
    [...failureParams(failures, now), leaseSeconds],
  )
  return new Set(rows.map((r) => r.id))
}
