/**
 * `retry-failed [<id>…]`: re-drives the subscriptions whose slot failed for good (and those paused
 * after failing in a row), every one or the ids given, for the slot they failed, with the same
 * idempotency key: what `retryFailed()` and the admin API's `POST /failed/retry` do, for an
 * operator with a shell and no admin API mounted. Like `run-now`, it follows the run to the end
 * with progress (exit 3 when any failed again), or with `--no-wait` leaves it to running workers.
 */
import { defineCommand } from 'citty'
import { createSubscriptionScheduler } from '../../scheduler.js'
import { oneOffCallArgs, strictFlags } from '../args.js'
import { createCliLogger, integerFlag, requireWorkerUrl, withPool } from '../context.js'
import { checkedSubscriptionId, inFlagTerms } from '../control.js'
import { formatSummary } from '../format.js'
import { runOneOff } from '../one-off-run.js'
import { cliSchedulerOptions } from '../published-settings.js'
import { failuresToList, LISTED_FAILURES } from '../run-failures.js'
import { assertWorkedQueue } from '../worked-queue.js'
import { print } from '../print.js'

const plural = (n: number) => `${n} subscription${n === 1 ? '' : 's'}`

export default defineCommand({
  meta: { name: 'retry-failed', description: 'Retry the subscriptions whose slot failed for good (all, or the ids given); exits 3 if any failed again' },
  args: {
    ids: { type: 'positional', required: false, description: 'Subscription ids to retry (default: every failed one)', valueHint: 'id…' },
    wait: { type: 'boolean', default: true, description: 'Wait for the retries to settle', negativeDescription: 'Enqueue the retries and exit; running workers process them' },
    ...oneOffCallArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    // Checked before anything connects: a mistyped id is a usage error (exit 2).
    const ids = args._.map(checkedSubscriptionId)
    const flags = { workerUrl: args['worker-url'], concurrency: args.concurrency }
    const timeoutMs = integerFlag('shutdown-timeout', args['shutdown-timeout'], 0) ?? 30_000
    // With --no-wait running workers make the calls: this command needs no worker of its own.
    if (args.wait) requireWorkerUrl(flags)
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      // The retried rows' next slots follow the workers' settings, as run-now's do.
      const { options, heldTo } = await cliSchedulerOptions(pool, flags, logger, { noteOverride: false })
      if (!args.wait) await assertWorkedQueue(pool, options, '--no-wait')
      const scheduler = createSubscriptionScheduler(pool, { ...options, schedule: false, work: args.wait })
      // An id that is not enrolled is refused (NotFoundError, naming it) before any run starts.
      const start = () => inFlagTerms(() => scheduler.retryFailed({ ...(ids.length > 0 ? { subscriptionIds: ids } : {}), wait: false }))
      const nothing = ids.length > 0 ? `None of the ${plural(ids.length)} given has a failed slot: nothing to retry.` : 'No subscription has a failed slot: nothing to retry.'
      await runOneOff(scheduler, timeoutMs, {
        wait: args.wait,
        heldTo,
        logger,
        start,
        started: ({ runId, processed }) => (processed === 0 ? nothing : `Retry run ${runId} started: ${plural(processed)} enqueued; running workers (or the next start) process them.`),
        keepFailures: LISTED_FAILURES,
        async report({ summary, failures }) {
          if (summary.processed === 0) print(nothing)
          else print(formatSummary(summary, await failuresToList(scheduler, summary, failures, logger)))
        },
        interrupted: (runId) => `Interrupted. Retry run ${runId ?? '(not started)'} goes on: running workers (or the next start) process its subscriptions.`,
      })
    })
  },
})
