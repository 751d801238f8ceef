/**
 * `resume <id>`: a paused subscription is picked again, at once if its next slot has passed.
 */
import { defineCommand } from 'citty'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, withPool } from '../context.js'
import { controlScheduler, inFlagTerms, noteArg, noteOption, subscriptionIdArg, subscriptionIdOf, zoneOf } from '../control.js'
import { timeInZone } from '../zoned-time.js'
import { print } from '../print.js'

export default defineCommand({
  meta: { name: 'resume', description: 'Resume a paused subscription' },
  args: {
    ...subscriptionIdArg,
    ...noteArg,
    forgive: { type: 'boolean', description: "Under catchUp 'all', do not call the slots the pause deferred: go on from now" },
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const id = subscriptionIdOf(args, 'resume')
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { scheduler, zone: schedulerZone } = await controlScheduler(pool, logger)
      // Read first, only to say whether anything changed: resume() changes nothing otherwise. Not
      // enrolled yet (the host just added it), resume() enrols it where the workers would, or says why not.
      const before = await scheduler.getSubscription(id, { errors: 0 }).catch((error: unknown) => {
        if ((error as { code?: unknown } | null)?.code === 'NOT_FOUND') return null
        throw error
      })
      const details = await inFlagTerms(() => scheduler.resume(id, { ...noteOption(args), ...(args.forgive === true ? { forgive: true } : {}) }))
      if (before === null) {
        print(`${id} was not enrolled yet: it is now, and was not paused; it runs at the next sweep.`)
        return
      }
      if (before.status !== 'paused') {
        print(`${id} was not paused (status ${before.status}); nothing changed.`)
        return
      }
      const next = details.nextRunAt
      // Due by the database's clock, which the sweeps go by, not this host's.
      const due = next !== null && (await pool.query<{ due: boolean }>('SELECT $1::timestamptz <= clock_timestamp() AS due', [next])).rows[0]?.due === true
      const when = next === null ? 'at the next sweep' : due ? 'at the next sweep (its run is due)' : `next at ${timeInZone(next, zoneOf(details, schedulerZone).zone)}`
      print(`Resumed ${id}: it runs ${when}.`)
    })
  },
})
