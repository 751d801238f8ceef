/**
 * `status`: what an operator asks first. Reads only; needs no worker and starts nothing.
 */
import { defineCommand } from 'citty'
import { DEFAULTS } from '../../options.js'
import { commonArgs, schedulerArgs, strictFlags } from '../args.js'
import { createCliLogger, createCliScheduler, schedulerOptions, withPool } from '../context.js'
import { formatStatus } from '../format.js'

export default defineCommand({
  meta: { name: 'status', description: 'Counts by status, the last run, the next cron fire and the queue' },
  args: {
    json: { type: 'boolean', description: 'Print JSON (dates as ISO strings)' },
    // The next fire is computed from these, not read from the database: pass what the
    // instances run with.
    timezone: schedulerArgs.timezone,
    cron: schedulerArgs.cron,
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const logger = createCliLogger('quiet', args.verbose === true)
    const options = schedulerOptions({ timezone: args.timezone, cron: args.cron }, logger)
    await withPool(logger, async (pool) => {
      const status = await createCliScheduler(pool, options).getStatus()
      if (args.json) {
        console.log(JSON.stringify(status, null, 2))
        return
      }
      console.log(formatStatus(status, { cron: options.cron ?? DEFAULTS.cron, timezone: options.timezone ?? DEFAULTS.timezone }))
    })
  },
})
