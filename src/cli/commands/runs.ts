/**
 * `runs`: the run history, newest first, a page at a time (`--before` the last run of the page
 * before), all of it or only some triggers. Reads only; needs no worker and starts nothing.
 */
import { defineCommand } from 'citty'
import { isRunTrigger, RUN_TRIGGERS } from '../../db/names.js'
import type { RunTrigger } from '../../db/names.js'
import { createSubscriptionScheduler } from '../../scheduler.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, integerFlag, namespaceOptions, UsageError, withPool } from '../context.js'
import { shown } from '../../error-text.js'
import { inFlagTerms } from '../control.js'
import { formatRunList } from '../run-list.js'
import { print } from '../print.js'

/** At most this many runs are listed at once, as by `listRuns()`. */
const MAX_LIMIT = 1000

/** `--trigger`: one trigger name, or several, comma-separated. */
function triggersFlag(value: string | undefined): RunTrigger[] | undefined {
  if (value === undefined) return undefined
  const names = value.split(',').map((name) => name.trim())
  const bad = names.find((name) => !isRunTrigger(name))
  if (bad !== undefined) throw new UsageError(`--trigger: expected one of ${RUN_TRIGGERS.join(', ')}, or several of them comma-separated; got ${shown(bad)}.`)
  return names as RunTrigger[]
}

export default defineCommand({
  meta: { name: 'runs', description: 'The run history, newest first: --before <run id> pages back, --trigger keeps some triggers, --unfinished the runs still going' },
  args: {
    limit: { type: 'string', description: `How many runs, 1 to ${MAX_LIMIT} (default 20)`, valueHint: 'n' },
    trigger: { type: 'string', description: `Only runs with this trigger, or these (comma-separated): ${RUN_TRIGGERS.join(', ')}`, valueHint: 'names' },
    before: { type: 'string', description: 'Only runs started before this run: the last one of the page before', valueHint: 'run-id' },
    unfinished: { type: 'boolean', description: 'Only runs not finished yet (sweeping, or with outcomes still to settle)' },
    subscription: { type: 'string', description: 'Only the runs of this subscription: its runs on demand (run-now <id>) and its backfills', valueHint: 'id' },
    json: { type: 'boolean', description: 'Print JSON: { runs: [run summaries, dates as ISO strings], olderBefore: the --before of the next page back, or null }' },
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const limit = integerFlag('limit', args.limit, 1) ?? 20
    if (limit > MAX_LIMIT) throw new UsageError(`--limit: expected at most ${MAX_LIMIT}, got ${limit}; page back with the --before the output prints.`)
    const trigger = triggersFlag(args.trigger)
    const before = args.before === undefined ? undefined : args.before.toLowerCase()
    const logger = createCliLogger('quiet', args.verbose === true)
    const namespace = namespaceOptions()
    await withPool(logger, async (pool) => {
      const scheduler = createSubscriptionScheduler(pool, { logger, ...namespace })
      // One more than asked says whether older runs exist.
      const asked = Math.min(limit + 1, MAX_LIMIT)
      const unfinished = args.unfinished === true
      const subscription = args.subscription === undefined ? undefined : args.subscription.toLowerCase()
      const found = await inFlagTerms(() => scheduler.listRuns({ limit: asked, trigger, before, unfinished, subscriptionId: subscription }))
      const runs = found.slice(0, limit)
      const more = found.length > limit || (limit === MAX_LIMIT && runs.length === MAX_LIMIT)
      if (args.json) {
        // olderBefore: the --before that lists the next page back; null when none is older.
        print(JSON.stringify({ runs, olderBefore: more ? runs.at(-1)!.runId : null }, null, 2))
        return
      }
      print(formatRunList(runs, { limit, trigger, before, unfinished, subscription }, more))
    })
  },
})
