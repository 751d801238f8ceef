/**
 * Per-subscription controls and lookups for operators: pause, resume, and the full picture of
 * one subscription with its recent errors.
 */
import type { Pool } from 'pg'
import type { Executor } from '../db/executor.js'
import { withTransaction } from '../db/executor.js'
import type { ResolvedOptions } from '../config/options.js'
import { liftedPause } from './first-slot.js'
import { assertUuid } from './enroll.js'
import { recordHistory, listHistory } from './history.js'
import { notEnrolled as notFound, readScheduleRow, resumedState } from './schedule-row.js'
import { isInFlight } from './row-holds.js'
import { liveJob } from '../sweep/live-claims.js'
import type { JobQueue } from '../sweep/live-claims.js'
import { jobQueueOf } from '../runtime/boss.js'
import { listFailures } from './failures.js'
import { NotFoundError } from '../errors.js'
import { failedSlotRetryAt, shownInstant } from './instants.js'
import { firstUserId, userIdNotSubscription } from './user-ids.js'
import { isCadence } from '../schedule/unknown-frequency.js'
import type { FailingSubscription, SubscriptionDetails } from './subscription-shapes.js'
import type { PausedReason, SubscriptionStatus } from '../db/names.js'

interface DetailsRow {
  id: string
  subscription_id: string
  user_id: string | null
  frequency: string | null
  active: boolean | null
  status: SubscriptionStatus
  paused_reason: PausedReason | null
  timezone: string | null
  run_at: string | null
  anchor_at: Date | null
  starts_at: Date | null
  ends_at: Date | null
  paused_until: Date | null
  scheduled_for: Date | null
  next_run_at: Date | null
  last_run_at: Date | null
  attempts: number
  consecutive_failures: number
  retry_at: Date | null
  error: string | null
  last_response: unknown
  updated_at: Date | null
  lease_expires_at: Date | null
  job_id: string | null
}


/**
 * Whether a job pg-boss still holds owns the row: its outcome sets the next slot. A row whose job
 * is gone (dead-lettered after its retries, or deleted) is not in flight: `runSubscription()`
 * takes it at once, and the dashboard offers it. A row with no job is in flight only as an older
 * version's call under its lease.
 */
async function heldByLiveJob(db: Executor, queue: JobQueue, row: DetailsRow): Promise<{ live: boolean; startsAt: Date | null }> {
  if (row.job_id === null) return { live: isInFlight(row), startsAt: null }
  return await liveJob(db, queue, row.job_id)
}

/** What reading a subscription needs of the options: where its jobs live, and the cadences it may name. */
export type ReadOptions = Pick<ResolvedOptions, 'bossSchema' | 'queuePrefix' | 'frequencies' | 'unknownFrequency'>

export async function getSubscription(db: Executor, options: ReadOptions, subscriptionId: string, errors = 10, history = 20): Promise<SubscriptionDetails> {
  assertUuid('subscriptionId', subscriptionId)
  const { rows } = await db.query<DetailsRow>(
    `SELECT sp.*, s.user_id::text AS user_id, s.frequency::text AS frequency, s.active
       FROM subscription_processing sp LEFT JOIN subscriptions s ON s.id = sp.subscription_id
      WHERE sp.subscription_id = $1`,
    [subscriptionId],
  )
  const row = rows[0]
  if (!row) throw (await firstUserId(db, [subscriptionId])) ? userIdNotSubscription(subscriptionId) : notFound(subscriptionId)
  const held = await heldByLiveJob(db, jobQueueOf(options), row)
  return {
    processingId: row.id,
    subscriptionId: row.subscription_id,
    userId: row.user_id,
    frequency: row.frequency,
    unknownFrequency: isCadence(row.frequency, options.frequencies) ? null : options.unknownFrequency,
    active: row.active === true,
    status: row.status,
    // A row paused while its call is out is still held.
    inFlight: held.live,
    pausedReason: row.paused_reason,
    timezone: row.timezone,
    runAt: row.run_at,
    anchorAt: shownInstant(row.anchor_at),
    startsAt: shownInstant(row.starts_at),
    endsAt: shownInstant(row.ends_at),
    pausedUntil: shownInstant(row.paused_until),
    scheduledFor: shownInstant(row.scheduled_for),
    nextRunAt: shownInstant(row.next_run_at),
    lastRunAt: shownInstant(row.last_run_at),
    attempts: row.attempts,
    consecutiveFailures: row.consecutive_failures,
    // A slot waiting out a retry's backoff (attempts made) says when its next call is due.
    retryAt: failedSlotRetryAt(row) ?? (row.attempts > 0 ? held.startsAt : null),
    error: row.error,
    lastResponse: row.last_response,
    updatedAt: shownInstant(row.updated_at),
    recentErrors: await listFailures(db, { limit: errors, subscriptionId }),
    history: await listHistory(db, subscriptionId, history),
  }
}

/**
 * Pauses a subscription. A queued job for it is skipped when it runs; a call in flight finishes,
 * and a success is recorded (the row moves on to its next slot, and stays paused). An ended one
 * has nothing left to pause and stays `ended`: paused, its resume would make it due again.
 */
