/**
 * `failing`: the subscriptions whose last attempt failed, the most recent first, one line each
 * (`listFailing()`, the admin API's `GET /failing`), with the way to retry them or look closer.
 * Reads only: needs no worker and starts nothing.
 */
import { defineCommand } from 'citty'
import type { FailingSubscription } from '../../index.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, integerFlag, withPool } from '../context.js'
import { controlScheduler, failedSlotRetryText, zoneOf } from '../control.js'
import type { SchedulerZone } from '../published-settings.js'
import { timeInZone } from '../zoned-time.js'
import { print } from '../print.js'
import { oneLine } from '../../printable.js'

/** Listed at most, as `listFailing()` allows; `--limit` asks for fewer or more. */
const DEFAULT_LIMIT = 20

/** Where the row stands: failed for good, paused after failing or by hand, or waiting for its retry. */
function standing(row: FailingSubscription, zone: string): string {
  if (row.status === 'paused' && row.pausedReason === 'failures') return 'paused after failing in a row'
  // Nothing retries it, nor can: resumed, it is failed again, for a retry or the next sweep.
  if (row.status === 'paused') return `paused by hand, not retried until resumed (resume ${row.subscriptionId})`
  if (row.status === 'failed') return row.retryAt ? `failed, ${failedSlotRetryText(row.retryAt, zone)}` : 'failed, tried again by the next sweep'
  return `${row.status}, retrying`
}

/**
 * One row: where it stands, its failed runs in a row and its slot, each when it has one. A row
 * that failed under the MVP, adopted, has neither: it read "0 runs in a row, slot —" (a trial).
 */
function line(row: FailingSubscription, scheduler: SchedulerZone): string {
  const { zone } = zoneOf(row, scheduler)
  const n = row.consecutiveFailures
  const parts = [standing(row, zone), ...(n > 0 ? [`${n} run${n === 1 ? '' : 's'} in a row`] : []), ...(row.scheduledFor ? [`slot ${timeInZone(row.scheduledFor, zone)}`] : [])]
  return `  ${row.subscriptionId}  ${parts.join(', ')}: ${oneLine(row.error)}`
}

export default defineCommand({
  meta: { name: 'failing', description: 'The subscriptions whose last attempt failed, most recent first, with their errors' },
  args: {
    limit: { type: 'string', description: `How many to list, 1 to 1000 (default ${DEFAULT_LIMIT})`, valueHint: 'n' },
    json: { type: 'boolean', description: "Print listFailing()'s answer as JSON" },
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const limit = integerFlag('limit', args.limit, 1) ?? DEFAULT_LIMIT
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { scheduler, zone } = await controlScheduler(pool, logger)
      const failing = await scheduler.listFailing({ limit })
      if (args.json) {
        print(JSON.stringify(failing, null, 2))
        return
      }
      if (failing.length === 0) {
        print("No subscription's last attempt failed.")
        return
      }
      const more = failing.length === limit ? ` (the ${limit} most recent; --limit lists more)` : ''
      print(`Subscriptions whose last attempt failed, most recent first${more}:`)
      for (const row of failing) print(line(row, zone))
      print(
        'retry-failed [<id>…] retries them now, those paused after failing too, not those paused by hand (a sweep retries only the failed ones, each once its delay has passed); show <id> tells more of one.',
      )
    })
  },
})
