/**
 * Erasure: what the scheduler keeps of subscriptions the host has deleted, removed at its request
 * (a user's right to erasure). Their schedule row goes with the host's row (a foreign key with
 * ON DELETE CASCADE); what stays is kept for operators for `historyRetentionDays`: the failed
 * attempts (the worker's answers, which may quote a name, an email or a card), the schedule
 * history (pauses and their notes) and the dead letters in pg-boss. `erase()` removes those of
 * the subscriptions given, in one transaction, and a schedule row left behind where that foreign
 * key was dropped (it holds the worker's last answer). A subscription still in the host's table
 * is refused: its next call would record it all again.
 */
import type { Pool } from 'pg'
import { quoteIdent, withTransaction } from '../db/executor.js'
import { ConfigurationError, SubscriptionStateError } from '../errors.js'
import { shown } from '../error-text.js'
import { assertUuid } from './enroll.js'
import { firstUserId } from './user-ids.js'

/** The most subscriptions one `erase()` takes: one statement's worth of ids. */
export const MAX_ERASED = 10_000

/** What `erase()` removed. */
export interface ErasedSubscriptions {
  /** Rows of the failure history (`listFailures()`, `recentErrors`). */
  failures: number
  /** Entries of the schedule history (pauses, skips, reschedules, their notes). */
  history: number
  /** Dead letters (the `<queuePrefix>.dead` pg-boss queue), each carrying the error of a slot that failed for good. */
  deadLetters: number
  /**
   * Schedule rows (`subscription_processing`, with the worker's last answer) left behind: there
   * only where the foreign key that deletes them along with your rows was dropped.
   */
  schedules: number
}

/**
 * The ids given, checked: an array of 1 to {@link MAX_ERASED} UUIDs, repeats dropped.
 * @throws {ConfigurationError} naming what was wrong.
 */
export function checkErasedIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ERASED) {
    throw new ConfigurationError('subscriptionIds', `expected an array of 1 to ${MAX_ERASED.toLocaleString('en-US')} subscription ids (UUIDs), got ${Array.isArray(value) ? `an array of ${value.length}` : shown(value)}; erase more in several calls.`)
  }
  value.forEach((id, i) => assertUuid(`subscriptionIds[${i}]`, id))
  return [...new Set((value as string[]).map((id) => id.toLowerCase()))]
}

/**
 * Refuses an id that is a user's (`subscriptions.user_id`) of subscriptions still in the host's
 * table: an erasure request comes by user, and erasing a user's id erased nothing while it
 * reported success.
 */
async function refuseUserIds(pool: Pool, ids: string[]): Promise<void> {
  const user = await firstUserId(pool, ids)
  if (user === undefined) return
  throw new SubscriptionStateError(
    `${user} is a user's id (subscriptions.user_id), not a subscription's, so nothing was erased. erase() takes the ids of that user's ` +
      `subscriptions once they are deleted from your table: collect them first (SELECT id FROM subscriptions WHERE user_id = '${user}'), ` +
      'delete those rows, then erase() the ids.',
    { subscriptionId: user },
  )
}

/**
 * Removes the failure history, schedule history, dead letters and any schedule row left behind of
 * the subscriptions given, which the host has deleted from its table.
 * @throws {SubscriptionStateError} for a subscription still in the host's table; nothing is removed.
 */
export async function eraseSubscriptions(pool: Pool, queues: { bossSchema: string; deadQueue: string }, given: unknown): Promise<ErasedSubscriptions> {
  const ids = checkErasedIds(given)
  await refuseUserIds(pool, ids)
  return await withTransaction(pool, async (tx) => {
    const { rows: kept } = await tx.query<{ id: string }>(`SELECT id::text FROM subscriptions WHERE id = ANY($1::uuid[]) LIMIT 1`, [ids])
    if (kept.length > 0) {
      const id = kept[0]!.id
      throw new SubscriptionStateError(
        `Subscription ${id} is still in your subscriptions table, so nothing was erased: its next call would record its failures and history again. ` +
          'Delete it there first (its schedule row goes with it), then erase() it.',
        { subscriptionId: id },
      )
    }
    const { rows } = await tx.query<ErasedSubscriptions>(
      `WITH failures AS (DELETE FROM subscription_scheduler.failures WHERE subscription_id = ANY($1::uuid[]) RETURNING 1),
            history AS (DELETE FROM subscription_scheduler.history WHERE subscription_id = ANY($1::uuid[]) RETURNING 1),
            dead AS (DELETE FROM ${quoteIdent(queues.bossSchema)}.job WHERE name = $2 AND data->>'subscriptionId' = ANY($1::text[]) RETURNING 1),
            schedules AS (DELETE FROM subscription_processing WHERE subscription_id = ANY($1::uuid[]) RETURNING 1)
       SELECT (SELECT count(*)::int FROM failures) AS failures, (SELECT count(*)::int FROM history) AS history,
              (SELECT count(*)::int FROM dead) AS "deadLetters", (SELECT count(*)::int FROM schedules) AS schedules`,
      [ids, queues.deadQueue],
    )
    return rows[0]!
  })
}
