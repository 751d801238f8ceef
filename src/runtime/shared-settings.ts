/**
 * The schedule defaults a scheduler's processes share: its zone, time of day, cadence names and
 * catch-up (and its window), the retry policy, `unknownFrequency` and `pauseAfterConsecutiveFailures` its calls
 * follow, and whether its sweeps enrol host subscriptions (`autoEnroll`). Only the processes that
 * register the schedule (`schedule: true`) publish them; the others (the CLI, an admin server
 * started with `schedule: false`) read them, so that a preview, a skip or a reschedule made there computes the
 * slots the workers will run, and the calls a CLI process makes are retried as the workers retry
 * theirs. A process whose own options disagree says so, as a replaced cron schedule does.
 */
import type { ResolvedOptions, SchedulerOptions } from '../config/options.js'
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import type { FrequencyRule } from '../schedule/frequency-rules.js'
import type { Logger } from '../observe/logger.js'
import { RETRY_KEYS } from '../config/retry-options.js'
import { readableSettings, warnOlderWriter, warnUnreadable } from './readable-settings.js'
import type { CallLimits } from '../process/global-limits.js'
import { limitsInForce } from '../records/call-limits.js'
import type { SharedSettings } from './readable-settings.js'

export type { SharedSettings } from './readable-settings.js'

type Settled = Pick<ResolvedOptions, 'queuePrefix' | 'timezone' | 'runAt' | 'catchUp' | 'catchUpWindowDays' | 'frequencies' | 'retry' | 'unknownFrequency' | 'autoEnroll' | 'pauseAfterConsecutiveFailures'>

export function settingsOf(options: Settled): SharedSettings {
  const { timezone, runAt, catchUp, catchUpWindowDays, unknownFrequency, autoEnroll } = options
  const pauseAfterConsecutiveFailures = options.pauseAfterConsecutiveFailures ?? 0
  return { timezone, runAt, catchUp, catchUpWindowDays, frequencies: { ...options.frequencies }, retry: { ...options.retry }, unknownFrequency, autoEnroll, pauseAfterConsecutiveFailures }
}

/** A settings row as stored; a database an older version migrated lacks the newer columns (undefined). */
interface StoredRow {
  timezone: string
  run_at: string
  catch_up: unknown
  frequencies: Record<string, unknown> | null
  retry: unknown
  unknown_frequency: unknown
  auto_enroll: unknown
  pause_after_failures: unknown
  catch_up_window_days: unknown
  whole_at: Date | null | undefined
  updated_at: Date
}

/** The settings of the scheduler on `scope` (its queue prefix), or null before any was published. */
export async function readSharedSettings(db: Executor, scope: string): Promise<SharedSettings | null> {
  // Every column there is.
  const { rows } = await db.query<StoredRow>(`SELECT * FROM ${TABLES.settings} WHERE scope = $1`, [scope])
  const row = rows[0]
  if (!row) return null
  // Another version may have published them: what this one cannot read is left out, and listed.
  const read = readableSettings({ timezone: row.timezone, runAt: row.run_at, catchUp: row.catch_up, catchUpWindowDays: row.catch_up_window_days, frequencies: row.frequencies, retry: row.retry, unknownFrequency: row.unknown_frequency, autoEnroll: row.auto_enroll, pauseAfterFailures: row.pause_after_failures })
  // Published last by a version before migration 0019, after a newer one: the columns added since
  // 0013 may hold what the newer one wrote, not what the fleet runs. Read as never published.
  if (row.whole_at instanceof Date && row.updated_at > row.whole_at) return { ...read, autoEnroll: null, pauseAfterConsecutiveFailures: null, catchUpWindowDays: undefined, olderWriter: true }
  return read
}

/**
 * Fills in the call limits `options` leaves unset with those the fleet's calls are held to
 * (records/call-limits.ts): a CLI process's calls are held to the fleet's limits.
 */
export async function followFleetLimits(db: Executor, options: SchedulerOptions, scope: string): Promise<CallLimits> {
  const limits = await limitsInForce(db, scope)
  options.maxConcurrentCalls ??= limits.maxConcurrentCalls ?? undefined
  options.maxCallsPerSecond ??= limits.maxCallsPerSecond ?? undefined
  return limits
}

/**
 * Fills in `options` what it leaves unset with the published settings: what a process that does
 * not publish (a CLI command, a CLI worker joining a fleet) follows, so that it computes the
 * workers' slots and treats their calls as they do.
 */
export function followPublished(options: SchedulerOptions, published: SharedSettings, logger: Logger): void {
  warnUnreadable(published.unreadable ?? [], logger)
  warnOlderWriter(published, logger)
  options.timezone ??= published.timezone ?? undefined
  options.runAt ??= published.runAt ?? undefined
  options.catchUp ??= published.catchUp
  // Only with the catch-up it limits: a process told 'latest' has no window to follow.
  if (options.catchUp === 'all') options.catchUpWindowDays ??= published.catchUpWindowDays ?? undefined
  options.frequencies ??= published.frequencies
  options.retry ??= published.retry ?? undefined
  options.unknownFrequency ??= published.unknownFrequency ?? undefined
  options.autoEnroll ??= published.autoEnroll ?? undefined
  // 0: the workers never pause a failing subscription, as an unset option does not.
  options.pauseAfterConsecutiveFailures ??= published.pauseAfterConsecutiveFailures || undefined
}

