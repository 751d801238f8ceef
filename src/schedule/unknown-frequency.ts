/**
 * A subscription whose `frequency` names no cadence: null, a typo (`'montly'`), or a name the
 * `frequencies` option lacks. With `unknownFrequency: 'daily'` it runs daily, with a warning
 * (row-schedule.ts); with `'fail'` nothing calls it, and this is the data error its slot fails
 * with: its call, its backfill and its retries stop here until the host's row or the option names
 * a cadence, since a billing cadence run daily by mistake charges many times over.
 */
import { SubscriptionDataError } from '../errors.js'
import type { FrequencyRule } from './frequency-rules.js'

/** Whether `frequency` names a cadence of `frequencies` (the built-ins and the host's). */
export function isCadence(frequency: string | null, frequencies: Record<string, FrequencyRule>): frequency is string {
  return frequency !== null && Object.hasOwn(frequencies, frequency)
}

/** The cadences a message offers instead: `'daily', 'weekly', …`, the host's own too. */
export function cadenceNames(frequencies: Record<string, FrequencyRule>): string {
  return Object.keys(frequencies).map((name) => `'${name}'`).join(', ')
}

/** What a subscription has, said of a frequency that names no cadence. */
function noCadence(frequency: string | null): string {
  return frequency === null ? 'no frequency' : `frequency ${JSON.stringify(frequency)}, which is no cadence`
}

/**
 * The data error a call (or a backfill) of this subscription is refused with: under
 * `unknownFrequency: 'fail'`, when its frequency is no cadence. Null when it may run.
 */
export function refusedFrequency(
  options: { unknownFrequency: 'daily' | 'fail'; frequencies: Record<string, FrequencyRule> },
  subscriptionId: string,
  frequency: string | null,
): SubscriptionDataError | null {
  if (options.unknownFrequency !== 'fail' || isCadence(frequency, options.frequencies)) return null
  return unknownFrequency(subscriptionId, frequency, options.frequencies)
}

/** The error of a subscription called with `unknownFrequency: 'fail'` whose frequency is no cadence. */
function unknownFrequency(subscriptionId: string, frequency: string | null, frequencies: Record<string, FrequencyRule>): SubscriptionDataError {
  return new SubscriptionDataError(
    `Subscription ${subscriptionId} has ${noCadence(frequency)}; with unknownFrequency 'fail' it is not called. ` +
      `Set subscriptions.frequency to one of ${cadenceNames(frequencies)}, or add the name to the \`frequencies\` option; then retryFailed() ` +
      '(admin API: POST /failed/retry) calls a slot it failed.',
    { subscriptionId, column: 'subscriptions.frequency' },
  )
}

/**
 * What enroll(), enrollMany() and reschedule() say of a row whose frequency names no cadence,
 * when they write its schedule: the next slot they computed is a daily one, and what happens at
 * it. Before, only its first sweep said so: a trial enrolled a 'montly' subscription without a
 * word, and its first run came the next day, off the monthly cadence meant.
 */
export function unknownCadenceWarning(
  options: { unknownFrequency?: 'daily' | 'fail' | undefined; frequencies: Record<string, FrequencyRule> },
  row: { subscription_id: string; frequency: string | null; next_run_at: Date | null },
): string | null {
  if (isCadence(row.frequency, options.frequencies)) return null
  // Under 'fail' the daily slots are placeholders: said so, not as if it ran daily.
  const what = options.unknownFrequency === 'fail'
    ? "with unknownFrequency 'fail' the worker is not called for it: each of its slots (daily placeholders until the frequency names a cadence) fails as a data error"
    : `${row.next_run_at === null ? 'its slots are computed daily' : 'its next slot was computed daily'}, and it runs daily (unknownFrequency 'daily')`
  return (
    `Subscription ${row.subscription_id} has ${noCadence(row.frequency)}: ${what}. ` +
    `Set subscriptions.frequency to one of ${cadenceNames(options.frequencies)} (or add the name to the \`frequencies\` option), then reschedule(id, {}) puts its next slot on that cadence.`
  )
}
