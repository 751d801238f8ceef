/**
 * Claiming: one transaction takes a batch of rows with `FOR UPDATE SKIP LOCKED`, marks them
 * `queued` for their slot, and inserts one pg-boss job per row. Either both happen or neither:
 * there is never a claimed row without a job, nor a job without a claimed row.
 */
import { randomUUID } from 'node:crypto'
import type { PoolClient } from 'pg'
import type { PgBoss } from 'pg-boss'
import { releaseFromPreviousRuns, shortenDroppedLeases } from './claim-leftovers.js'
import type { ClaimedRow } from './claim-leftovers.js'
import { addClaimed } from '../records/runs.js'
import { idempotencyKey } from '../worker-client/types.js'

/** What a process job carries. Everything else is read from the row when the job runs. */
export interface ProcessJobData {
  processingId: string
  subscriptionId: string
  /** The slot, ISO 8601. */
  scheduledFor: string
  runId: string
}

/** A keyset position: the sort key (as Postgres text) and id of the last row claimed. */
export interface Cursor {
  key: string
  id: string
}

export const START_CURSOR: Cursor = { key: '-infinity', id: '00000000-0000-0000-0000-000000000000' }

/** Every process job's pg-boss group: `maxConcurrentCalls` is pg-boss's limit on this group. */
export const CALLS_GROUP = { id: 'worker-calls' }

/**
 * Where a subscription falls in a spread window of `windowMs`: FNV-1a of its id, so every
 * instance and every day agree.
 */
export function spreadOffsetMs(subscriptionId: string, windowMs: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < subscriptionId.length; i++) {
    hash ^= subscriptionId.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  // murmur3's finaliser: ids that differ only in their last characters still land far apart.
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35)
  hash = (hash ^ (hash >>> 16)) >>> 0
  return Math.floor((hash / 0x1_0000_0000) * windowMs)
}

/**
 * Two kinds of row are taken, each walked in the order of its own partial index:
 * - `due`: the original design's selection. Pending or failed rows whose `next_run_at` is null or past, and
 *   completed rows whose `next_run_at` is past. Their slot is `next_run_at` (or now, if null).
 * - `expired`: queued or processing rows whose claim lease ran out, say after a crash. They keep
 *   the slot they were claimed for, so a retry reuses its idempotency key.
 */
export type ClaimKind = 'due' | 'expired' | 'failed' | 'single'

const DUE_KEY = `COALESCE(sp.next_run_at, '-infinity'::timestamptz)`
const LEASE_KEY = `COALESCE(sp.lease_expires_at, '-infinity'::timestamptz)`

/**
 * Two more kinds serve operators, and take only the subscriptions named in `$7` (or, for
 * `failed`, every one when `$7` is null):
 * - `failed`: rows recorded failed, or paused for failing; they retry the slot they failed.
 * - `single`: one subscription, now, whatever its `next_run_at`; its slot is its due time if
 *   that has passed, else now. Not while a call for it is in flight, and not while paused.
 */
const SELECTION: Record<ClaimKind, { key: string; where: string; slot: string; resetAttempts: boolean }> = {
  due: {
    key: DUE_KEY,
    where: `sp.status IN ('pending', 'failed', 'completed')
        AND ${DUE_KEY} <= $1
        AND (sp.status <> 'completed' OR sp.next_run_at IS NOT NULL)`,
    slot: `COALESCE(sp.next_run_at, $1)`,
    resetAttempts: true,
  },
  expired: {
    key: LEASE_KEY,
    where: `sp.status IN ('queued', 'processing') AND ${LEASE_KEY} <= $1`,
    slot: `COALESCE(sp.scheduled_for, sp.next_run_at, $1)`,
    resetAttempts: false,
  },
  failed: {
    key: DUE_KEY,
    where: `(sp.status = 'failed' OR (sp.status = 'paused' AND sp.paused_reason = 'failures'))
        AND ($7::uuid[] IS NULL OR sp.subscription_id = ANY($7::uuid[]))`,
    slot: `COALESCE(sp.next_run_at, sp.scheduled_for, $1)`,
    resetAttempts: true,
  },
  single: {
    key: DUE_KEY,
    where: `sp.subscription_id = ANY($7::uuid[])
        AND sp.status <> 'paused'
        AND (sp.status NOT IN ('queued', 'processing') OR ${LEASE_KEY} <= $1)`,
    slot: `CASE WHEN sp.next_run_at <= $1 THEN sp.next_run_at ELSE $1 END`,
    resetAttempts: true,
  },
}

/**
 * The WHERE of a sweep's claim (`$1` is its cutoff): the partial indexes' own status lists and
 * sort keys, so anything counting or selecting the same rows is answered by those indexes.
 */
export function sweepPredicate(kind: 'due' | 'expired'): string {
  return SELECTION[kind].where
}

/** Kinds that take the `$7` list of subscription ids. */
const TAKES_IDS: ReadonlySet<ClaimKind> = new Set(['failed', 'single'])

