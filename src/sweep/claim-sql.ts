/**
 * The claim statement: which rows each kind of sweep takes, in which order, and how it marks
 * them. One statement per page, run inside the page's transaction (claim.ts).
 */
import { LOWEST_UUID } from '../db/names.js'
import { ownedByLiveJob } from './live-claims.js'
import type { JobQueue } from './live-claims.js'

export type ClaimKind = 'due' | 'expired' | 'failed' | 'single'

/** A keyset position: the sort key (as Postgres text) and id of the last row claimed. */
export interface Cursor {
  key: string
  id: string
}

export const START_CURSOR: Cursor = { key: '-infinity', id: LOWEST_UUID }

/** When a row's slot is due: its next_run_at (null: due since ever). */
const NEXT_RUN_KEY = `COALESCE(sp.next_run_at, '-infinity'::timestamptz)`
/**
 * The due index's sort key (schema.ts): the slot, or a failed row's retry_at when that is later,
 * so that a sweep's range ends before the rows still waiting out a retry delay. The same as
 * NEXT_RUN_KEY for every row not failed.
 */
export const DUE_KEY = `GREATEST(${NEXT_RUN_KEY}, CASE WHEN sp.status = 'failed' THEN sp.retry_at END)`
export const LEASE_KEY = `COALESCE(sp.lease_expires_at, '-infinity'::timestamptz)`

/**
 * How early a sweep may try a failed slot before its `retry_at`: sweeps a whole number of cron
 * periods apart start a few seconds late each, by differing amounts (pg-boss's cron, a busy
 * instance), and one that came a second early left the slot for the next, a period later.
 */
export const RETRY_AT_GRACE_SECONDS = 30

/**
 * Each kind walks the order of its own partial index (`$1` is the sweep's cutoff):
 * - `due`: the original design's selection. Pending or failed rows whose `next_run_at` is null or
 *   past, and completed rows whose `next_run_at` is past. Their slot is `next_run_at` (or now).
 * - `expired`: queued rows whose claim lease ran out and whose job pg-boss no longer holds (lost
 *   with its instance, or dead-lettered). They keep the slot they were claimed for, so a retry reuses its key.
 * - `failed` (operators): rows recorded failed, or paused for failing; they retry the slot they
 *   failed. Not a row whose next slot has not come (moved off its failure by a reschedule while
 *   paused, or left so by an older version): that is no failed slot. Only the subscriptions in
 *   `$9`, or all when it is null.
 * - `single` (operators): the subscriptions in `$9`, now, whatever their `next_run_at`; the slot
 *   is the one a claim taken over was for, else the due time if it has passed, else now. Not
 *   while a job pg-boss still holds owns them (whatever their lease), nor while paused or ended.
 */
const SELECTION: Record<ClaimKind, { key: string; where: string; slot: string; resetAttempts: boolean }> = {
  due: {
    key: DUE_KEY,
    // A failed slot waits out its delay (retry_at, set with the failure) before a sweep tries it
    // again: the first sweep at or after it, give or take a cron's lateness (RETRY_AT_GRACE). The
    // index range stops there; the slot itself must have come.
    where: `sp.status IN ('pending', 'failed', 'completed')
        AND ${DUE_KEY} <= $1::timestamptz + interval '${RETRY_AT_GRACE_SECONDS} seconds'
        AND ${NEXT_RUN_KEY} <= $1
        AND (sp.status <> 'completed' OR sp.next_run_at IS NOT NULL)`,
    slot: `COALESCE(sp.next_run_at, $1)`,
    resetAttempts: true,
  },
  expired: {
    // 'processing' is what an older version wrote while a call was in flight. A row with no claimed
    // slot (the MVP's, stuck in 'processing') is taken for its next_run_at once that has come.
    key: LEASE_KEY,
    where: `sp.status IN ('queued', 'processing') AND ${LEASE_KEY} <= $1
        AND (sp.scheduled_for IS NOT NULL OR ${NEXT_RUN_KEY} <= $1)`,
    slot: `COALESCE(sp.scheduled_for, sp.next_run_at, $1)`,
    resetAttempts: false,
  },
  failed: {
    // The order and predicate of subscription_processing_failed_idx (schema.ts).
    key: NEXT_RUN_KEY,
    where: `(sp.status = 'failed' OR (sp.status = 'paused' AND sp.paused_reason = 'failures'))
        AND ${NEXT_RUN_KEY} <= $1
        AND ($9::uuid[] IS NULL OR sp.subscription_id = ANY($9::uuid[]))`,
    slot: `COALESCE(sp.next_run_at, sp.scheduled_for, $1)`,
    resetAttempts: true,
  },
  single: {
    key: NEXT_RUN_KEY,
    // A claim of it is taken when its job is gone, lease or not (TAKES_EXPIRED): asked for by
    // name, a row whose job failed for good need not wait out the lease.
    where: `sp.subscription_id = ANY($9::uuid[])
        AND sp.status NOT IN ('paused', 'ended')`,
    // A claim taken over keeps the slot it was claimed for, as `expired` does: a new
    // subscription's first slot (no next_run_at yet) was called under that slot's key already.
    slot: `CASE WHEN sp.status IN ('queued', 'processing') AND sp.scheduled_for IS NOT NULL THEN sp.scheduled_for
                WHEN sp.next_run_at <= $1 THEN sp.next_run_at ELSE $1 END`,
    resetAttempts: true,
  },
}

/**
 * Kinds that take rows another job owns once its lease ran out: only if that job is gone. One
 * pg-boss still holds (a long queue, a retry, a call in flight) will settle them (live-claims.ts).
 */
const TAKES_EXPIRED: ReadonlySet<ClaimKind> = new Set(['expired', 'single'])

