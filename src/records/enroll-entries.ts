/**
 * What `enrollMany()` is given, checked before anything is written: an array of entries, each a
 * subscription id with its own settings, every one valid, none given twice, and every id a row
 * of `subscriptions`. A bad entry is named by its index, so that a file of 100,000 can be fixed.
 */
import type { Executor, HostDb } from '../db/executor.js'
import { ConfigurationError, NotFoundError } from '../errors.js'
import { configurationReason, shown } from '../error-text.js'
import { assertUuid } from './enroll.js'
import { applySettings, checkSettings, checkWindow } from './schedule-settings.js'
import type { ScheduleSettings } from './schedule-settings.js'
import { checkNextRunAt, outsideWindow } from './given-first-slot.js'

/** One subscription to enrol, with its own settings (as `enroll(subscriptionId, settings)` takes them). */
export interface EnrollEntry extends ScheduleSettings {
  subscriptionId: string
  /** Its first slot, moved from another scheduler: as `enroll()`'s `nextRunAt`. */
  nextRunAt?: Date | undefined
}

export interface EnrollManyOptions {
  /**
   * Run inside the host's transaction: a `pg` client in a transaction, or a Drizzle transaction;
   * every entry then commits (or rolls back) with it.
   */
  db?: HostDb | undefined
}

/** An entry checked: its id as PostgreSQL spells it (lower case), and its settings. */
export interface CheckedEntry {
  index: number
  subscriptionId: string
  settings: ScheduleSettings
  nextRunAt?: Date | undefined
}

/** Ids named in one query; the unknown ones are found a slice at a time. */
const ID_SLICE = 10_000
/** Ids an error lists before saying how many more. */
export const LISTED = 10

/** `items`, the first LISTED of them, then how many more. */
export function listed(items: readonly string[]): string {
  const more = items.length - LISTED
  return items.slice(0, LISTED).join(', ') + (more > 0 ? ` and ${more} more` : '')
}

/** The error of one setting of an entry, renamed after the entry: `entries[3].timezone`. */
function inEntry(index: number, error: unknown): unknown {
  if (!(error instanceof ConfigurationError)) return error
  return new ConfigurationError(`entries[${index}].${error.option}`, configurationReason(error))
}

function checkEntry(entry: unknown, index: number): CheckedEntry {
  const name = `entries[${index}]`
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new ConfigurationError(name, `expected an object such as { subscriptionId: '3f2b…', timezone: 'Europe/Berlin', runAt: '07:00' }, got ${shown(entry)}.`)
  }
  const { subscriptionId, nextRunAt: firstSlot, ...rest } = entry as Record<string, unknown>
  assertUuid(`${name}.subscriptionId`, subscriptionId)
  try {
    const settings = checkSettings(rest, ['nextRunAt'])
    const nextRunAt = checkNextRunAt(firstSlot)
    // A new row's window is the one given; a row enrolled already is checked against its own.
    const window = applySettings({ subscription_id: subscriptionId, frequency: null, timezone: null, run_at: null, anchor_at: null, starts_at: null, ends_at: null }, settings)
    checkWindow(window)
    const outside = nextRunAt === undefined ? null : outsideWindow(subscriptionId, window, nextRunAt)
    if (outside) throw outside
    return { index, subscriptionId: subscriptionId.toLowerCase(), settings, ...(nextRunAt ? { nextRunAt } : {}) }
  } catch (error) {
    throw inEntry(index, error)
  }
}

/**
 * The bad entries' errors as one: the first's option, and each of the first LISTED said (a table
 * of real users holds several kinds of bad value, and one round of fixes should see them all).
 */
function allRefused(errors: readonly ConfigurationError[]): ConfigurationError {
  const [first, ...others] = errors
  const more = errors.length - LISTED
  const also = others.slice(0, LISTED - 1).map((e) => `${e.option}: ${configurationReason(e)}`)
  const tail = also.length === 0 ? '' : ` Also ${also.join(' ')}${more > 0 ? ` And ${more} more bad entries.` : ''} Nothing was enrolled.`
  return new ConfigurationError(first!.option, `${configurationReason(first!)}${tail}`)
}

/**
 * The entries, checked.
 *
 * @throws {ConfigurationError} naming the first bad entry (`entries[3].runAt`) and saying the next
 * nine (an id given twice is one), with how many more.
 */
export function checkEntries(given: unknown): CheckedEntry[] {
  if (!Array.isArray(given)) {
    throw new ConfigurationError('entries', `expected an array of { subscriptionId, ...settings } (settings as enroll() takes them), got ${shown(given)}.`)
  }
  const seen = new Map<string, number>()
  const checked: CheckedEntry[] = []
  const refused: ConfigurationError[] = []
  for (const [index, entry] of (given as unknown[]).entries()) {
    try {
      const one = checkEntry(entry, index)
      const first = seen.get(one.subscriptionId)
      if (first !== undefined) {
        throw new ConfigurationError(`entries[${index}].subscriptionId`, `${one.subscriptionId} is entries[${first}] too; give each subscription once, with all its settings.`)
      }
      seen.set(one.subscriptionId, index)
      checked.push(one)
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error
      refused.push(error)
    }
  }
  if (refused.length > 0) throw allRefused(refused)
  return checked
}

/** @throws {ConfigurationError} when `given` is not an object, or has a key other than `db`. */
export function checkManyOptions(given: unknown): EnrollManyOptions {
  if (given === undefined) return {}
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigurationError('options', `expected an object such as { db: tx }, or nothing, got ${shown(given)}.`)
  }
  for (const key of Object.keys(given)) {
    if (key !== 'db') throw new ConfigurationError(key, "unknown option of enrollMany(); it takes { db } (the host's transaction). Settings go in each entry.")
  }
  return given as EnrollManyOptions
}

/**
 * @throws {NotFoundError} when some entries name no row of `subscriptions`: all of them are
 * listed (the first 10, then how many), and nothing is enrolled.
 */
export async function assertKnown(db: Executor, entries: readonly CheckedEntry[]): Promise<void> {
  const unknown: string[] = []
  for (let from = 0; from < entries.length; from += ID_SLICE) {
    const ids = entries.slice(from, from + ID_SLICE).map((entry) => entry.subscriptionId)
    const { rows } = await db.query<{ id: string }>(
      `SELECT v.id FROM unnest($1::uuid[]) WITH ORDINALITY AS v(id, n) WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = v.id) ORDER BY v.n`,
      [ids],
    )
    unknown.push(...rows.map((row) => row.id))
  }
  if (unknown.length === 0) return
  const what = unknown.length === 1 ? 'entry names' : 'entries name'
  throw new NotFoundError(
    `${unknown.length} ${what} no row in subscriptions: ${listed(unknown)}. Create those subscriptions first, or leave them out; nothing was enrolled.`,
    { subscriptionId: unknown[0] },
  )
}