function claimSql(kind: ClaimKind): string {
  const { key, where, slot, resetAttempts } = SELECTION[kind]
  // The CTE runs once (FOR UPDATE materialises it); its last row is the next page's cursor.
  return `
    WITH picked AS (
      SELECT sp.id, ${key} AS sort_key, sp.run_id AS previous_run_id
        FROM subscription_processing sp
        JOIN subscriptions s ON s.id = sp.subscription_id
       WHERE ${where}${kind === 'due' ? `
         AND ($7::timestamptz IS NULL OR sp.claimed_at IS NULL OR sp.claimed_at < $7::timestamptz)` : ''}
         AND s.active IS TRUE
         AND (${key}, sp.id) > ($2::timestamptz, $3::uuid)
       ORDER BY ${key}, sp.id
       LIMIT $4
         FOR UPDATE OF sp SKIP LOCKED
    ), claimed AS (
      UPDATE subscription_processing sp
         SET status = 'queued',
             -- Milliseconds: the slot travels through JavaScript and must compare equal on return.
             scheduled_for = date_trunc('milliseconds', ${slot}),
             attempts = ${resetAttempts ? '0' : 'sp.attempts'},
             paused_reason = NULL,
             claimed_at = $1,
             lease_expires_at = $1 + make_interval(secs => $5),
             run_id = $6,
             updated_at = $1
        FROM picked
       WHERE sp.id = picked.id
      RETURNING sp.id, sp.subscription_id, sp.scheduled_for
    ), last AS (
      SELECT sort_key::text AS key, id::text FROM picked ORDER BY sort_key DESC, id DESC LIMIT 1
    )
    SELECT c.id, c.subscription_id, c.scheduled_for, p.previous_run_id, last.key AS last_key, last.id AS last_id
      FROM claimed c JOIN picked p ON p.id = c.id CROSS JOIN last`
}

export interface ClaimBatchInput {
  kind: ClaimKind
  now: Date
  after: Cursor
  limit: number
  leaseSeconds: number
  /** Lease of a claimed row whose job was dropped as a duplicate (see shortenDroppedLeases). */
  droppedLeaseSeconds?: number
  /** `due` claims only: each job starts at its slot plus its subscription's offset in this window. */
  spreadMs?: number
  runId: string
  processQueue: string
  /** For `failed` (null: all) and `single`: the subscriptions to take. */
  subscriptionIds?: string[] | null
  /** For `due`: only rows no run has claimed since then (see SweepScope). */
  claimedBefore?: Date | null
}

export interface ClaimBatchResult {
  /** Rows taken by this batch. */
  claimed: number
  /** Jobs created. Fewer than `claimed` when a row's job for that slot still exists. */
  enqueued: number
  /** Where the next page starts; null when this page was the last. */
  next: Cursor | null
}

/** Claims one page and enqueues its jobs, inside the caller's transaction on `client`. */
export async function claimBatch(client: PoolClient, boss: PgBoss, input: ClaimBatchInput): Promise<ClaimBatchResult> {
  const { rows } = await client.query<ClaimedRow>(claimSql(input.kind), [
    input.now,
    input.after.key,
    input.after.id,
    input.limit,
    input.leaseSeconds,
    input.runId,
    ...(TAKES_IDS.has(input.kind) ? [input.subscriptionIds ?? null] : input.kind === 'due' ? [input.claimedBefore ?? null] : []),
  ])
  if (rows.length === 0) return { claimed: 0, enqueued: 0, next: null }
  const jobs = rows.map((row) => {
    const scheduledFor = row.scheduled_for.toISOString()
    const data: ProcessJobData = { processingId: row.id, subscriptionId: row.subscription_id, scheduledFor, runId: input.runId }
    const spreadMs = input.kind === 'due' ? (input.spreadMs ?? 0) : 0
    return {
      id: randomUUID(),
      data,
      // One live job per subscription and slot: the queue's `exclusive` policy drops a duplicate.
      singletonKey: idempotencyKey(row.subscription_id, row.scheduled_for),
      group: CALLS_GROUP,
      ...(spreadMs > 0 ? { startAfter: new Date(row.scheduled_for.getTime() + spreadOffsetMs(row.subscription_id, spreadMs)) } : {}),
    }
  })
  const ids = await boss.insert(input.processQueue, jobs, {
    db: { executeSql: async (text, values) => await client.query(text, values as unknown[] | undefined) },
    returnId: true,
  })
  const enqueued = ids?.length ?? 0
  const inserted = new Set(ids ?? [])
  await addClaimed(client, input.runId, enqueued)
  if (input.kind === 'expired') await releaseFromPreviousRuns(client, rows, jobs, inserted, input)
  if (enqueued < rows.length) await shortenDroppedLeases(client, rows.filter((_, i) => !inserted.has(jobs[i]!.id)), input)
  const last = rows[0]!
  return {
    claimed: rows.length,
    enqueued,
    next: rows.length < input.limit ? null : { key: last.last_key, id: last.last_id },
  }
}
