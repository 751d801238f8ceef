/**
 * `run-now [<id>]`: one sweep, now, from this process (or, given an id, that one subscription, as
 * `runSubscription()` does), with progress, a summary, and an exit code a script can test (3
 * when any subscription failed).
 */
import { defineCommand } from 'citty'
import { isUuid } from '../../records/enroll.js'
import { createSubscriptionScheduler } from '../../scheduler.js'
import { commonArgs, followingCronArg, followingTimezoneArg, schedulerArgs, shutdownArgs, strictFlags } from '../args.js'
import { createCliLogger, integerFlag, requireWorkerUrl, UsageError, withPool } from '../context.js'
import { inFlagTerms, subscriptionIdOf } from '../control.js'
import { formatSummary } from '../format.js'
import { runOneOff } from '../one-off-run.js'
import { cliSchedulerOptions } from '../published-settings.js'
import { failuresToList, LISTED_FAILURES } from '../run-failures.js'
import { assertWorkedQueue } from '../worked-queue.js'
import { print } from '../print.js'

/** The id given, checked; a word that is no UUID is more often a flag's value without its flag. */
function oneSubscriptionId(args: { id?: unknown; _: unknown[] }): string {
  const word = String(args._[0])
  if (!isUuid(word.trim())) {
    throw new UsageError(
      `run-now takes flags and at most one subscription id (a UUID), but was given ${JSON.stringify(word)}: a flag without its --, or a value without its flag? See run-now --help.`,
    )
  }
  return subscriptionIdOf(args, 'run-now')
}

export default defineCommand({
  meta: {
    name: 'run-now',
    description: 'Sweep now and process every due subscription (or the one id given); exits 3 if any failed',
  },
  args: {
    id: { type: 'positional', required: false, description: 'A subscription id: run only it, now, whatever its next run (runSubscription())', valueHint: 'id' },
    ...schedulerArgs,
    timezone: followingTimezoneArg,
    cron: followingCronArg,
    wait: { type: 'boolean', default: true, description: 'Wait for the run to settle', negativeDescription: 'Enqueue the run and exit; running workers process it' },
    ...shutdownArgs,
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const verbose = args.verbose === true
    // One subscription, or a sweep of every due one; a mistyped id is a usage error (exit 2).
    const id = args._.length > 0 ? oneSubscriptionId(args) : undefined
    const flags = { workerUrl: args['worker-url'], concurrency: args.concurrency, timezone: args.timezone, cron: args.cron }
    const timeoutMs = integerFlag('shutdown-timeout', args['shutdown-timeout'], 0) ?? 30_000
    // With --no-wait running workers make the calls: this command needs no worker of its own.
    if (args.wait) requireWorkerUrl(flags)
    const logger = createCliLogger('quiet', verbose)
    await withPool(logger, async (pool) => {
      // The slots after this run follow the workers' settings. A one-off run works the queue but
      // leaves the registered cron schedule, and the published settings, as they are; start()
      // warns when --timezone (or SUBSCRIPTION_TIMEZONE) differs from the published zone.
      const { options, heldTo } = await cliSchedulerOptions(pool, flags, logger, { noteOverride: false })
      // With --no-wait it only enqueues: running workers make the calls, not this command.
      if (!args.wait) await assertWorkedQueue(pool, options, '--no-wait')
      const scheduler = createSubscriptionScheduler(pool, { ...options, schedule: false, work: args.wait })
      // A paused, ended, inactive or busy subscription is refused (exit 4) before any run starts.
      const start = () => (id ? inFlagTerms(() => scheduler.runSubscription(id, { wait: false })) : scheduler.runNow({ wait: false }))
      await runOneOff(scheduler, timeoutMs, {
        wait: args.wait,
        heldTo,
        logger,
        start,
        started: ({ runId, processed }) => `Run ${runId} started: ${processed} subscription${processed === 1 ? '' : 's'} enqueued; running workers (or the next start) process them.`,
        keepFailures: LISTED_FAILURES,
        async report({ summary, failures }) {
          print(formatSummary(summary, await failuresToList(scheduler, summary, failures, logger)))
        },
        interrupted: (runId) => `Interrupted. Run ${runId ?? '(not started)'} goes on: its queued subscriptions are processed by running workers or the next start.`,
      })
    })
  },
})
