/**
 * `list`: the subscriptions of a status (`--status paused`, `inactive` too, as `status` counts
 * them) or of one user (`--user`), in id order, one line each (`listSubscriptions()`, the admin
 * API's `GET /subscriptions`), with the flag that prints the next page. Reads only: needs no
 * worker and starts nothing.
 */
import { defineCommand } from 'citty'
import type { SubscriptionListEntry } from '../../index.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, integerFlag, withPool } from '../context.js'
import { controlScheduler, failedSlotRetryText, inFlagTerms, zoneOf } from '../control.js'
import type { SchedulerZone } from '../published-settings.js'
import { timeInZone } from '../zoned-time.js'
import { print } from '../print.js'
import { oneLine } from '../../printable.js'

/** Listed at most, as `listSubscriptions()` does by default; `--limit` asks for fewer or more. */
const DEFAULT_LIMIT = 50

function line(row: SubscriptionListEntry, scheduler: SchedulerZone): string {
  const { zone } = zoneOf(row, scheduler)
  const status = row.active === true ? (row.pausedReason ? `${row.status} (${row.pausedReason})` : row.status) : row.active === false ? `inactive (${row.status})` : `no host row (${row.status})`
  // A failed row's next run is its failed slot, past: when a sweep tries it again is what is ahead.
  const next = row.retryAt
    ? `failed slot ${timeInZone(row.nextRunAt, zone)}, ${failedSlotRetryText(row.retryAt, zone)}`
    : row.nextRunAt ? `next ${timeInZone(row.nextRunAt, zone)}` : 'no next slot'
  return `  ${row.subscriptionId}  ${status}, ${row.frequency === null ? 'no frequency' : oneLine(row.frequency)}, user ${row.userId === null ? '—' : oneLine(row.userId)}, ${next}`
}

export default defineCommand({
  meta: { name: 'list', description: 'The subscriptions of a status or of one user, in id order, a page at a time' },
  args: {
    status: { type: 'string', description: 'Only those with this status: pending, queued, processing, completed, failed, paused, ended, or inactive', valueHint: 'status' },
    user: { type: 'string', description: "Only those of this user (subscriptions.user_id)", valueHint: 'id' },
    after: { type: 'string', description: 'The page after this subscription id (the last one listed)', valueHint: 'id' },
    limit: { type: 'string', description: `How many to list, 1 to 1000 (default ${DEFAULT_LIMIT})`, valueHint: 'n' },
    json: { type: 'boolean', description: "Print listSubscriptions()'s answer as JSON" },
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const limit = integerFlag('limit', args.limit, 1) ?? DEFAULT_LIMIT
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { scheduler, zone } = await controlScheduler(pool, logger)
      const page = { limit, status: args.status as SubscriptionListEntry['status'] | 'inactive' | undefined, userId: args.user, after: args.after }
      const listed = await inFlagTerms(() => scheduler.listSubscriptions(page))
      if (args.json) {
        print(JSON.stringify(listed, null, 2))
        return
      }
      const which = [args.status ? `${args.status}` : null, args.user ? `of user ${args.user}` : null].filter(Boolean).join(', ')
      if (listed.length === 0) {
        print(`No subscription${which ? ` (${which})` : ''}${args.after ? ` after ${args.after}` : ''}.`)
        return
      }
      print(`Subscriptions${which ? ` (${which})` : ''}, in id order:`)
      for (const row of listed) print(line(row, zone))
      if (listed.length === limit) print(`--after ${listed.at(-1)!.subscriptionId} lists the next ${limit}; show <id> tells more of one.`)
      else print('show <id> tells more of one.')
    })
  },
})
