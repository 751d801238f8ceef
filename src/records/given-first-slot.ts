/**
 * A first slot given at enrolment (`nextRunAt`): a team moving from another scheduler knows when
 * each subscription is next due there, and its first call here must be that one, not one computed
 * from the day of the move (which called every subscription at once, and moved every billing date
 * to it). The slots after it follow the cadence in the subscription's zone at its time of day,
 * their phase (weekday, day of the month) taken from it, as from any first slot run.
 */
import { unstorableDate } from '../config/dates.js'
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import type { ScheduleRow } from './schedule-row.js'
import { IANAZone } from 'luxon'
import { localTimeOfDay } from '../schedule/local-time.js'

/**
 * The `nextRunAt` given, checked: undefined when not given.
 * @throws {ConfigurationError} when it is not a storable Date.
 */
export function checkNextRunAt(value: unknown): Date | undefined {
  if (value === undefined) return undefined
  const wrong = unstorableDate(value)
  if (wrong !== null) {
    throw new ConfigurationError('nextRunAt', `expected ${wrong}: the instant this subscription is next due (as the scheduler it comes from has it), got ${shown(value)}.`)
  }
  return value as Date
}

/** Whether a row was ever called (a success, or a failed slot waiting for its retry): a first slot is given only to a row that never was. */
function hasRun(row: ScheduleRow): boolean {
  return row.last_run_at !== null || row.last_completed_for !== null || row.status === 'failed' || row.paused_reason === 'failures'
}

/** Whether `nextRunAt` is the row's next slot already: enrolling it again changes nothing. */
export function hasFirstSlot(row: ScheduleRow, nextRunAt: Date | undefined): boolean {
  return nextRunAt === undefined || row.next_run_at?.getTime() === nextRunAt.getTime()
}

/** The error of a `nextRunAt` before the row's start or after its end, or null. */
export function outsideWindow(id: string, window: Pick<ScheduleRow, 'starts_at' | 'ends_at'>, nextRunAt: Date): ConfigurationError | null {
  if (window.starts_at && nextRunAt < window.starts_at) {
    return new ConfigurationError('nextRunAt', `${nextRunAt.toISOString()} is before subscription ${id}'s startsAt (${window.starts_at.toISOString()}), and no slot comes before it. Give a nextRunAt at or after it, or an earlier startsAt.`)
  }
  if (window.ends_at && nextRunAt > window.ends_at) {
    return new ConfigurationError('nextRunAt', `${nextRunAt.toISOString()} is after subscription ${id}'s endsAt (${window.ends_at.toISOString()}), and no slot comes after it. Give a nextRunAt at or before it, or a later endsAt.`)
  }
  return null
}

/**
 * `written` (the row as its settings leave it) with `nextRunAt` as its next slot, and its time of
 * day (in `zone`, the row's or the scheduler's) as the row's `runAt` unless one was given
 * (`runAtGiven`): billed at 14:37 there, it goes on at 14:37 here, not at the scheduler's
 * default. A slot already past is due at the next sweep, as any due slot.
 * @throws {ConfigurationError} when the row has been called already (its slots go on from there:
 * reschedule() and skipNext() move them), or `nextRunAt` lies outside its start and end.
 */
export function withFirstSlot(row: ScheduleRow, written: ScheduleRow, nextRunAt: Date, zone: string, runAtGiven: boolean): ScheduleRow {
  const id = row.subscription_id
  if (hasRun(row)) {
    const last = row.last_completed_for ?? row.last_run_at
    throw new ConfigurationError(
      'nextRunAt',
      `subscription ${id} has been called already${last ? ` (last for ${last.toISOString()})` : ', and its slot failed'}: nextRunAt gives the first slot of a subscription never called. ` +
        'Its slots go on from its last; reschedule() or skipNext() moves them.',
    )
  }
  const outside = outsideWindow(id, written, nextRunAt)
  if (outside) throw outside
  // Its phase, unless the host gave one: the slots after it fall on its weekday or day of the month.
  // A slot inside its window is still to be called, an end already past or not: the row ends after it.
  return {
    ...written,
    next_run_at: nextRunAt,
    anchor_at: written.anchor_given ? written.anchor_at : nextRunAt,
    run_at: runAtGiven ? written.run_at : localTimeOfDay(IANAZone.create(zone), nextRunAt.getTime()),
    status: written.status === 'ended' ? 'pending' : written.status,
  }
}