export async function pause(db: Executor, options: ReadOptions, subscriptionId: string, now: Date, note: string | null = null): Promise<SubscriptionDetails> {
  assertUuid('subscriptionId', subscriptionId)
  // Paused by hand until resumed already: nothing changes, and the history says nothing again.
  const { rows } = await db.query<{ changed: boolean }>(
    `WITH found AS (
       SELECT id, (status <> 'ended' AND NOT (status = 'paused' AND paused_reason IS NOT DISTINCT FROM 'manual' AND paused_until IS NULL)) AS changes
         FROM subscription_processing WHERE subscription_id = $1 FOR UPDATE
     ), paused AS (
       UPDATE subscription_processing sp
          SET status = 'paused', paused_reason = 'manual', paused_until = NULL, lease_expires_at = NULL, updated_at = $2
         FROM found
        WHERE sp.id = found.id AND found.changes
       RETURNING sp.id
     )
     SELECT changes AS changed FROM found`,
    [subscriptionId, now],
  )
  if (!rows[0]) throw notFound(subscriptionId)
  if (rows[0].changed) await recordHistory(db, [{ subscriptionId, kind: 'paused', detail: 'until resumed', note }], now)
  return await getSubscription(db, options, subscriptionId)
}

/**
 * `pause()` with no end, on a row paused until an instant: the slots that pause deferred come
 * back (its next slot becomes the first from now, as a `resume()` before the end would give), and
 * the row stays paused until resumed. Without this, a `resume()` later would wait for the old end.
 */
export async function pauseOpenEnded(pool: Pool, options: ResolvedOptions, subscriptionId: string, note: string | null = null): Promise<SubscriptionDetails> {
  return await withTransaction(pool, async (tx) => {
    const now = options.clock.now()
    const row = await readScheduleRow(tx, subscriptionId, true)
    const next = (await liftedPause(tx, options, row, now))?.next
    if (next) await tx.query(`UPDATE subscription_processing SET next_run_at = $2, updated_at = $3 WHERE id = $1`, [row.id, next, now])
    return await pause(tx, options, subscriptionId, now, note)
  })
}

/**
 * Resumes a paused subscription as `pending`: due at the next sweep if its `next_run_at` has
 * passed, else at `next_run_at` (`queued` again while a job still holds it: schedule-row.ts).
 * Resuming a subscription that is not paused changes nothing. `leaseSeconds`: the claim lease.
 */
export async function resume(db: Executor, options: ReadOptions, subscriptionId: string, now: Date, leaseSeconds: number, note: string | null = null): Promise<SubscriptionDetails> {
  assertUuid('subscriptionId', subscriptionId)
  const { rows } = await db.query<{ was: string }>(
    `WITH before AS (
       SELECT id, status FROM subscription_processing WHERE subscription_id = $1 FOR UPDATE
     ), resumed AS (
       UPDATE subscription_processing sp
          SET ${resumedState('$2::timestamptz', '$3::float8')}, updated_at = $2
         FROM before
        WHERE sp.id = before.id AND before.status = 'paused'
       RETURNING sp.id
     )
     SELECT status AS was FROM before`,
    [subscriptionId, now, leaseSeconds],
  )
  if (!rows[0]) throw notFound(subscriptionId)
  if (rows[0].was === 'paused') await recordHistory(db, [{ subscriptionId, kind: 'resumed', detail: 'by hand', note }], now)
  return await getSubscription(db, options, subscriptionId)
}

interface FailingRow {
  id: string
  subscription_id: string
  status: SubscriptionStatus
  paused_reason: PausedReason | null
  scheduled_for: Date | null
  attempts: number
  consecutive_failures: number
  retry_at: Date | null
  error: string
  updated_at: Date | null
  next_run_at: Date | null
  timezone: string | null
}

/**
 * Subscriptions whose last attempt failed: a success clears the row's `error`, so a row that
 * holds one failed last. Newest first.
 */
export async function listFailing(db: Executor, limit: number): Promise<FailingSubscription[]> {
  const { rows } = await db.query<FailingRow>(
    `SELECT id, subscription_id, status, paused_reason, scheduled_for, attempts, consecutive_failures, retry_at, error, updated_at, next_run_at, timezone
       FROM subscription_processing WHERE error IS NOT NULL
      ORDER BY updated_at DESC NULLS LAST, id LIMIT $1`,
    [limit],
  )
  return rows.map((row) => ({
    subscriptionId: row.subscription_id,
    processingId: row.id,
    status: row.status,
    pausedReason: row.paused_reason,
    scheduledFor: shownInstant(row.scheduled_for),
    attempts: row.attempts,
    consecutiveFailures: row.consecutive_failures,
    retryAt: failedSlotRetryAt(row),
    error: row.error,
    failedAt: shownInstant(row.updated_at),
    nextRunAt: shownInstant(row.next_run_at),
    timezone: row.timezone,
  }))
}

/**
 * @throws {NotFoundError} naming the ids among `subscriptionIds` that have no row (not enrolled,
 * or no subscription at all): a retry of them would find nothing, and say nothing of the typo.
 */
export async function assertEnrolled(db: Executor, subscriptionIds: readonly string[]): Promise<void> {
  if (subscriptionIds.length === 0) return
  const { rows } = await db.query<{ id: string }>(
    `SELECT given.id::text AS id FROM unnest($1::uuid[]) AS given(id)
      WHERE NOT EXISTS (SELECT 1 FROM subscription_processing sp WHERE sp.subscription_id = given.id)`,
    [subscriptionIds],
  )
  if (rows.length === 0) return
  const ids = rows.map((row) => row.id)
  throw new NotFoundError(
    `${ids.length === 1 ? 'Subscription' : 'Subscriptions'} ${ids.join(', ')} ${ids.length === 1 ? 'is' : 'are'} not enrolled (no subscription_processing row), so there is no failed slot to retry; ` +
      'check the ids (getSubscription(id)). Nothing was retried.',
    { subscriptionId: ids[0] },
  )
}
