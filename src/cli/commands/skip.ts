/**
 * `skip <id> [--slot <instant>]`: the subscription's next slot is not processed; the skip is kept
 * in its history. With --slot, only that slot, while it is the next one: a script that retries
 * the command skips it once.
 */
import { defineCommand } from 'citty'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, withPool } from '../context.js'
import { controlScheduler, inFlagTerms, instantFlag, noteArg, noteOption, subscriptionIdArg, subscriptionIdOf, whyNoSlot, zoneOf } from '../control.js'
import { timeInZone } from '../zoned-time.js'
import { print } from '../print.js'

export default defineCommand({
  meta: { name: 'skip', description: "Skip a subscription's next run (refused while a call for it is in flight)" },
  args: {
    ...subscriptionIdArg,
    slot: { type: 'string', description: 'Skip this slot (as `upcoming` lists it) only while it is the next one; run again, it skips nothing more', valueHint: 'instant' },
    ...noteArg,
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const id = subscriptionIdOf(args, 'skip')
    const slot = instantFlag('slot', args.slot)
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { scheduler, zone: schedulerZone } = await controlScheduler(pool, logger)
      // Read first, only to say whether anything changed: a --slot skipped already is not skipped again.
      const before = slot ? await scheduler.getSubscription(id, { errors: 0 }).catch(() => null) : null
      const { skipped, nextRunAt } = await inFlagTerms(() => scheduler.skipNext(id, { ...(slot ? { slot } : {}), ...noteOption(args) }))
      const details = await scheduler.getSubscription(id, { errors: 0 })
      const { zone } = zoneOf(details, schedulerZone)
      if (!skipped) {
        print(`Nothing to skip: ${id} has no run ahead (${whyNoSlot(details, schedulerZone) ?? 'no slot is left before its end'}).`)
        return
      }
      const next = nextRunAt ? `next run ${timeInZone(nextRunAt, zone)}` : 'that was its last run: it has ended'
      if (before && before.nextRunAt?.getTime() === nextRunAt?.getTime() && before.status === details.status) {
        print(`The run of ${id} at ${timeInZone(skipped, zone)} was already skipped: nothing changed${args.note === undefined ? '' : ', and this note was not kept'}; ${next}.`)
        return
      }
      print(`Skipped the run of ${id} at ${timeInZone(skipped, zone)}; ${next}.`)
    })
  },
})
