/**
 * A user's id given where a subscription's is taken: pasted into the dashboard's search, passed to
 * `erase()` for an erasure request (which comes by user), typed after `run-now`. Told apart from
 * an id that names nothing, so that the answer says whose id it is and where that user's
 * subscriptions are listed, instead of "not enrolled yet" or an erasure that erased nothing.
 */
import { NotFoundError } from '../errors.js'
import type { Executor } from '../db/executor.js'

/**
 * The first of `ids` that is a user's id (`subscriptions.user_id`) of a row in the host's table,
 * compared as `user_id`'s own type, so that its index serves; undefined for none. An id that type
 * cannot hold (`abc`, a uuid for a bigint column) is no user's.
 */
export async function firstUserId(db: Executor, ids: readonly string[]): Promise<string | undefined> {
  try {
    const { rows } = await db.query<{ user_id: string }>(`SELECT user_id::text FROM subscriptions WHERE user_id = ANY($1) LIMIT 1`, [ids])
    return rows[0]?.user_id
  } catch (error) {
    if (isNoValueOfItsType(error)) return undefined
    throw error
  }
}

/** A statement refused for a value its column's type cannot hold: 22P02 and its kin (class 22, data exception). */
export function isNoValueOfItsType(error: unknown): boolean {
  return /^22/.test(String((error as { code?: unknown } | null)?.code))
}

/** The NotFoundError of a user's id where a subscription's was asked for, naming where their subscriptions are listed. */
export function userIdNotSubscription(id: string): NotFoundError {
  return new NotFoundError(
    `${id} is no subscription's id but a user's (subscriptions.user_id): listSubscriptions({ userId }) lists their subscriptions ` +
      `(admin API: GET /subscriptions?userId=${id}; CLI: list --user ${id}; dashboard: the subscriptions page's user filter).`,
    { subscriptionId: id },
  )
}
