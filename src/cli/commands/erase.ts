/**
 * `erase <id>…`: removes what the scheduler keeps of subscriptions deleted from the host's table
 * (their failed attempts, history and dead letters), for a user's right to erasure: what
 * `erase()` does, for an operator with a shell. A subscription still in the table is refused,
 * and nothing is erased (exit 4).
 */
import { defineCommand } from 'citty'
import { createSubscriptionScheduler } from '../../scheduler.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, UsageError, withPool } from '../context.js'
import { checkedSubscriptionId, inFlagTerms } from '../control.js'
import { cliSchedulerOptions } from '../published-settings.js'
import { print } from '../print.js'

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

export default defineCommand({
  meta: { name: 'erase', description: "Erase deleted subscriptions' failures, history and dead letters (right to erasure)" },
  args: {
    ids: { type: 'positional', required: true, description: 'Ids of subscriptions deleted from your subscriptions table', valueHint: 'id…' },
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    // Checked before anything connects: a mistyped id is a usage error (exit 2).
    const ids = args._.map(checkedSubscriptionId)
    if (ids.length === 0) throw new UsageError('erase needs the ids of the subscriptions to erase.')
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { options } = await cliSchedulerOptions(pool, {}, logger)
      const scheduler = createSubscriptionScheduler(pool, options)
      const erased = await inFlagTerms(() => scheduler.erase(ids))
      print(
        `Erased what was kept of ${count(ids.length, 'subscription')}: ${count(erased.failures, 'failed attempt')}, ` +
          `${count(erased.history, 'history entry', 'history entries')}, ${count(erased.deadLetters, 'dead letter')}` +
          (erased.schedules > 0 ? `, ${count(erased.schedules, 'schedule row')} left behind (put the foreign key back: migrate).` : '.'),
      )
    })
  },
})
