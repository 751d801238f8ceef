/**
 * `enroll`: gives subscriptions their `subscription_processing` row, for hosts that run with
 * `autoEnroll: false` (every sweep does it otherwise): `--all` for every host subscription that
 * has none, or the ids given.
 */
import { defineCommand } from 'citty'
import { NotFoundError } from '../../errors.js'
import { createSubscriptionScheduler } from '../../scheduler.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, namespaceOptions, UsageError, withPool } from '../context.js'
import { checkedSubscriptionId } from '../control.js'

/** What became of the ids that were found, beside the unknown ones: none, some or all of them enrolled just now. */
function others(created: number, already: number): string {
  const found = created + already
  if (found === 0) return ''
  const were = (n: number) => (n === 1 ? 'was' : 'were')
  const subject = found === 1 ? 'The other id' : `The other ${found} ids`
  if (already === 0) return ` ${subject} ${were(found)} enrolled.`
  if (created === 0) return ` ${subject} ${were(found)} already enrolled.`
  return ` Of the other ${found} ids, ${created} ${were(created)} enrolled now and ${already} already ${were(already)}.`
}

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
    const namespace = namespaceOptions()
    await withPool(logger, async (pool) => {
      const scheduler = createSubscriptionScheduler(pool, { logger, ...namespace })
      if (args.all) {
        const enrolled = await scheduler.enrollMissing()
        console.log(enrolled === 0 ? 'Every subscription was already enrolled.' : `Enrolled ${enrolled} subscription${enrolled === 1 ? '' : 's'}.`)
        return
      }
      // Every id is tried: one unknown id does not leave the rest of the list unenrolled and unsaid.
      let created = 0
      const unknown: string[] = []
      for (const id of ids) {
        try {
          created += (await scheduler.enroll(id)).created ? 1 : 0
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error
          unknown.push(id)
        }
      }
      const already = ids.length - unknown.length - created
      const rest = [already > 0 ? `${already} already enrolled` : null, unknown.length > 0 ? `${unknown.length} not found` : null].filter(Boolean)
      console.log(`Enrolled ${created} of ${ids.length}${rest.length > 0 ? ` (${rest.join(', ')})` : ''}.`)
      if (unknown.length > 0) {
        throw new NotFoundError(`No row in subscriptions has id ${unknown.join(', ')}; create the subscription before enrolling it.${others(created, already)}`, { subscriptionId: unknown[0] })
      }
    })
  },
})
