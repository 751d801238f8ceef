/**
 * A run of one subscription on demand (`runSubscription()`) is recorded together with its claim,
 * in one transaction, and its sweep is over as it commits. Asked twice at once (a double click,
 * two replicas), the second claim finds the row taken, or locked by the first, and rolls back:
 * no empty run is recorded, and the caller says why (busy, paused, …). Nor is the row claimed a
 * second time by a sweep that would follow the first claim: its call may have settled by then.
 */
import { claimPage } from './claim.js'
import type { ClaimPageResult } from './claim.js'
import { START_CURSOR } from './claim-sql.js'
import { claimInput } from './sweep.js'
import type { SweepContext } from './sweep.js'
import { withTransaction } from '../db/executor.js'
import { retryTransient } from '../db/transient.js'
import { createRun, finishSweep } from '../records/runs.js'
import { SubscriptionStateError } from '../errors.js'
import { isRowRefusal } from './refused-claims.js'
import { refusalText } from '../observe/describe-error.js'

/** Rolls the transaction back: the row was not claimed. */
class NothingClaimed extends Error {}

export interface SingleRunClaim {
  runId: string
  page: ClaimPageResult
}

/** The run and its claim of the subscription's row; null, with nothing recorded, when the row could not be claimed. */
export async function claimSingleRun(ctx: SweepContext, subscriptionId: string, now: Date): Promise<SingleRunClaim | null> {
  const scope = { kinds: ['single' as const], subscriptionIds: [subscriptionId] }
  try {
    return await retryTransient(
      () =>
        withTransaction(ctx.pool, async (client) => {
          // Named on the run: an audit of what was called on demand finds it by its subscription.
          const runId = await createRun(client, 'single', now, subscriptionId)
          const page = await claimPage(client, ctx.boss, claimInput(ctx, runId, now, scope, { kind: 'single', after: START_CURSOR, limit: 1 }))
          if (page.claimed === 0) throw new NothingClaimed()
          // Its rows are outstanding, so this never finishes the run: their settle will.
          await finishSweep(client, runId, now)
          return { runId, page }
        }),
      { logger: ctx.logger, what: `claiming subscription ${subscriptionId} for a run on demand`, signal: ctx.signal },
    )
  } catch (error) {
    if (error instanceof NothingClaimed) return null
    if (isRowRefusal(error)) {
      throw new SubscriptionStateError(
        `Subscription ${subscriptionId} could not be claimed for a run on demand: ${refusalText(error)}. ` +
          'A trigger or constraint of yours refused the update of its subscription_processing row, so nothing was called and no run recorded; run it again once your rule allows it.',
        { cause: error, subscriptionId },
      )
    }
    throw error
  }
}
