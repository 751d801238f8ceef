/**
 * The failures a run's summary lists. This process's events carry only the failures it settled;
 * other instances may have settled the rest, so what is missing is read from the failure history.
 */
import type { Logger, RunSummary } from '../index.js'
import type { SubscriptionScheduler } from '../types.js'
import type { FailedSubscription } from './watch-run.js'

/** Failures listed in a summary at most; `status` and the failures API have the rest. */
export const LISTED_FAILURES = 10
/**
 * Recent failed attempts read to find the run's final ones. Retries and other runs' failures
 * are among them, hence more than are listed.
 */
const HISTORY_LOOKBACK = 200

/**
 * Up to LISTED_FAILURES of the run's final failures: those seen here first, then from the
 * history. May return fewer than the run counts (history pruned, or too many newer failures).
 */
export async function failuresToList(
  scheduler: SubscriptionScheduler,
  summary: RunSummary,
  seen: FailedSubscription[],
  logger: Logger,
): Promise<FailedSubscription[]> {
  const wanted = Math.min(summary.failed, LISTED_FAILURES)
  if (seen.length >= wanted) return await markPaused(scheduler, seen.slice(0, wanted), logger)
  let history
  try {
    history = await scheduler.listFailures({ limit: HISTORY_LOOKBACK })
  } catch (error) {
    // The summary is still worth printing; it then gives the count and where to look.
    logger.warn(`Could not read the failure history: ${(error as Error).message}`)
    return seen
  }
  const key = (f: { subscriptionId: string; attempt: number }) => `${f.subscriptionId}#${f.attempt}`
  const listed = new Set(seen.map(key))
  const more = history
    .filter((f) => f.runId === summary.runId && f.final && !listed.has(key(f)))
    .map((f) => ({ subscriptionId: f.subscriptionId, attempt: f.attempt, error: f.error }))
  return await markPaused(scheduler, [...seen, ...more].slice(0, wanted), logger)
}

/**
 * The failures, those now paused after failing in a row marked: the summary's "the next sweep
 * tries them again" is not true of them. Unmarked when that cannot be read.
 */
async function markPaused(scheduler: SubscriptionScheduler, failures: FailedSubscription[], logger: Logger): Promise<FailedSubscription[]> {
  if (failures.length === 0) return failures
  try {
    // At most LISTED_FAILURES rows, each read by its id: the failing list may hold thousands.
    const rows = await Promise.all(failures.map((f) => scheduler.getSubscription(f.subscriptionId, { errors: 0 })))
    return failures.map((f, i) => (rows[i]!.status === 'paused' && rows[i]!.pausedReason === 'failures' ? { ...f, paused: true } : f))
  } catch (error) {
    logger.warn(`Could not read which failed subscriptions are paused: ${(error as Error).message}`)
    return failures
  }
}
