/**
 * `enroll`: gives subscriptions their `subscription_processing` row, for hosts that run with
 * `autoEnroll: false` (every sweep does it otherwise): `--all` for every host subscription that
 * has none, or the ids given; and `--file`, subscriptions with settings of their own, many at once
 * (`enrollMany()`).
 */
import { defineCommand } from 'citty'
import { NotFoundError } from '../../errors.js'
import { configurationReason } from '../../error-text.js'
import { isConfigurationError } from '../../error-guards.js'
import type { EnrollManyResult } from '../../records/enroll-many.js'
import type { SubscriptionScheduler } from '../../types.js'
import { createSubscriptionScheduler } from '../../scheduler.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, namespaceOptions, UsageError, withPool } from '../context.js'
import { checkedSubscriptionId } from '../control.js'
import { entriesOf, placeOfOption, readEntriesFile } from '../enroll-file.js'
import { print } from '../print.js'

/** Refusals listed before the command says how many more there were. */
const LISTED_REFUSALS = 20

function refusalText(result: EnrollManyResult): string {
  const lines = result.refused.slice(0, LISTED_REFUSALS).map(({ subscriptionId, error }) => `  ${subscriptionId}: ${error.message}`)
  const more = result.refused.length - LISTED_REFUSALS
  return lines.join('\n') + (more > 0 ? `\n  and ${more} more` : '')
}

/** `enroll --file`: the file's entries through enrollMany(), its errors named by line. */
async function enrollFile(scheduler: SubscriptionScheduler, path: string): Promise<void> {
  const { entries, places } = entriesOf(await readEntriesFile(path))
  let result: EnrollManyResult
  try {
    result = await scheduler.enrollMany(entries)
  } catch (error) {
    const place = isConfigurationError(error) ? placeOfOption(error.option, places) : null
    if (place === null || !isConfigurationError(error)) throw error
    // The other bad entries it names, by their place in the file too.
    const detail = configurationReason(error).replace(/entries\[\d+\](?:\.[A-Za-z]+)?/g, (option) => placeOfOption(option, places) ?? option)
    throw new UsageError(`--file: ${place}: ${detail}${detail.endsWith('Nothing was enrolled.') ? '' : ' Nothing was enrolled.'}`)
  }
  const { created, updated, unchanged, refused } = result
  print(`Enrolled ${entries.length - refused.length} of ${entries.length}: ${created} created, ${updated} updated, ${unchanged} unchanged${refused.length > 0 ? `, ${refused.length} refused` : ''}.`)
  if (refused.length > 0) {
    throw new Error(`${refused.length} subscription${refused.length === 1 ? ' was' : 's were'} refused, the others enrolled; run the same file again once they are settled (rows already enrolled are left as they are):\n${refusalText(result)}`)
  }
}

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
    file: { type: 'string', description: 'Subscriptions with settings of their own, one JSON object per line or a JSON array ("-": standard input)', valueHint: 'path' },
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const given = args._.map(String)
    const file = typeof args.file === 'string' ? args.file : undefined
    if ([Boolean(args.all), given.length > 0, file !== undefined].filter(Boolean).length !== 1) {
      throw new UsageError('Pass one of --all, one or more subscription ids, or --file: `enroll --all`, `enroll <id> [<id>…]` or `enroll --file subscriptions.jsonl`.')
    }
    const ids = given.map(checkedSubscriptionId)
    const logger = createCliLogger('quiet', args.verbose === true)
    const namespace = namespaceOptions()
    await withPool(logger, async (pool) => {
      const scheduler = createSubscriptionScheduler(pool, { logger, ...namespace })
      if (file !== undefined) return await enrollFile(scheduler, file)
      if (args.all) {
        const enrolled = await scheduler.enrollMissing()
        print(enrolled === 0 ? 'Every subscription was already enrolled.' : `Enrolled ${enrolled} subscription${enrolled === 1 ? '' : 's'}.`)
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
      print(`Enrolled ${created} of ${ids.length}${rest.length > 0 ? ` (${rest.join(', ')})` : ''}.`)
      if (unknown.length > 0) {
        throw new NotFoundError(`No row in subscriptions has id ${unknown.join(', ')}; create the subscription before enrolling it.${others(created, already)}`, { subscriptionId: unknown[0] })
      }
    })
  },
})
