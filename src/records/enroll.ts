/**
 * Enrolment: gives a host subscription its `subscription_processing` row. Runs on the pool, or
 * inside the host's own transaction, so a subscription and its schedule commit together.
 */
import type { Executor, HostDb } from '../db/executor.js'
import { toExecutor } from '../db/executor.js'
import { ConfigurationError, NotFoundError } from '../errors.js'
import { isValidTimeZone } from '../schedule/next-run.js'
import type { SubscriptionStatus } from '../db/names.js'

export interface EnrollOptions {
  /**
   * IANA zone of this subscription's slots. Omit to keep the row's zone (none for a new row:
   * the scheduler's `timezone`); `null` clears it.
   */
  timezone?: string | null
  /** Run inside the host's transaction: a `pg` client in a transaction, or a Drizzle transaction. */
  db?: HostDb
}

export interface EnrolledSubscription {
  processingId: string
  subscriptionId: string
  status: SubscriptionStatus
  timezone: string | null
  nextRunAt: Date | null
  /** True when the row was created by this call, false when it already existed. */
  created: boolean
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function assertUuid(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new ConfigurationError(name, `expected a UUID such as '3f2b…-…', got ${JSON.stringify(value)}.`)
  }
}

/**
 * Adds the row, or updates its zone. A new row is `pending` with no `next_run_at`: the next sweep
 * processes it.
 */
export async function enroll(pool: Executor, subscriptionId: string, options: EnrollOptions = {}): Promise<EnrolledSubscription> {
  assertUuid('subscriptionId', subscriptionId)
  const { timezone } = options
  if (timezone !== undefined && timezone !== null && !isValidTimeZone(timezone)) {
    throw new ConfigurationError('timezone', `unknown time zone ${JSON.stringify(timezone)}. Use an IANA name such as 'Europe/Berlin', or null for the scheduler's default.`)
  }
  const db = options.db ? toExecutor(options.db) : pool
  try {
    const { rows } = await db.query<{ id: string; subscription_id: string; status: SubscriptionStatus; timezone: string | null; next_run_at: Date | null; created: boolean }>(
      `INSERT INTO subscription_processing (subscription_id, timezone) VALUES ($1, $2)
       ON CONFLICT (subscription_id) DO UPDATE
          SET timezone = CASE WHEN $3 THEN EXCLUDED.timezone ELSE subscription_processing.timezone END,
              updated_at = now()
       RETURNING id, subscription_id, status, timezone, next_run_at, (xmax = 0) AS created`,
      [subscriptionId, timezone ?? null, timezone !== undefined],
    )
    const row = rows[0]!
    return {
      processingId: row.id,
      subscriptionId: row.subscription_id,
      status: row.status,
      timezone: row.timezone,
      nextRunAt: row.next_run_at,
      created: row.created,
    }
  } catch (error) {
    if ((error as { code?: string }).code === '23503') {
      throw new NotFoundError(`No row in subscriptions has id ${subscriptionId}; create the subscription before enrolling it.`)
    }
    throw error
  }
}
