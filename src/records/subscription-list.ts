/**
 * The subscriptions an operator asks for by what they are, not by id: those paused (for failing,
 * or by hand), failed, ended or inactive, or those of one user. A page at a time in id order,
 * each page going on from the last id of the one before (`after`), so rows changing status
 * meanwhile shift no page.
 */
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import type { Executor } from '../db/executor.js'
import { SUBSCRIPTION_STATUSES } from '../db/names.js'
import type { PausedReason, SubscriptionStatus } from '../db/names.js'
import { isUuid } from './enroll.js'
import { failedSlotRetryAt, NEXT_RUN_COLUMN, shownInstant } from './instants.js'
import { isNoValueOfItsType } from './user-ids.js'
import { ownedByActiveJob } from '../sweep/live-claims.js'
import type { JobQueue } from '../sweep/live-claims.js'

/** One subscription of `listSubscriptions()`. */
export interface SubscriptionListEntry {
  subscriptionId: string
  processingId: string
  userId: string | null
  frequency: string | null
  /** The host's `subscriptions.active`; null when the host row is gone. */
  active: boolean | null
  status: SubscriptionStatus
  pausedReason: PausedReason | null
  nextRunAt: Date | null
  /** While `failed`: no sweep tries its slot again before this instant (as `getSubscription()` has it); else null. */
  retryAt: Date | null
  /** Its own zone, which its slots are in; null: the scheduler's `timezone`. */
  timezone: string | null
  /** The slot last recorded complete. */
  lastCompletedFor: Date | null
}

/** A status as `getStatus().counts` has them: `inactive` is a row whose host subscription is inactive, whatever its status. */
export type ListedStatus = SubscriptionStatus | 'inactive'

export interface SubscriptionPage {
  limit: number
  status?: ListedStatus | undefined
  userId?: string | undefined
  /** Only subscriptions whose id sorts after this one: the last of the page before. */
  after?: string | undefined
}

const LISTED = [...SUBSCRIPTION_STATUSES, 'inactive'] as const

/** `status`, checked, when given. */
export function listedStatusOf(value: unknown): ListedStatus | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string' && (LISTED as readonly string[]).includes(value)) return value as ListedStatus
  throw new ConfigurationError('status', `expected one of ${LISTED.join(', ')} (as getStatus().counts has them), got ${shown(value)}.`)
}

/** `after`, checked, when given. */
export function afterIdOf(value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (isUuid(value)) return value.toLowerCase()
  throw new ConfigurationError('after', `expected a UUID (the subscriptionId of the last entry of the page before), got ${shown(value)}.`)
}

/** `userId`, checked, when given: the host's \`subscriptions.user_id\`, compared as text (a UUID or the host's own ids). */
export function userIdOf(value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string' && value.includes('\u0000')) {
    throw new ConfigurationError('userId', 'contains a NUL character (\\u0000), which no id in Postgres text can hold: remove it.')
  }
  if (typeof value === 'string' && value.trim() !== '' && value.length <= 200) return value.trim()
  throw new ConfigurationError('userId', `expected the user's id as subscriptions.user_id holds it (a non-empty string of at most 200 characters), got ${shown(value)}.`)
}

interface ListRow {
  id: string
  subscription_id: string
  user_id: string | null
  frequency: string | null
  active: boolean | null
  status: SubscriptionStatus
  paused_reason: PausedReason | null
  next_run_at: Date | null
  retry_at: Date | null
  timezone: string | null
  last_completed_for: Date | null
}

/**
 * In id order. A status other than `inactive` is of rows whose host subscription is active, as the
 * counts are. A user's id is compared as `user_id`'s own type (the parameter takes it), so that
 * the host's index on it is used: compared as text, every subscription was read (200k rows, 0.2 s
 * a lookup, in a trial). An id that type cannot hold (`abc` for a uuid) names no user: no rows.
 */
export async function listSubscriptions(db: Executor, page: SubscriptionPage, jobs: JobQueue | null): Promise<SubscriptionListEntry[]> {
  try {
    return await listed(db, page, jobs)
  } catch (error) {
    // The id is no value of user_id's type: no user's.
    if (page.userId !== undefined && isNoValueOfItsType(error)) return []
    // pg-boss not installed (migrate() without its schema): no job has any row in hand.
    if ((error as { code?: unknown } | null)?.code === '42P01' && jobs !== null) return await listSubscriptions(db, page, null)
    throw error
  }
}

/**
 * Where the jobs that have rows in hand live, or null when pg-boss is not installed. Such a row is
 * `queued` in its table, and `processing` as `getStatus().counts` has it (its call in flight, or
 * next in line): so it is listed, as that card of the dashboard links here.
 */
async function listed(db: Executor, page: SubscriptionPage, jobs: JobQueue | null): Promise<SubscriptionListEntry[]> {
  const values: unknown[] = [page.status ?? null, page.after ?? null, page.limit]
  const param = (value: unknown) => `$${values.push(value)}`
  const taken = jobs === null ? 'false' : `(sp.status = 'queued' AND ${ownedByActiveJob(jobs)})`
  const byUser = page.userId === undefined ? '' : `AND s.user_id = ${param(page.userId)}`
  const rows = (await db.query<ListRow>(
    `SELECT sp.id, sp.subscription_id, s.user_id::text AS user_id, s.frequency::text AS frequency, s.active,
            CASE WHEN ${taken} THEN 'processing' ELSE sp.status END AS status, sp.paused_reason,
            ${NEXT_RUN_COLUMN}, sp.retry_at, sp.timezone, sp.last_completed_for
       FROM subscription_processing sp ${byUser ? 'JOIN' : 'LEFT JOIN'} subscriptions s ON s.id = sp.subscription_id
      WHERE ($1::text IS NULL OR ($1 = 'inactive' AND s.active IS NOT TRUE)
             OR ($1 <> 'inactive' AND s.active IS TRUE AND ((sp.status = $1 AND NOT ($1 = 'queued' AND ${taken})) OR ($1 = 'processing' AND ${taken}))))
        AND ($2::uuid IS NULL OR sp.subscription_id > $2) ${byUser}
      ORDER BY sp.subscription_id LIMIT $3`,
    values,
  )).rows
  return rows.map((row) => ({
    subscriptionId: row.subscription_id,
    processingId: row.id,
    userId: row.user_id,
    frequency: row.frequency,
    active: row.active,
    status: row.status,
    pausedReason: row.paused_reason,
    nextRunAt: shownInstant(row.next_run_at),
    retryAt: failedSlotRetryAt(row),
    timezone: row.timezone,
    lastCompletedFor: row.last_completed_for,
  }))
}
