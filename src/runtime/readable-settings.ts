/**
 * Published settings as this version can read them. Every version of the scheduler on a database
 * reads what the scheduling instances published, and in a rolling deploy those may be of a newer
 * version, with a cadence field or a value this one does not know. What it cannot read is left
 * out, and said, rather than stopping every process that reads the settings (the CLI's commands,
 * a CLI worker joining the fleet) with a configuration error about options it was never given.
 */
import { ConfigurationError } from '../errors.js'
import type { Logger } from '../observe/logger.js'
import { validateFrequencyRule } from '../schedule/frequency-rules.js'
import type { FrequencyRule } from '../schedule/frequency-rules.js'
import type { RetryOptions } from '../config/options.js'

/** The published settings' fields this module checks, as stored (jsonb and text). */
export interface StoredSettings {
  catchUp: unknown
  frequencies: Record<string, unknown> | null
  retry: unknown
  unknownFrequency: unknown
}

export interface ReadableSettings {
  catchUp: 'latest' | 'all'
  frequencies: Record<string, FrequencyRule>
  retry: Required<RetryOptions> | null
  unknownFrequency: 'daily' | 'fail' | null
  /** What was left out, each with why: empty when everything was read. */
  unreadable: string[]
}

const isCount = (value: unknown, min: number) => typeof value === 'number' && Number.isFinite(value) && value >= min

function readableRetry(value: unknown): Required<RetryOptions> | null | undefined {
  if (value === null || value === undefined) return null
  const retry = value as Partial<Record<keyof RetryOptions, unknown>>
  if (typeof value !== 'object' || !isCount(retry.limit, 0) || !isCount(retry.delaySeconds, 0) || !isCount(retry.maxDelaySeconds, 0)) return undefined
  return { limit: retry.limit as number, delaySeconds: retry.delaySeconds as number, maxDelaySeconds: retry.maxDelaySeconds as number }
}

export function readableSettings(stored: StoredSettings): ReadableSettings {
  const unreadable: string[] = []
  const frequencies: Record<string, FrequencyRule> = {}
  for (const [name, rule] of Object.entries(stored.frequencies ?? {})) {
    try {
      frequencies[name] = validateFrequencyRule(rule, `frequencies[${JSON.stringify(name)}]`)
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error
      unreadable.push(`the cadence '${name}' (${error.message.replace(/^Invalid option `[^`]*`: /, '')})`)
    }
  }
  const catchUp = stored.catchUp === 'latest' || stored.catchUp === 'all' ? stored.catchUp : null
  if (catchUp === null) unreadable.push(`catchUp ${JSON.stringify(stored.catchUp)} (this version has 'latest' and 'all'; it follows 'latest')`)
  const unknownFrequency = stored.unknownFrequency === 'daily' || stored.unknownFrequency === 'fail' || stored.unknownFrequency === null ? stored.unknownFrequency : null
  if (unknownFrequency === null && stored.unknownFrequency !== null && stored.unknownFrequency !== undefined) {
    unreadable.push(`unknownFrequency ${JSON.stringify(stored.unknownFrequency)} (this version has 'daily' and 'fail')`)
  }
  const retry = readableRetry(stored.retry)
  if (retry === undefined) unreadable.push(`the retry policy ${JSON.stringify(stored.retry)}`)
  return { catchUp: catchUp ?? 'latest', frequencies, retry: retry ?? null, unknownFrequency, unreadable }
}

/** Says, once per read, what of the published settings this process goes on without. */
export function warnUnreadable(unreadable: readonly string[], logger: Logger): void {
  if (unreadable.length === 0) return
  logger.warn(
    `The schedule settings published on this database hold what this version cannot read, written by another version (a newer one, in a rolling deploy?): ${unreadable.join('; ')}. ` +
      'This process goes on without them (a cadence left out is an unknown frequency here); upgrade it to follow them.',
  )
}
