/**
 * Published settings as this version can read them. Every version of the scheduler on a database
 * reads what the scheduling instances published, and in a rolling deploy those may be of a newer
 * version, with a cadence field or a value this one does not know. What it cannot read is left
 * out, and said, rather than stopping every process that reads the settings (the CLI's commands,
 * a CLI worker joining the fleet) with a configuration error about options it was never given.
 */
import { ConfigurationError } from '../errors.js'
import { configurationReason } from '../error-text.js'
import type { Logger } from '../observe/logger.js'
import { validateFrequencyRule } from '../schedule/frequency-rules.js'
import { isRunAt, isValidTimeZone } from '../schedule/local-time.js'
import type { FrequencyRule } from '../schedule/frequency-rules.js'
import { DEFAULTS } from '../config/options.js'
import type { RetryOptions } from '../config/options.js'

/** The published settings' fields this module checks, as stored (jsonb and text). */
export interface StoredSettings {
  timezone: unknown
  runAt: unknown
  catchUp: unknown
  catchUpWindowDays: unknown
  frequencies: Record<string, unknown> | null
  retry: unknown
  unknownFrequency: unknown
  autoEnroll: unknown
  pauseAfterFailures: unknown
}

/**
 * The schedule defaults a scheduler's processes share (shared-settings.ts publishes them), as a
 * reader of this version holds them.
 */
export interface SharedSettings {
  /** Null when this version cannot read the zone published (one only a newer ICU knows, say). */
  timezone: string | null
  runAt: string | null
  catchUp: 'latest' | 'all'
  /**
   * How far back `catchUp: 'all'` replays, in days; null for no limit. Undefined where an instance
   * published before migration 0018 (its processes replayed every missed slot).
   */
  catchUpWindowDays: number | null | undefined
  /** The resolved cadence table: the built-ins and the host's `frequencies`. */
  frequencies: Record<string, FrequencyRule>
  /** The resolved retry policy; null where an instance published before migration 0008. */
  retry: Required<RetryOptions> | null
  /** Null where an instance published before migration 0010. */
  unknownFrequency: 'daily' | 'fail' | null
  /** Whether sweeps enrol host subscriptions with no row; null where an instance published before migration 0013. */
  autoEnroll: boolean | null
  /** `pauseAfterConsecutiveFailures`: 0 when never; null where an instance published before migration 0014. */
  pauseAfterConsecutiveFailures: number | null
  /**
   * True when a version before migration 0019 published last, after a newer one: the settings
   * added since 0013 (`autoEnroll`, `pauseAfterConsecutiveFailures`, `catchUpWindowDays`) are then
   * read as never published, as that version's own may differ from what it left in their columns.
   */
  olderWriter?: boolean | undefined
  /** What this version could not read of what was published, each with why; empty (or absent, for its own) when all was read. */
  unreadable?: string[] | undefined
}

const isCount = (value: unknown, min: number) => typeof value === 'number' && Number.isFinite(value) && value >= min

function readableRetry(value: unknown): Required<RetryOptions> | null | undefined {
  if (value === null || value === undefined) return null
  const retry = value as Partial<Record<keyof RetryOptions, unknown>>
  if (typeof value !== 'object' || !isCount(retry.limit, 0) || !isCount(retry.delaySeconds, 0) || !isCount(retry.maxDelaySeconds, 0)) return undefined
  // Published before the failed-slot delay was (its keys absent): the defaults.
  const failedSlot = (key: 'failedSlotDelaySeconds' | 'failedSlotMaxDelaySeconds') => (isCount(retry[key], 0) ? (retry[key] as number) : DEFAULTS.retry[key])
  return {
    limit: retry.limit as number,
    delaySeconds: retry.delaySeconds as number,
    maxDelaySeconds: retry.maxDelaySeconds as number,
    failedSlotDelaySeconds: failedSlot('failedSlotDelaySeconds'),
    failedSlotMaxDelaySeconds: failedSlot('failedSlotMaxDelaySeconds'),
  }
}

