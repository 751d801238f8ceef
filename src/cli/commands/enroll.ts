/**
 * `enroll`: gives subscriptions their `subscription_processing` row, for hosts that run with
 * `autoEnroll: false` (every sweep does it otherwise): `--all` for every host subscription that
 * has none, or the ids given.
 */
import { defineCommand } from 'citty'
import { createSubscriptionScheduler } from '../../scheduler.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, UsageError, withPool } from '../context.js'
import { checkedSubscriptionId } from '../control.js'

export default defineCommand({
  meta: { name: 'enroll', description: 'Enrol every host subscription that has no row yet (--all), or the ids given' },
  args: {
    ids: { type: 'positional', required: false, description: 'Subscription ids to enrol, instead of --all', valueHint: 'id…' },
    all: { type: 'boolean', description: 'Every subscription in `subscriptions` with no subscription_processing row' },
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const given = args._.map(String)
    if (Boolean(args.all) === given.length > 0) {
      throw new UsageError('Pass either --all, or one or more subscription ids: `enroll --all` or `enroll <id> [<id>…]`.')
    }
    const ids = given.map(checkedSubscriptionId)
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const scheduler = createSubscriptionScheduler(pool, { logger })
      if (args.all) {
        const enrolled = await scheduler.enrollMissing()
        console.log(enrolled === 0 ? 'Every subscription was already enrolled.' : `Enrolled ${enrolled} subscription${enrolled === 1 ? '' : 's'}.`)
        return
      }
      let created = 0
      for (const id of ids) created += (await scheduler.enroll(id)).created ? 1 : 0
      console.log(`Enrolled ${created} of ${ids.length} (${ids.length - created} already had a row).`)
    })
  },
})
