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
import { rowRunAt, slotAfter } from '../schedule/row-schedule.js'
import type { ScheduleRow } from './schedule-row.js'
import { nextFireAt, registeredSchedule } from './status.js'

/** A wait for the sweep up to this long is what a sweep schedule means: said of longer ones. */
const LATE_MS = 3_600_000

/** Hours, to one decimal where it is not whole. */
const hours = (ms: number) => `${Math.round(ms / 360_000) / 10} h`

/**
 * The warning for `row`, whose next slot is now `nextRunAt` (null: due at the next sweep, and its
 * slot after that is judged), if the sweep schedule calls it more than an hour after its slot.
 * The schedule registered in the database is the one that sweeps, whichever instance set it; with
 * none registered, nothing is said.
 */
export async function sweepWaitWarning(db: Executor, options: ResolvedOptions, row: ScheduleRow, nextRunAt: Date | null, now: Date): Promise<string | null> {
  // Only a schedule that sweeps: a CLI or a scheduler not started has a cron that runs nothing.
  const schedule = await registeredSchedule(db, options)
  if (!schedule) return null
  let slot: Date | null
  try {
    slot = nextRunAt ?? slotAfter(options, row, now)
  } catch {
    return null // a row whose data is bad is refused where it is used, with its own error
  }
  if (!slot) return null
  const fire = nextFireAt(schedule, new Date(slot.getTime() - 1))
  const wait = fire.getTime() - slot.getTime()
  if (wait <= LATE_MS) return null
  const zone = row.timezone ?? options.timezone
  const local = DateTime.fromJSDate(slot, { zone })
  const inCron = local.setZone(schedule.timezone)
  return (
    `Subscription ${row.subscription_id}'s slots come at ${rowRunAt(options, row)} ${zone}` +
    (schedule.timezone === zone ? '' : ` (${inCron.toFormat('HH:mm')} ${schedule.timezone})`) +
    `, but sweeps run on cron '${schedule.cron}' (${schedule.timezone}): its next slot, ${slot.toISOString()}, is called by the sweep at ` +
    `${fire.toISOString()}, ${hours(wait)} late, each of its slots alike. Sweep more often (cron '0 * * * *' calls each slot within the hour), ` +
    `or give it a runAt in its zone that a sweep follows closely.`
  )
}
