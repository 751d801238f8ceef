/**
 * `show <id>`: one subscription as an operator looking into it needs it: its status and schedule,
 * its last run and error, its recent failed attempts and its history (skips, pauses, reschedules,
 * backfills), in its zone; `getSubscription()` from a shell. Reads only: needs no worker and
 * starts nothing.
 */
import { defineCommand } from 'citty'
import type { SubscriptionDetails } from '../../index.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, integerFlag, withPool } from '../context.js'
import { controlScheduler, inFlagTerms, scheduleLines, subscriptionIdArg, subscriptionIdOf, zoneOf } from '../control.js'
import type { CliSchedulerOptions } from '../published-settings.js'
import { instantsInZone, timeInZone } from '../zoned-time.js'
import { cadenceNames, isCadence } from '../../schedule/unknown-frequency.js'
import { print } from '../print.js'
import { oneLine } from '../../printable.js'

const PAUSED_BECAUSE = {
  manual: 'paused by an operator (pause())',
  failures: 'paused after failing in a row (pauseAfterConsecutiveFailures): retry-failed <id> retries its failed slot now, resume <id> leaves it failed, that slot due for the next sweep (or retry-failed) to retry, reschedule <id> gives that slot up and it stays paused until resumed',
} as const

/** The last run, its outcome, and why it is paused, under the schedule's lines. */
function stateLines(details: SubscriptionDetails, at: (date: Date | null) => string): string[] {
  const lines = [`  last success ${details.lastRunAt ? at(details.lastRunAt) : 'never'}`]
  if (details.scheduledFor) lines.push(`  last slot    ${at(details.scheduledFor)}`)
  if (details.pausedReason) lines.push(`  paused       ${PAUSED_BECAUSE[details.pausedReason]}`)
  if (details.consecutiveFailures > 0) lines.push(`  failed       ${details.consecutiveFailures} run${details.consecutiveFailures === 1 ? '' : 's'} in a row`)
  if (details.retryAt && details.status === 'failed') lines.push(`  retried      by the first sweep after ${at(details.retryAt)} (its delay after failing; retry-failed ${details.subscriptionId} retries it now)`)
  else if (details.retryAt) lines.push(`  retried      at ${at(details.retryAt)} (attempt ${details.attempts + 1}, after its backoff or the worker's Retry-After)`)
  if (details.error) lines.push(`  last error   ${oneLine(details.error)}`)
  return lines
}

/** The failed attempts and the history, newest first, the instants a history line names in zone too; nothing for an empty list. */
function listLines(details: SubscriptionDetails, at: (date: Date | null) => string, zone: string): string[] {
  const lines: string[] = []
  if (details.recentErrors.length > 0) {
    lines.push('Recent failed attempts, newest first:')
    for (const f of details.recentErrors) {
      const answer = f.status === null ? '' : ` (HTTP ${f.status})`
      lines.push(`  ${at(f.failedAt)}  slot ${at(f.scheduledFor)}, attempt ${f.attempt}${f.final ? ', final' : ''}${answer}: ${oneLine(f.error)}`)
    }
  }
  if (details.history.length > 0) {
    lines.push('History, newest first:')
    for (const h of details.history) {
      lines.push(`  ${at(h.at)}  ${h.kind}${h.slot ? ` ${at(h.slot)}` : ''}${h.detail ? `: ${instantsInZone(h.detail, zone)}` : ''}`)
      // The caller's own words, quoted as given (JSON escapes a line break or a control character).
      if (h.note) lines.push(`    note: ${JSON.stringify(h.note)}`)
    }
  }
  return lines
}

/**
 * A frequency that names no cadence of those the workers published, and what that means for the
 * row: run daily, or not called (`unknownFrequency`). Nothing when none has published: the host's
 * own cadences are not known here then.
 */
function frequencyLines(details: SubscriptionDetails, published: CliSchedulerOptions['published']): string[] {
  if (!published || isCadence(details.frequency, published.frequencies)) return []
  const what = details.frequency === null ? 'no frequency' : `${JSON.stringify(details.frequency)} is no cadence`
  const then = published.unknownFrequency === 'fail' ? "it is not called (unknownFrequency 'fail')" : 'it runs daily, with a warning'
  return [`  frequency    ${what}: ${then}; set subscriptions.frequency to one of ${cadenceNames(published.frequencies)}`]
}

/** Every line `show` prints for a subscription, its instants in its own zone (or the scheduler's). */
function showLines(details: SubscriptionDetails, scheduler: Pick<CliSchedulerOptions, 'zone' | 'published'>): string[] {
  const { zone } = zoneOf(details, scheduler.zone)
  const at = (date: Date | null) => timeInZone(date, zone)
  const host = `${details.frequency === null ? 'no frequency' : oneLine(details.frequency)}, user ${details.userId === null ? 'none' : oneLine(details.userId)}${details.active ? '' : ', inactive in subscriptions'}`
  return [
    `Subscription ${details.subscriptionId} (${host})`,
    ...frequencyLines(details, scheduler.published),
    ...scheduleLines(details, scheduler),
    ...stateLines(details, at),
    ...listLines(details, at, zone),
  ]
}

export default defineCommand({
  meta: { name: 'show', description: 'One subscription: its status, schedule, last run and error, recent failed attempts and history' },
  args: {
    ...subscriptionIdArg,
    errors: { type: 'string', description: 'How many recent failed attempts to list, 0 to 1000 (default 5)', valueHint: 'n' },
    history: { type: 'string', description: 'How many history entries to list, newest first, 0 to 1000 (default 20)', valueHint: 'n' },
    json: { type: 'boolean', description: "Print getSubscription()'s answer as JSON" },
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const id = subscriptionIdOf(args, 'show')
    const errors = integerFlag('errors', args.errors, 0) ?? 5
    const history = integerFlag('history', args.history, 0) ?? 20
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { scheduler, ...settings } = await controlScheduler(pool, logger)
      const details = await inFlagTerms(() => scheduler.getSubscription(id, { errors, history }))
      print(args.json ? JSON.stringify(details, null, 2) : showLines(details, settings).join('\n'))
    })
  },
})
