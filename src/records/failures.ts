/**
 * Failure history, for operators asking "what failed, and why?": every failed attempt, with
 * its slot and error, kept (like run history) for `historyRetentionDays`.
 */
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import type { FailureRecord } from './subscription-shapes.js'
import { pruneSubscriptionHistory } from './history.js'
import { NotFoundError } from '../errors.js'

const FAILURES = TABLES.failures

export interface FailureEntry {
  processingId: string
  subscriptionId: string
  runId: string
  scheduledFor: Date
  attempt: number
  final: boolean
  error: string
  status: number | null
}

/** Appends failed attempts, one statement for the batch. */
export async function recordFailureHistory(db: Executor, entries: FailureEntry[], now: Date): Promise<void> {
  if (entries.length === 0) return
  await db.query(
    `INSERT INTO ${FAILURES} (processing_id, subscription_id, run_id, scheduled_for, attempt, final, error, status, failed_at)
     SELECT *, $9::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::int[], $6::bool[], $7::text[], $8::int[])`,
    [
      entries.map((e) => e.processingId),
      entries.map((e) => e.subscriptionId),
      entries.map((e) => e.runId),
      entries.map((e) => e.scheduledFor),
      entries.map((e) => e.attempt),
      entries.map((e) => e.final),
      entries.map((e) => e.error),
      entries.map((e) => e.status),
      now,
    ],
  )
}

interface FailureRow {
  id: string
  subscription_id: string
  processing_id: string
  run_id: string | null
  scheduled_for: Date
  attempt: number
  final: boolean
  error: string
  status?: number | null | undefined
  failed_at: Date
}

function toRecord(row: FailureRow): FailureRecord {
  return {
    id: String(row.id),
    subscriptionId: row.subscription_id,
    processingId: row.processing_id,
    runId: row.run_id,
    scheduledFor: row.scheduled_for,
    attempt: row.attempt,
    final: row.final,
    error: row.error,
    status: row.status ?? null,
    failedAt: row.failed_at,
  }
}

export interface FailurePage {
  limit: number
  subscriptionId?: string | undefined
  runId?: string | undefined
  /** Only entries recorded before this one (by time, then id): the last entry of the page before. */
  before?: string | undefined
  /** Only attempts that gave their slot up (true), or that a retry followed (false). */
  final?: boolean | undefined
}

/**
 * Most recent first; of one subscription, or one run, when given. `NotFoundError` when no entry
 * has the id `before` (pruned since, or never one).
 */
export async function listFailures(db: Executor, page: FailurePage): Promise<FailureRecord[]> {
  const { rows } = await db.query<FailureRow>(
    `SELECT * FROM ${FAILURES} f
      WHERE ($1::uuid IS NULL OR f.subscription_id = $1) AND ($2::uuid IS NULL OR f.run_id = $2)
        AND ($4::bigint IS NULL OR (f.failed_at, f.id) < (SELECT b.failed_at, b.id FROM ${FAILURES} b WHERE b.id = $4))
        AND ($5::boolean IS NULL OR f.final = $5)
      ORDER BY f.failed_at DESC, f.id DESC LIMIT $3`,
    [page.subscriptionId ?? null, page.runId ?? null, page.limit, page.before ?? null, page.final ?? null],
  )
  if (rows.length === 0 && page.before !== undefined) {
    const { rows: found } = await db.query(`SELECT 1 FROM ${FAILURES} WHERE id = $1`, [page.before])
    if (found.length === 0) {
      throw new NotFoundError(`No failure entry with id ${page.before} to list the entries before: it may have been pruned (historyRetentionDays). List from the newest again.`)
    }
  }
  return rows.map(toRecord)
}

/**
 * The rows job `jobId` still owns once its deliveries are spent (each outcome it could not
 * record, not even as a failed attempt: a host's trigger refusing every update of the row), each
 * with an entry saying why: nothing can be written on such a row, which stays claimed until its
 * lease runs out. Returns their subscriptions, with the lease.
 */
export async function recordStranded(db: Executor, jobId: string, ids: string[], error: string, now: Date): Promise<{ subscriptionId: string; leaseExpiresAt: Date | null }[]> {
  const { rows } = await db.query<{ subscription_id: string; lease_expires_at: Date | null }>(
    `WITH stranded AS (
       SELECT sp.id, sp.subscription_id, sp.run_id, sp.scheduled_for, sp.attempts, sp.lease_expires_at
         FROM subscription_processing sp
        WHERE sp.id = ANY($1::uuid[]) AND sp.job_id = $2 AND sp.status IN ('queued', 'processing') AND sp.scheduled_for IS NOT NULL
     ), noted AS (
       INSERT INTO ${FAILURES} (processing_id, subscription_id, run_id, scheduled_for, attempt, final, error, status, failed_at)
       SELECT id, subscription_id, run_id, scheduled_for, attempts + 1, false,
              'its outcome could not be recorded at any of its job''s deliveries: ' || $3::text ||
              '. It stays claimed until its lease runs out, then a sweep calls it again; runSubscription() takes it at once.',
              NULL, $4
         FROM stranded
     )
     SELECT subscription_id::text, lease_expires_at FROM stranded ORDER BY subscription_id`,
    [ids, jobId, error, now],
  )
  return rows.map((r) => ({ subscriptionId: r.subscription_id, leaseExpiresAt: r.lease_expires_at }))
}

/** Deletes runs, failures and subscription history older than the retention. Both deletes walk an index on time. */
export async function pruneHistory(db: Executor, retentionDays: number, now: Date): Promise<void> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000)
  await db.query(`DELETE FROM ${FAILURES} WHERE failed_at < $1`, [cutoff])
  await pruneSubscriptionHistory(db, cutoff)
  await db.query(`DELETE FROM ${TABLES.runs} WHERE started_at < $1 AND finished_at IS NOT NULL`, [cutoff])
}
