/**
 * `status`: what an operator asks first. Reads only; needs no worker and starts nothing.
 */
import { defineCommand } from 'citty'
import { createSubscriptionScheduler } from '../../scheduler.js'
import { commonArgs, followingCronArg, followingTimezoneArg, strictFlags } from '../args.js'
import { createCliLogger, resolvedQuietly, withPool } from '../context.js'
import { otherPrefixes } from '../worked-queue.js'
import { formatStatus } from '../format.js'
import { cliSchedulerOptions } from '../published-settings.js'
import { givenSchedule, givenScheduleJson } from '../schedule-view.js'
import { print } from '../print.js'
import { pendingMigrations } from '../../db/missing-tables.js'

export default defineCommand({
  meta: { name: 'status', description: 'Counts by status, the queue, the instances, the last run, and the registered schedule and its next fire' },
  args: {
    json: { type: 'boolean', description: 'Print JSON (dates as ISO strings)' },
    // The registered schedule is printed; these say what a start would register when none is,
    // and a difference from the registered one is pointed out.
    timezone: followingTimezoneArg,
    cron: followingCronArg,
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const logger = createCliLogger('quiet', args.verbose === true)
    const flags = { timezone: args.timezone, cron: args.cron }
    const given = givenSchedule(flags)
    await withPool(logger, async (pool) => {
      // A zone given that differs from the registered one is pointed out in the Note line.
      const { options, published } = await cliSchedulerOptions(pool, flags, logger, { noteOverride: false })
      const scheduler = createSubscriptionScheduler(pool, options)
      // A database an older version migrated (a rolling deploy's start) has no instances table yet:
      // the rest of the status still shows, and the line says why the instances do not.
      const [status, instances, pending] = await Promise.all([
        scheduler.getStatus(),
        scheduler.listInstances().catch((error: unknown) => {
          if ((error as { code?: unknown } | null)?.code === 'NOT_MIGRATED') return null
          throw error
        }),
        // A deploy's check before it rolls: what the next start (or `migrate`) will apply.
        pendingMigrations(pool),
      ])
      // None under this prefix, others here: the environment lacks the instances' prefix (or names another).
      const others = instances?.length === 0 ? await otherPrefixes(pool, resolvedQuietly(options)) : []
      if (args.json) {
        print(JSON.stringify({ ...status, instances, otherQueuePrefixes: others, pendingMigrations: pending, givenSchedule: givenScheduleJson(status.schedule, given) }, null, 2))
        return
      }
      print(formatStatus(status, given, published !== null, instances, others))
      if (pending.length > 0) {
        print(`Migrations      ${pending.length} of this version not applied: ${pending.join(', ')}. The next start applies them, or run migrate (as the tables' owner) first.`)
      }
    })
  },
})
