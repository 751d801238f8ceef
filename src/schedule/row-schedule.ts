/**
 * One subscription's schedule, as its row holds it: the host's cadence name, and the row's own
 * zone, time of day, anchor, start and end, each falling back to the scheduler's options. Every
 * place that decides a row's slots (the settle after a call, enroll, reschedule, skip, pause
 * until, the preview, backfill) asks here, so they all agree.
 */
import type { ResolvedOptions } from '../config/options.js'
import { computeNextRunAt } from './next-run.js'
import { upcomingRuns } from './upcoming.js'
import { isRunAt, isValidTimeZone, localDate } from './local-time.js'
import { SubscriptionDataError } from '../errors.js'
import { IANAZone } from 'luxon'
import { limitedLogOf, UNKNOWN_FREQUENCIES } from '../observe/limited-log.js'
import { cadenceNames, isCadence } from './unknown-frequency.js'

/** The columns of a row that decide its slots. */
export interface RowSchedule {
  subscription_id: string
  frequency: string | null
  timezone: string | null
  run_at: string | null
  anchor_at: Date | null
  starts_at: Date | null
  ends_at: Date | null
}

export type ScheduleOptions = Pick<ResolvedOptions, 'timezone' | 'runAt' | 'frequencies' | 'catchUp' | 'logger' | 'clock'> &
  Partial<Pick<ResolvedOptions, 'unknownFrequency' | 'catchUpWindowDays'>>

const MAX_REMEMBERED = 4096
/** Per cadence table: two schedulers in one process may give one name different rules. */
const memos = new WeakMap<object, Map<string, Answer>>()

function warnUnknown(options: ScheduleOptions, row: RowSchedule) {
  return (frequency: string | null | undefined) =>
    limitedLogOf(options, UNKNOWN_FREQUENCIES).warn(
      `Subscription ${row.subscription_id} has unknown frequency ${JSON.stringify(frequency)}; ` +
        (options.unknownFrequency === 'fail' ? "the worker is not called for it (unknownFrequency 'fail'): each of its slots, daily placeholders until it names a cadence, fails as a data error. " : 'scheduling it daily. ') +
        `Use a name it knows (${cadenceNames(options.frequencies)}: matched exactly) or add it to the \`frequencies\` option.`,
    )
}

/**
 * What in the row's own zone or time of day cannot be used (written by hand: a zone that names
 * none, a time as Postgres prints one, '09:30:00'), or null: the row's fault, not the caller's.
 * A trial's `upcoming()` said only "Unknown time zone", as if the caller had passed it. The
 * sweep records it on the row before a call; the controls throw it ({@link rowZone}, {@link rowRunAt}).
 */
export function rowScheduleError(row: Pick<RowSchedule, 'subscription_id' | 'timezone' | 'run_at'>): SubscriptionDataError | null {
  return zoneError(row) ?? runAtError(row)
}

function zoneError(row: Pick<RowSchedule, 'subscription_id' | 'timezone'>): SubscriptionDataError | null {
  if (row.timezone === null || isValidTimeZone(row.timezone)) return null
  return new SubscriptionDataError(
    `Subscription ${row.subscription_id} has time zone ${JSON.stringify(row.timezone)}, which is not an IANA zone; set it with reschedule(id, { timezone: 'Europe/Berlin' }), ` +
      "or set subscription_processing.timezone to a zone name such as 'Europe/Berlin', or to NULL for the scheduler's timezone.",
    { subscriptionId: row.subscription_id, column: 'subscription_processing.timezone' },
  )
}

function runAtError(row: Pick<RowSchedule, 'subscription_id' | 'run_at'>): SubscriptionDataError | null {
  if (row.run_at === null || isRunAt(row.run_at)) return null
  return new SubscriptionDataError(
    `Subscription ${row.subscription_id} has run_at ${JSON.stringify(row.run_at)}, which is not a time of day; set it with reschedule(id, { runAt: 'HH:MM' }), ` +
      "or set subscription_processing.run_at to 'HH:MM' (e.g. '07:30'), or to NULL for the scheduler's runAt.",
    { subscriptionId: row.subscription_id, column: 'subscription_processing.run_at' },
  )
}

/**
 * The row's time of day, else the scheduler's.
 * @throws {SubscriptionDataError} naming the column and the fix ({@link rowScheduleError}).
 */
export function rowRunAt(options: Pick<ResolvedOptions, 'runAt'>, row: Pick<RowSchedule, 'subscription_id' | 'run_at'>): string {
  if (row.run_at === null) return options.runAt
  const error = runAtError(row)
  if (error) throw error
  return row.run_at
}

/**
 * The row's zone, else the scheduler's.
 * @throws {SubscriptionDataError} naming the column and the fix ({@link rowScheduleError}).
 */
export function rowZone(options: Pick<ResolvedOptions, 'timezone'>, row: Pick<RowSchedule, 'subscription_id' | 'timezone'>): string {
  if (row.timezone === null) return options.timezone
  const error = zoneError(row)
  if (error) throw error
  return row.timezone
}

