/**
 * `pause <id> [--until <instant>]`: the subscription is not picked until resumed, or until the
 * instant given, when it resumes by itself (a sweep or the minutely tick resumes it).
 */
import { defineCommand } from 'citty'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, withPool } from '../context.js'
import { controlScheduler, inFlagTerms, instantFlag, noteArg, noteOption, subscriptionIdArg, subscriptionIdOf, zoneOf } from '../control.js'
import { timeInZone } from '../zoned-time.js'
import { print } from '../print.js'

export default defineCommand({
  meta: { name: 'pause', description: 'Pause a subscription until resumed, or --until an instant' },
  args: {
    ...subscriptionIdArg,
    until: { type: 'string', description: 'Resume by itself at this instant, e.g. 2026-03-10T09:00:00+01:00', valueHint: 'instant' },
    ...noteArg,
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const id = subscriptionIdOf(args, 'pause')
    const until = instantFlag('until', args.until)
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { scheduler, zone: schedulerZone } = await controlScheduler(pool, logger)
      // Read first, only to say whether anything changed: a pause as it already is writes nothing.
      const before = await scheduler.getSubscription(id, { errors: 0 }).catch(() => null)
      const details = await inFlagTerms(() => scheduler.pause(id, { ...(until ? { until } : {}), ...noteOption(args) }))
      const { zone } = zoneOf(details, schedulerZone)
      const kept = args.note === undefined ? '' : ', and this note was not kept'
      if (before?.status === 'paused' && before.pausedReason === 'manual' && before.pausedUntil?.getTime() === until?.getTime()) {
        print(`${id} was already paused ${until ? `until ${timeInZone(until, zone)}` : 'until resumed'}: nothing changed${kept}.`)
      } else if (details.status === 'ended' && !until) {
        print(`${id} has ended: it has no slot left to pause, and nothing changed.`)
      } else if (!until) {
        print(`Paused ${id} until resumed (\`resume ${id}\`). A call already in flight finishes, and its success is recorded.`)
      } else if (details.status === 'ended') {
        print(`No run of ${id} is left after ${timeInZone(until, zone)}: it has ended.`)
      } else if (details.nextRunAt && details.pausedUntil && details.nextRunAt < details.pausedUntil) {
        // A slot already due as the pause began runs once after it (or, under catchUp 'all', the slots it defers).
        print(`Paused ${id} until ${timeInZone(details.pausedUntil, zone)}; then its slot of ${timeInZone(details.nextRunAt, zone)}, which the pause holds back, runs first.`)
      } else {
        print(`Paused ${id} until ${timeInZone(details.pausedUntil, zone)}; its next run is then ${timeInZone(details.nextRunAt, zone)}.`)
      }
    })
  },
})