/**
 * The WHERE of a sweep's claim: the partial indexes' own status lists and sort keys, so anything
 * counting or selecting the same rows is answered by those indexes.
 */
export function sweepPredicate(kind: 'due' | 'expired'): string {
  return SELECTION[kind].where
}

/** Kinds that take the `$9` list of subscription ids; `due` takes `$9` as its claimedBefore. */
export const TAKES_IDS: ReadonlySet<ClaimKind> = new Set(['failed', 'single'])

/**
 * Claims a page: `$1` cutoff, `$2`/`$3` cursor, `$4` limit, `$5` lease seconds, `$6` run,
 * `$7` the ids of the jobs that will own the rows, `$8` rows per job (in key order: the first
 * `$8` rows to the first job, and so on), `$9` ids or claimedBefore (kinds that take them).
 * Returns each row with its owner and previous owner, what its call needs, and the page's last
 * sort key (the next cursor) on every row; a `failed` claim also returns each row's status before
 * it (a row paused for failures is resumed by it).
 */
/** The rows a page of `kind` takes, in its order, from the cursor `$2`/`$3` on (claimSql's parameters). */
function candidates(kind: ClaimKind, queue: JobQueue): string {
  const { key, where } = SELECTION[kind]
  const notLive = TAKES_EXPIRED.has(kind) ? `
         AND NOT ${ownedByLiveJob(queue)}` : ''
  // A row this run has already taken waits for the next run: its job may have settled it (done,
  // or failed for good) before this page, and its slot is recorded. `expired` takes rows whose
  // claim ran out, whichever run made it.
  const once = kind === 'expired' ? '' : `
         AND sp.run_id IS DISTINCT FROM $6::uuid`
  // `$9` of a due sweep: rows claimed since then wait too (claimedBefore).
  const dueOnly = kind === 'due' ? `
         AND ($9::timestamptz IS NULL OR sp.claimed_at IS NULL OR sp.claimed_at < $9::timestamptz)` : ''
  return `
        FROM subscription_processing sp
        JOIN subscriptions s ON s.id = sp.subscription_id
       WHERE ${where}${dueOnly}${once}${notLive}
         AND s.active IS TRUE
         AND (${key}, sp.id) > ($2::timestamptz, $3::uuid)
       ORDER BY ${key}, sp.id`
}

/**
 * The first row a page of `kind` would take, with claimSql's parameters, locked (SKIP LOCKED: not
 * one another page holds): a one-row claim then claims it from just before it, so that a refusal
 * is known to be that row's (sweep.ts). Its unused parameters are named once in a CTE, so that
 * every one has a type.
 */
export function firstCandidateSql(kind: ClaimKind, queue: JobQueue): string {
  return `
    WITH typed AS (SELECT $4::int, $5::float8, $6::uuid, $7::uuid[], $8::int)
    SELECT ${SELECTION[kind].key}::text AS key, sp.id::text AS id, sp.subscription_id::text AS subscription_id${candidates(kind, queue)}
     LIMIT 1
       FOR UPDATE OF sp SKIP LOCKED`
}

export function claimSql(kind: ClaimKind, queue: JobQueue): string {
  const { key, slot, resetAttempts } = SELECTION[kind]
  // The CTE runs once (FOR UPDATE materialises it); its last row is the next page's cursor.
  return `
    WITH picked AS (
      SELECT sp.id, sp.ctid, ${key} AS sort_key, sp.run_id AS previous_run_id, sp.job_id AS previous_job_id, sp.status AS previous_status${candidates(kind, queue)}
       LIMIT $4
         FOR UPDATE OF sp SKIP LOCKED
    ), numbered AS (
      SELECT ctid, previous_run_id, previous_job_id, previous_status, row_number() OVER (ORDER BY sort_key, id) AS n FROM picked
    ), claimed AS (
      UPDATE subscription_processing sp
         SET status = 'queued',
             -- Milliseconds: the slot travels through JavaScript and must compare equal on return.
             -- A slot written by hand as -infinity (due since ever) is due now: instants.ts.
             scheduled_for = date_trunc('milliseconds', CASE WHEN isfinite(${slot}) THEN ${slot} ELSE $1 END),
             attempts = ${resetAttempts ? '0' : 'sp.attempts'},
             paused_reason = NULL,
             claimed_at = $1,
             lease_expires_at = $1 + make_interval(secs => $5),
             run_id = $6,
             job_id = ($7::uuid[])[((numbered.n - 1) / $8::int + 1)::int],
             updated_at = $1
        FROM numbered
       -- Each row where the page locked it (it cannot move while locked), fetched by a TID list:
       -- joined by id, or by ctid alone, the planner may hash the whole table (it did for the
       -- first pages of a sweep, statistics not yet caught up with the page).
       WHERE sp.ctid = numbered.ctid AND sp.ctid = ANY(ARRAY(SELECT ctid FROM picked))
      RETURNING sp.id, sp.subscription_id, sp.scheduled_for, sp.job_id, numbered.previous_run_id, numbered.previous_job_id${kind === 'failed' ? ', numbered.previous_status' : ''}
    ), last AS (
      SELECT sort_key::text AS key, id::text FROM picked ORDER BY sort_key DESC, id DESC LIMIT 1
    )
    -- No join back to the page: the planner, misled by statistics of a table being swept, can
    -- compare every claimed row with every picked one.
    SELECT c.*, last.key AS last_key, last.id AS last_id FROM claimed c CROSS JOIN last`
}

/** Gives claimed rows to other jobs: those of their spread buckets (`$1` row ids, `$2` job ids). */
export const ASSIGN_JOBS = `
  UPDATE subscription_processing sp SET job_id = a.job_id
    FROM unnest($1::uuid[], $2::uuid[]) AS a(id, job_id)
   WHERE sp.id = a.id`