/** The input of the pure slot functions for this row; an unknown cadence is reported only when `warn`. */
function inputOf(options: ScheduleOptions, row: RowSchedule, anchor: Date, warn: boolean) {
  return {
    frequency: row.frequency,
    frequencies: options.frequencies,
    timezone: rowZone(options, row),
    runAt: rowRunAt(options, row),
    anchor: row.anchor_at ?? anchor,
    onUnknownFrequency: warn ? warnUnknown(options, row) : () => {},
  }
}

/**
 * The first slot strictly after `after` (and after now, unless `catchUp`), none before the row's
 * start: null when it would fall after the row's end. A row with no anchor takes its phase from
 * its start when that is still ahead (weekly from a Thursday runs on Thursdays), else from
 * `after`. An unknown cadence runs daily; `warn` says so in the log.
 */
export function slotAfter(options: ScheduleOptions, row: RowSchedule, after: Date, catchUp = false, warn = false): Date | null {
  const starts = row.starts_at && row.starts_at.getTime() - 1 > after.getTime() ? row.starts_at : null
  const threshold = starts ? new Date(starts.getTime() - 1) : after
  const input = inputOf(options, row, starts ?? after, warn)
  const slot = computeNextRunAt({ ...input, after: threshold, now: catchUp ? threshold : options.clock.now() })
  return row.ends_at && slot > row.ends_at ? null : slot
}

/** A remembered answer: computed at clock reading `from`, it holds until the clock reaches `next`. */
interface Answer {
  from: number
  next: number | null
}

/**
 * The slot after the one just processed, or null once the row's end is passed. A first run, or a
 * run made on demand, happens off-slot (say at 03:00 with runAt 09:00); the slot later that same
 * local day is then spent too, so there is still exactly one run per local day. With
 * `catchUp: 'all'` the answer may be in the past: the row is due again at once.
 *
 * Thousands of rows of a sweep share a cadence, a zone and a day, and their answers are the same.
 * With `catchUp: 'latest'`, for a slot already past, the answer is the first slot after now (or
 * the one after, on the slot's own local day): it depends on the slot's local day, not its time,
 * and on the anchor's local day (the phase). Computed at clock reading `from`, it holds for any
 * clock reading until it, as no other slot lies between. With `'all'` it does not depend on the
 * clock at all. An unknown cadence is computed each time, so that each such row gets its warning.
 */
export function nextSlot(options: ScheduleOptions, row: RowSchedule, slot: Date): Date | null {
  if (!isCadence(row.frequency, options.frequencies)) return computeNext(options, row, slot)
  let remembered = memos.get(options.frequencies)
  if (!remembered) memos.set(options.frequencies, (remembered = new Map()))
  const zoneName = row.timezone ?? options.timezone
  const zone = IANAZone.create(zoneName)
  const at = options.clock.now().getTime()
  const clockFree = options.catchUp === 'all'
  const slotKey = !clockFree && slot.getTime() < at ? `d${localDate(zone, slot.getTime()).dayNumber}` : `t${slot.getTime()}`
  const anchorDay = localDate(zone, (row.anchor_at ?? slot).getTime()).dayNumber
  const key = `${row.frequency}|${zoneName}|${row.run_at ?? options.runAt}|${options.catchUp}|${anchorDay}|${row.starts_at?.getTime()}|${row.ends_at?.getTime()}|${slotKey}`
  const hit = remembered.get(key)
  if (hit && (clockFree || (hit.from <= at && (hit.next === null || at < hit.next)))) return hit.next === null ? null : new Date(hit.next)
  const next = computeNext(options, row, slot)
  if (remembered.size >= MAX_REMEMBERED) remembered.clear()
  remembered.set(key, { from: at, next: next?.getTime() ?? null })
  return next
}

function computeNext(options: ScheduleOptions, row: RowSchedule, slot: Date): Date | null {
  const catchUp = options.catchUp === 'all'
  const anchored = { ...row, anchor_at: row.anchor_at ?? slot }
  // Computed after each call of the row: the place to say its cadence is unknown, once.
  const next = slotAfter(options, anchored, slot, catchUp, true)
  if (next === null) return null
  const zone = IANAZone.create(row.timezone ?? options.timezone)
  const sameDay = localDate(zone, next.getTime()).dayNumber === localDate(zone, slot.getTime()).dayNumber
  return sameDay ? slotAfter(options, anchored, next, catchUp) : next
}

/**
 * `first` (the row's next slot), then up to `count - 1` more of its cadence, none past its end:
 * what a subscription will run at, for `upcoming()`. The second is the settle's own answer for
 * the slot after `first` ({@link nextSlot}): a `first` off its slot, such as a failed first run
 * waiting for its retry, spends its local day; one in the past is due at once, and with
 * `catchUp: 'latest'` the slots after it are those after now.
 */
export function slotsFrom(options: ScheduleOptions, row: RowSchedule, first: Date, count: number): Date[] {
  if (row.ends_at && first > row.ends_at) return []
  if (count === 1) return [first]
  const second = nextSlot(options, row, first)
  if (second === null || count === 2) return second === null ? [first] : [first, second]
  const rest = upcomingRuns({
    ...inputOf(options, row, first, false),
    after: second,
    count: count - 2,
    ...(row.starts_at ? { startsAt: row.starts_at } : {}),
    ...(row.ends_at ? { endsAt: row.ends_at } : {}),
  })
  return [first, second, ...rest]
}
