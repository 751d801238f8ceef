/**
 * `backfill <id> --from <instant> --to <instant>`: processes every slot of one subscription in a
 * past range, oldest first, as a run of its own, and follows it to the end with progress (exit 3
 * when a slot failed). With `--no-wait` it starts the run and leaves it to the running workers.
 * Like `run-now`, it works the queue from this process but never registers the cron schedule.
 */
import { defineCommand } from 'citty'
import { isNotEnrolled } from '../../records/schedule-row.js'
import { createSubscriptionScheduler } from '../../scheduler.js'
import type { RunSummary, SubscriptionScheduler } from '../../index.js'
import { oneOffCallArgs, strictFlags } from '../args.js'
import { createCliLogger, integerFlag, requireWorkerUrl, UsageError, withPool } from '../context.js'
import { inFlagTerms, instantFlag, subscriptionIdArg, subscriptionIdOf, zoneOf } from '../control.js'
import { formatDuration } from '../format.js'
import { runOneOff } from '../one-off-run.js'
import { cliSchedulerOptions } from '../published-settings.js'
import { LISTED_FAILURES } from '../run-failures.js'
import { timeInZone } from '../zoned-time.js'
import { assertWorkedQueue } from '../worked-queue.js'
import { print } from '../print.js'
import { oneLine } from '../../printable.js'

/** The summary, and the slots that failed for good (read from the failure history: any instance may have run them). */
async function report(scheduler: SubscriptionScheduler, summary: RunSummary, zone: string): Promise<string> {
  const lines = [`Backfill run ${summary.runId} finished in ${formatDuration(summary.durationMs)}`]
  for (const [label, n] of [['slots', summary.processed], ['successful', summary.successful], ['failed', summary.failed], ['retried', summary.retried], ['skipped', summary.skipped]] as const) {
    lines.push(`  ${label.padEnd(10)}  ${n}`)
  }
  if (summary.failed > 0) {
    const failures = (await scheduler.listFailures({ runId: summary.runId, limit: 200 })).filter((f) => f.final).slice(0, LISTED_FAILURES)
    lines.push(failures.length < summary.failed ? `Failed slots (${failures.length} of ${summary.failed} listed):` : 'Failed slots:')
    for (const f of failures) lines.push(`  ${timeInZone(f.scheduledFor, zone)}  attempt ${f.attempt}: ${oneLine(f.error)}`)
    lines.push('A failed slot is not retried by the sweeps; backfill its range again to retry it.')
  }
  return lines.join('\n')
}

/** The subscription's own zone (null: the scheduler's), also for one not enrolled yet. */
async function subscriptionZone(scheduler: SubscriptionScheduler, id: string): Promise<{ timezone: string | null }> {
  try {
    return await scheduler.getSubscription(id, { errors: 0 })
  } catch (error) {
    if (isNotEnrolled(error)) return { timezone: null }
    throw error
  }
}

export default defineCommand({
  meta: { name: 'backfill', description: "Process every slot of a subscription in a past range (--from, --to); exits 3 if any failed" },
  args: {
    ...subscriptionIdArg,
    from: { type: 'string', description: 'The first instant of the range, e.g. 2026-03-01T00:00:00Z (a slot at it is processed)', valueHint: 'instant' },
    to: { type: 'string', description: 'The last instant of the range, in the past (a slot at it is processed)', valueHint: 'instant' },
    wait: { type: 'boolean', default: true, description: 'Wait for the backfill to finish', negativeDescription: 'Start the backfill and exit; running workers process it' },
    ...oneOffCallArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const id = subscriptionIdOf(args, 'backfill')
    const from = instantFlag('from', args.from)
    const to = instantFlag('to', args.to)
    if (!from || !to) throw new UsageError(`${from ? '--to' : '--from'} is required: backfill <id> --from <instant> --to <instant>.`)
    const flags = { workerUrl: args['worker-url'], concurrency: args.concurrency }
    const timeoutMs = integerFlag('shutdown-timeout', args['shutdown-timeout'], 0) ?? 30_000
    // With --no-wait running workers take its steps: this command needs no worker of its own.
    if (args.wait) requireWorkerUrl(flags)
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      // The slots follow the workers' settings; start() warns when SUBSCRIPTION_TIMEZONE differs.
      const { options, heldTo, zone: schedulerZone } = await cliSchedulerOptions(pool, flags, logger, { noteOverride: false })
      // With --no-wait it only starts the run: a step it took would be given up on its way out.
      if (!args.wait) await assertWorkedQueue(pool, options, '--no-wait')
      const scheduler = createSubscriptionScheduler(pool, { ...options, schedule: false, work: args.wait })
      // Its zone, for the report. One inserted since the last sweep has no row yet, so none of its
      // own: backfill() enrols it first (or says why not, an id in no table among them).
      const { zone } = zoneOf(await subscriptionZone(scheduler, id), schedulerZone)
      const start = () => inFlagTerms(() => scheduler.backfill(id, { from, to, wait: false }))
      await runOneOff(scheduler, timeoutMs, {
        wait: args.wait,
        heldTo,
        logger,
        start,
        started: ({ runId, processed }) => `Backfill run ${runId} started: ${processed} slot${processed === 1 ? '' : 's'} of ${id}; running workers (or the next start) process them.`,
        keepFailures: 0,
        async report({ summary }) {
          if (summary.processed === 0) print(`No slot of ${id} falls between ${timeInZone(from, zone)} and ${timeInZone(to, zone)}: nothing to backfill.`)
          else print(await report(scheduler, summary, zone))
        },
        interrupted: (runId) => `Interrupted. Backfill run ${runId ?? '(not started)'} goes on: running workers (or the next start) process its slots.`,
      })
    })
  },
})
