/**
 * A slot is called by the first sweep at or after it. With the Quick start's daily cron at 09:00
 * Berlin, a subscription enrolled with New York's zone has its slots at 09:00 New York (15:00
 * Berlin) and is called at the next morning's sweep, 18 hours late, every day: a trial of the
 * Quick start saw that with no word in the log. enroll() and reschedule() say so when the slots
 * they give a subscription wait more than an hour for their sweep.
 */
import { DateTime } from 'luxon'
import type { ResolvedOptions } from '../config/options.js'
import type { Executor } from '../db/executor.js'
import { DAY_MS } from '../schedule/local-time.js'
import { rowRunAt, slotAfter } from '../schedule/row-schedule.js'
import type { RowSchedule } from '../schedule/row-schedule.js'
import type { ScheduleRow } from './schedule-row.js'
import { nextFireAt, registeredSchedule } from './status.js'

/** A wait for the sweep up to this long is what a sweep schedule means: said of longer ones. */
const LATE_MS = 3_600_000

/** Hours, to one decimal where it is not whole. */
const hours = (ms: number) => `${Math.round(ms / 360_000) / 10} h`

/** Slots looked at: the next one, then one a month for a year, so that DST seasons are seen. */
const SAMPLES = 13
const MONTH_MS = 30 * DAY_MS

export type Schedule = { cron: string; timezone: string }
type Wait = { slot: Date; fire: Date; wait: number }

/** Each sampled slot of `row` from `first` on, with the sweep that calls it. */
function sampledWaits(options: ResolvedOptions, schedule: Schedule, row: RowSchedule, first: Date | null): Wait[] {
  const waits: Wait[] = []
  for (let k = 0; first && k < SAMPLES; k++) {
    const slot = k === 0 ? first : slotAfter(options, row, new Date(first.getTime() + k * MONTH_MS - 1))
    if (!slot) break
    const fire = nextFireAt(schedule, new Date(slot.getTime() - 1))
    waits.push({ slot, fire, wait: fire.getTime() - slot.getTime() })
  }
  return waits
}

/**
 * The warning for `row`, whose next slot is now `nextRunAt` (null: due at the next sweep, and its
 * slot after that is judged), if the sweep schedule calls its slots more than an hour after them.
 * Slots a month apart over a year are looked at: a slot lined up with the sweep in winter can wait
 * 23 h in summer when its zone and the cron's change clocks on different dates (a trial's Kolkata
 * 13:30 under a Berlin 09:00 sweep). The schedule registered in the database is the one that
 * sweeps, whichever instance set it; with none registered, nothing is said.
 */
export async function sweepWaitWarning(db: Executor, options: ResolvedOptions, row: ScheduleRow, nextRunAt: Date | null, now: Date): Promise<string | null> {
  // A paused or ended row has no slot a sweep will call.
  if (row.status === 'paused' || row.status === 'ended') return null
  // Only a schedule that sweeps: a CLI or a scheduler not started has a cron that runs nothing.
  const schedule = await registeredSchedule(db, options)
  return schedule ? sweepWaitUnder(options, schedule, row, nextRunAt, now) : null
}

/** {@link sweepWaitWarning} under the sweep schedule `schedule`, read once for many rows (enrollMany()). */
export function sweepWaitUnder(options: ResolvedOptions, schedule: Schedule, row: ScheduleRow, nextRunAt: Date | null, now: Date): string | null {
  if (row.status === 'paused' || row.status === 'ended') return null
  let waits: Wait[]
  try {
    waits = sampledWaits(options, schedule, row, nextRunAt ?? slotAfter(options, row, now))
  } catch {
    return null // a row whose data is bad is refused where it is used, with its own error
  }
  const late = waits.filter((w) => w.wait > LATE_MS)
  if (late.length === 0) return null
  const worst = late.reduce((a, b) => (b.wait > a.wait ? b : a))
  const zone = row.timezone ?? options.timezone
  const inCron = DateTime.fromJSDate(worst.slot, { zone: schedule.timezone }).toFormat('HH:mm')
  const how = late.length === waits.length
    ? ', and its other slots as late or nearly'
    : `; ${late.length} of ${waits.length} of its slots a month apart are over an hour late (its zone and the cron's change clocks on different dates)`
  return (
    `Subscription ${row.subscription_id}'s slots come at ${rowRunAt(options, row)} ${zone}, but sweeps run on cron '${schedule.cron}' ` +
    `(${schedule.timezone}): its slot of ${worst.slot.toISOString()}${schedule.timezone === zone ? '' : ` (${inCron} in ${schedule.timezone})`} is called by the sweep at ` +
    `${worst.fire.toISOString()}, ${hours(worst.wait)} late${how}. ${SWEEP_ADVICE}`
  )
}

export const SWEEP_ADVICE = "Sweep more often (cron '0 * * * *' calls each slot within the hour), or give it a runAt in its zone that a sweep follows closely all year."

/** Times of day and zones looked at after a cron change: the most common ones. */
const MAX_KINDS = 50

/**
 * What a new sweep schedule leaves late: the subscriptions' times of day and zones (the most
 * common 50, as daily slots) whose slots wait over an hour for it. A trial moved a fleet from an
 * hourly cron back to a daily one and was told only that the schedule was replaced.
 */
export async function lateAfterCronChange(db: Executor, options: ResolvedOptions, schedule: Schedule, now: Date): Promise<string | null> {
  const { rows } = await db.query<{ timezone: string | null; run_at: string | null; n: number }>(
    `SELECT timezone, run_at, count(*)::int AS n FROM subscription_processing
      WHERE status NOT IN ('paused', 'ended') GROUP BY timezone, run_at ORDER BY count(*) DESC LIMIT ${MAX_KINDS}`,
  )
  const late: { what: string; n: number; worst: number }[] = []
  for (const kind of rows) {
    const row: RowSchedule = { subscription_id: '(a subscription)', frequency: 'daily', timezone: kind.timezone, run_at: kind.run_at, anchor_at: null, starts_at: null, ends_at: null }
    try {
      const waits = sampledWaits(options, schedule, row, slotAfter(options, row, now))
      const worst = Math.max(0, ...waits.map((w) => w.wait))
      if (worst > LATE_MS) late.push({ what: `${rowRunAt(options, row)} ${kind.timezone ?? options.timezone}`, n: kind.n, worst })
    } catch {
      // A bad zone or time of day is refused where it is used, with its own error.
    }
  }
  if (late.length === 0) return null
  const total = late.reduce((sum, k) => sum + k.n, 0)
  const listed = late.slice(0, 5).map((k) => `${k.n} at ${k.what} (up to ${hours(k.worst)})`).join(', ')
  return (
    `With sweeps on cron '${schedule.cron}' (${schedule.timezone}), ${total} subscription${total === 1 ? '' : 's'} will be called over an hour after ` +
    `${total === 1 ? 'its slots' : 'their slots'}: ${listed}${late.length > 5 ? ', and others' : ''}. ${SWEEP_ADVICE}`
  )
}