/** `pauseAfterConsecutiveFailures` as said: `never` for 0. */
const pauseAfterText = (count: number) => (count === 0 ? 'never' : String(count))

/** `catchUpWindowDays` as said: `none` for no limit. */
const windowText = (days: number | null) => (days === null ? 'none' : String(days))

/** A rule as text, its fields in one order: jsonb hands them back in an order of its own. */
function ruleText(rule: FrequencyRule | undefined): string {
  return rule === undefined ? 'none' : JSON.stringify(rule, Object.keys(rule).sort())
}


/** What differs between two sets of settings, as `name 'a' → 'b'` phrases. */
export function settingsDrift(from: SharedSettings, to: SharedSettings): string[] {
  const drift: string[] = []
  for (const key of ['timezone', 'runAt', 'catchUp'] as const) {
    // One this version could not read (null) is named as such where it was read.
    if (from[key] !== null && to[key] !== null && from[key] !== to[key]) drift.push(`${key} '${from[key]}' → '${to[key]}'`)
  }
  // A row published before migration 0018 (undefined) differs from no one's.
  if (from.catchUpWindowDays !== undefined && to.catchUpWindowDays !== undefined && from.catchUpWindowDays !== to.catchUpWindowDays) {
    drift.push(`catchUpWindowDays ${windowText(from.catchUpWindowDays)} → ${windowText(to.catchUpWindowDays)}`)
  }
  const names = [...new Set([...Object.keys(from.frequencies), ...Object.keys(to.frequencies)])].sort()
  const changed = names.filter((name) => ruleText(from.frequencies[name]) !== ruleText(to.frequencies[name]))
  if (changed.length > 0) drift.push(`frequencies (${changed.join(', ')})`)
  // A row published before the retry policy was (null) differs from no one's.
  for (const key of RETRY_KEYS) if (from.retry && to.retry && from.retry[key] !== to.retry[key]) drift.push(`retry.${key} ${from.retry[key]} → ${to.retry[key]}`)
  if (from.unknownFrequency && to.unknownFrequency && from.unknownFrequency !== to.unknownFrequency) {
    drift.push(`unknownFrequency '${from.unknownFrequency}' → '${to.unknownFrequency}'`)
  }
  if (from.autoEnroll !== null && to.autoEnroll !== null && from.autoEnroll !== to.autoEnroll) drift.push(`autoEnroll ${from.autoEnroll} → ${to.autoEnroll}`)
  const [pauseFrom, pauseTo] = [from.pauseAfterConsecutiveFailures, to.pauseAfterConsecutiveFailures]
  if (pauseFrom !== null && pauseTo !== null && pauseFrom !== pauseTo) drift.push(`pauseAfterConsecutiveFailures ${pauseAfterText(pauseFrom)} → ${pauseAfterText(pauseTo)}`)
  return drift
}

/**
 * Publishes this process's settings when it owns the schedule, or compares them with the
 * published ones when it does not; either way a difference is logged, naming each setting.
 * Resolves with the settings in force after it (null when none are published), from which the
 * settings watch starts.
 */
export async function shareSettings(db: Executor, options: Settled & Pick<ResolvedOptions, 'schedule' | 'logger'>): Promise<SharedSettings | null> {
  const mine = settingsOf(options)
  const published = await readSharedSettings(db, options.queuePrefix)
  warnUnreadable(published?.unreadable ?? [], options.logger, options.schedule)
  const drift = published ? settingsDrift(published, mine) : []
  if (!options.schedule) {
    if (drift.length > 0) {
      options.logger.warn(
        `This instance's schedule settings differ from those the scheduling instances published: ${drift.join(', ')} ` +
          '(published → this instance). The next slot of each subscription it calls, the slots it computes for controls and previews, and the retries of its calls follow its own options, not those: start it with the same options.',
      )
    }
    return published
  }
  if (drift.length > 0) {
    options.logger.warn(`Replacing the published schedule settings: ${drift.join(', ')}, from this instance's options. The CLI now follows them; instances started with \`schedule: false\` keep their own options, and warn if those differ.`)
  }
  await db.query(
    `INSERT INTO ${TABLES.settings} (scope, timezone, run_at, catch_up, frequencies, retry, unknown_frequency, auto_enroll, pause_after_failures, catch_up_window_days, whole_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now(), now())
     ON CONFLICT (scope) DO UPDATE SET timezone = EXCLUDED.timezone, run_at = EXCLUDED.run_at, catch_up = EXCLUDED.catch_up,
       frequencies = EXCLUDED.frequencies, retry = EXCLUDED.retry, unknown_frequency = EXCLUDED.unknown_frequency,
       auto_enroll = EXCLUDED.auto_enroll, pause_after_failures = EXCLUDED.pause_after_failures,
       catch_up_window_days = EXCLUDED.catch_up_window_days, whole_at = EXCLUDED.updated_at, updated_at = EXCLUDED.updated_at`,
    [options.queuePrefix, mine.timezone, mine.runAt, mine.catchUp, JSON.stringify(mine.frequencies), JSON.stringify(mine.retry), mine.unknownFrequency, mine.autoEnroll, mine.pauseAfterConsecutiveFailures, mine.catchUpWindowDays],
  )
  return mine
}