export function readableSettings(stored: StoredSettings): SharedSettings & { unreadable: string[] } {
  const unreadable: string[] = []
  const timezone = typeof stored.timezone === 'string' && isValidTimeZone(stored.timezone) ? stored.timezone : null
  if (timezone === null) unreadable.push(`the zone ${JSON.stringify(stored.timezone)} (unknown to this Node's time zone data; the zone given here, or UTC, is used)`)
  const runAt = isRunAt(stored.runAt) ? stored.runAt : null
  if (runAt === null) unreadable.push(`runAt ${JSON.stringify(stored.runAt)} (the time of day given here, or 09:00, is used)`)
  const frequencies: Record<string, FrequencyRule> = {}
  for (const [name, rule] of Object.entries(stored.frequencies ?? {})) {
    try {
      frequencies[name] = validateFrequencyRule(rule, `frequencies[${JSON.stringify(name)}]`)
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error
      unreadable.push(`the cadence '${name}' (${configurationReason(error)})`)
    }
  }
  const catchUp = stored.catchUp === 'latest' || stored.catchUp === 'all' ? stored.catchUp : null
  if (catchUp === null) unreadable.push(`catchUp ${JSON.stringify(stored.catchUp)} (this version has 'latest' and 'all'; it follows 'latest')`)
  const unknownFrequency = stored.unknownFrequency === 'daily' || stored.unknownFrequency === 'fail' || stored.unknownFrequency === null ? stored.unknownFrequency : null
  if (unknownFrequency === null && stored.unknownFrequency !== null && stored.unknownFrequency !== undefined) {
    unreadable.push(`unknownFrequency ${JSON.stringify(stored.unknownFrequency)} (this version has 'daily' and 'fail')`)
  }
  const retry = readableRetry(stored.retry)
  if (retry === undefined) unreadable.push(`the retry policy ${JSON.stringify(stored.retry)} (the policy given here, or the default, is used)`)
  // A boolean column: anything else is a row published before it existed.
  const autoEnroll = typeof stored.autoEnroll === 'boolean' ? stored.autoEnroll : null
  // An integer column: anything but a count from 0 is a row published before it existed.
  const pauseAfter = stored.pauseAfterFailures
  const pauseAfterConsecutiveFailures = typeof pauseAfter === 'number' && Number.isInteger(pauseAfter) && pauseAfter >= 0 ? pauseAfter : null
  // A column of numbers: anything but a positive one is no window, or a row published before it existed.
  const days = stored.catchUpWindowDays
  const catchUpWindowDays = days === undefined ? undefined : typeof days === 'number' && Number.isFinite(days) && days > 0 ? days : null
  return { timezone, runAt, catchUp: catchUp ?? 'latest', catchUpWindowDays, frequencies, retry: retry ?? null, unknownFrequency, autoEnroll, pauseAfterConsecutiveFailures, unreadable }
}

/** What was said already: a command reads the settings more than once, and says it once. */
const said = new WeakMap<Logger, Set<string>>()

/**
 * Says what of the published settings this process goes on without, once per logger and text;
 * `replacing`: it publishes its own over them (a scheduling instance), so they are gone until an
 * instance of the version that wrote them starts again.
 */
export function warnUnreadable(unreadable: readonly string[], logger: Logger, replacing = false): void {
  if (unreadable.length === 0) return
  const text =
    `The schedule settings published on this database hold what this version cannot read, written by another version (a newer one, in a rolling deploy?): ${unreadable.join('; ')}. ` +
    (replacing
      ? 'This instance publishes its own settings over them: the CLI follows these until an instance of that version starts again; upgrade this one to keep them.'
      : 'This process goes on without them (a cadence left out is an unknown frequency here); upgrade it to follow them.')
  warnOnce(logger, text)
}

/** Says that an older version published the settings last, after a newer one (`olderWriter`): once per logger. */
export function warnOlderWriter(published: SharedSettings, logger: Logger): void {
  if (!published.olderWriter) return
  warnOnce(
    logger,
    'The schedule settings on this database were published last by an older version of the scheduler (before migration 0019), after a newer one: ' +
      'their autoEnroll, pauseAfterConsecutiveFailures and catchUpWindowDays may be the newer one\'s, so this process follows its own options (or the defaults) for those. ' +
      'They are followed again once an instance of this version (or newer) publishes.',
  )
}

function warnOnce(logger: Logger, text: string): void {
  const texts = said.get(logger) ?? new Set<string>()
  said.set(logger, texts)
  if (texts.has(text)) return
  texts.add(text)
  logger.warn(text)
}
