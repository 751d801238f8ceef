/**
 * Answers that refuse the scheduler itself, not one subscription: 401, 403 and 407 say its
 * credentials are wrong (a token rotated, a header missing), and every call after gets the same.
 * A trial's wrong token failed all 300 subscriptions for good in 2 s, its log 20 warnings about
 * single rows, and with `pauseAfterConsecutiveFailures` two sweeps paused every subscription.
 *
 * Such an answer counts as a failure for the circuit breaker, which then holds the calls back
 * until a probe is answered otherwise; a run of them is said once, as one fault of the setup; and
 * it never pauses a subscription (failsOnItsOwn() in settle/outcome.ts).
 */
import { refusesCaller } from '../settle/outcome.js'
import type { Outcome } from '../settle/outcome.js'
import type { Logger } from '../observe/logger.js'

/** Refusals in a row, on one instance, after which they are said as one fault. */
const REFUSALS_SAID_AT = 10

interface Streak {
  count: number
  said: boolean
}

/** Per scheduler (its resolved options stand for it): a process may run several. */
const streaks = new WeakMap<object, Streak>()

/**
 * Counts the outcome into the instance's run of refusals: an answer of any other kind ends it,
 * and a call cut short or held back says nothing either way. Says the run once it reaches
 * {@link REFUSALS_SAID_AT}, then again only after it has ended.
 */
export function noteRefusal(owner: { logger: Logger }, outcome: Outcome, breaker: boolean): void {
  if (outcome.kind === 'cancelled' || outcome.kind === 'skipped' || (outcome.kind === 'failure' && outcome.cancelled)) return
  let streak = streaks.get(owner)
  if (!streak) streaks.set(owner, (streak = { count: 0, said: false }))
  if (!refusesCaller(outcome)) {
    streak.count = 0
    streak.said = false
    return
  }
  streak.count += 1
  if (streak.count < REFUSALS_SAID_AT || streak.said || outcome.kind !== 'failure') return
  streak.said = true
  owner.logger.error(
    `The worker answered ${outcome.status} to ${streak.count} calls in a row: it refuses the scheduler's credentials, not one subscription. ` +
      "Check the worker client's headers (createHttpWorkerClient({ headers }); the CLI's SUBSCRIPTION_WORKER_HEADERS) and the worker's auth. " +
      (breaker
        ? 'The circuit breaker holds the calls back meanwhile; the subscriptions failed before it opened are retried by retryFailed() once it is fixed.'
        : 'Each such call fails for good meanwhile (retryFailed() calls them again once it is fixed): pauseCalls() (the CLI\'s pause-calls) stops every call until then, and `circuitBreaker: true` would hold them back.'),
  )
}
