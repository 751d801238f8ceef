/**
 * `upcoming <id>`: a subscription's next slots, in its zone, after its pause, skips, start and
 * end. Reads only; needs no worker and starts nothing.
 */
import { defineCommand } from 'citty'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, integerFlag, withPool } from '../context.js'
import { controlScheduler, inFlagTerms, subscriptionIdArg, subscriptionIdOf, whyNoSlot, zoneOf } from '../control.js'
import { timeInZone } from '../zoned-time.js'
import { print } from '../print.js'
import { oneLine } from '../../printable.js'

export default defineCommand({
  meta: { name: 'upcoming', description: "A subscription's next runs, in its own zone (or the scheduler's)" },
  args: {
    ...subscriptionIdArg,
    count: { type: 'string', description: 'How many runs, 1 to 1000 (default 5)', valueHint: 'n' },
    json: { type: 'boolean', description: 'Print JSON: { subscriptionId, timezone, upcoming: [ISO instants] }' },
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const id = subscriptionIdOf(args, 'upcoming')
    const count = integerFlag('count', args.count, 1) ?? 5
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { scheduler, zone: schedulerZone } = await controlScheduler(pool, logger)
      const upcoming = await inFlagTerms(() => scheduler.upcoming(id, { count }))
      const details = await scheduler.getSubscription(id, { errors: 0 })
      const { zone, note } = zoneOf(details, schedulerZone)
      if (args.json) {
        print(JSON.stringify({ subscriptionId: id, timezone: zone, upcoming }, null, 2))
        return
      }
      if (upcoming.length === 0) {
        print(`No runs ahead for ${id}: ${whyNoSlot(details, schedulerZone) ?? 'no slot is left before its end'}.`)
        return
      }
      const what = upcoming.length === 1 ? 'run' : `${upcoming.length} runs`
      print(`Next ${what} of ${id} (${oneLine(details.frequency ?? 'daily')}), in ${zone}, ${note}:`)
      for (const slot of upcoming) print(`  ${timeInZone(slot, zone)}`)
    })
  },
})
