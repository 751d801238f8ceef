/**
 * Where a row's schedule goes from here, for the controls that move it (reschedule, pause until,
 * resume, skip) and for the preview: its first slot under its settings, in the phase it already
 * has, never on a local day it has spent (the day of the slot it last ran for, or a day whose
 * slot was skipped), and its upcoming slots.
 */
import { DateTime, IANAZone } from 'luxon'
import type { ResolvedOptions } from '../config/options.js'
import type { Executor } from '../db/executor.js'
import { DAY_MS, isValidTimeZone, localDate } from '../schedule/local-time.js'
import { nextSlot, slotAfter, slotsFrom } from '../schedule/row-schedule.js'
import { withinCatchUpWindow } from '../schedule/catch-up-window.js'
import type { ScheduleOptions } from '../schedule/row-schedule.js'
import { lastPausedAt, recentSkipsOf, zonesLeftSince } from './history.js'
import { isHeld, isInFlight } from './row-holds.js'
import type { ScheduleRow } from './schedule-row.js'
import { settingsWarnings } from './schedule-settings.js'
import type { ScheduleSettings } from './schedule-settings.js'
import { unknownCadenceWarning } from '../schedule/unknown-frequency.js'
import { firstSlotOnNamedDay } from '../schedule/named-days.js'

/**
 * The row with its phase pinned: a row never processed has no anchor yet, and its weekday or day
 * of month is that of the next slot it already has, not of whatever instant a control starts from.
 */
export function phased(row: ScheduleRow): ScheduleRow {
  return row.anchor_at ? row : { ...row, anchor_at: row.next_run_at ?? row.last_completed_for }
}

/**
 * The row with the phase its first slot is computed in, kept: a row with no anchor and no slot to
 * take one from counts from its start (weekly from a Thursday runs on Thursdays, even once that
 * Thursday has passed), else from `now`, the day it was scheduled. Kept on the row, the phase
 * outlives a first slot clamped to a short month: enrolled on 31 January, Feb 28, then Mar 31.
 */
export function withPhase(row: ScheduleRow, now: Date): ScheduleRow {
  if (phased(row).anchor_at) return row
  return { ...row, anchor_at: row.starts_at ?? now, anchor_given: false }
}

/**
 * The row with new settings, its phase taken from a new start: on a row never run whose phase
 * was not given (it came from its start, or from the day it was enrolled), a new `startsAt` moves
 * the phase with it, or to `now` when cleared, as an enrolment with that start would have. A
 * weekly subscription enrolled with a time of day on a Sunday, then given a Wednesday start, runs
 * on Wednesdays. Null when the phase stays: the row has run (its runs set the phase), or its
 * anchor is the host's own.
 */
export function movedByStart(row: ScheduleRow, changed: ScheduleRow, startGiven: boolean, anchorGiven: boolean, now: Date): ScheduleRow | null {
  if (!startGiven || anchorGiven || row.last_completed_for || row.last_run_at || row.anchor_given) return null
  return { ...changed, anchor_at: changed.starts_at ?? now, anchor_given: false }
}

/**
 * For new settings (`changed`) that move the row to another zone: the instant with the same local
 * date and time of day in the new zone as `at` had in the old. Read as it is, an instant can fall
 * on another local day there. Null when the zone stays.
 */
export function zoneMove(options: ResolvedOptions, row: ScheduleRow, changed: ScheduleRow): ((at: Date) => Date) | null {
  const from = zoneLeft(options, row, changed)
  const to = changed.timezone ?? options.timezone
  return from === null ? null : (at) => sameLocalTime(at, from, to)
}

/**
 * The zone `row` is in, when new settings (`changed`) move it to another; else null. Kept in the
 * reschedule's history line. A stored zone that is no IANA name (set by hand) is none to leave:
 * its instants are kept as they are, so that a reschedule to a valid zone repairs the row.
 */
export function zoneLeft(options: ResolvedOptions, row: ScheduleRow, changed: ScheduleRow): string | null {
  const from = row.timezone ?? options.timezone
  return from === (changed.timezone ?? options.timezone) || !isValidTimeZone(from) ? null : from
}

/** The instant with the local date and time of day in zone `to` that `at` has in zone `from`. */
function sameLocalTime(at: Date, from: string, to: string): Date {
  return from === to ? at : DateTime.fromJSDate(at, { zone: from }).setZone(to, { keepLocalTime: true }).toJSDate()
}

/**
 * The row with new settings, its phase kept across a change of zone (`move`): unless an anchor is
 * given with them, the anchor keeps its local date and time of day, so a Monday stays a Monday
 * and the 1st the 1st.
 */
export function keptPhase(row: ScheduleRow, changed: ScheduleRow, move: ((at: Date) => Date) | null, anchorGiven: boolean): ScheduleRow {
  const anchor = phased(row).anchor_at
  if (anchorGiven || !move || !anchor) return changed
  return { ...changed, anchor_at: move(anchor) }
}

/**
 * Local days the row may not run on again: that of the slot its last run was for, and those whose
 * slot was skipped. The slot's day, as the settle reckons it (schedule/row-schedule.ts): a run two
 * days late spends the day it was due, not the day of its call, which keeps its own slot; a row
 * from before slots were recorded falls back to the day of its last run. Each is returned at the
 * same local date and time in the row's zone as it had in the zone it was spent in, which a
 * reschedule may have left since (recorded in the history; before migration 0011, not known).
 */
export async function spentDays(db: Executor, options: ResolvedOptions, row: ScheduleRow, now: Date): Promise<Date[]> {
  return (await spentDaysOf(db, options, [row], now)).get(row.subscription_id) ?? []
}

/** {@link spentDays} of many rows, in two statements whatever their number: by subscription id. */
export async function spentDaysOf(db: Executor, options: ResolvedOptions, rows: readonly ScheduleRow[], now: Date): Promise<Map<string, Date[]>> {
  if (rows.length === 0) return new Map()
  const skips = await recentSkipsOf(db, rows.map((row) => row.subscription_id), new Date(now.getTime() - DAY_MS))
  const lastOf = (row: ScheduleRow) => row.last_completed_for ?? row.last_run_at
  const ran = rows.filter((row) => lastOf(row) !== null)
  const spentIn = await zonesLeftSince(db, ran.map((row) => ({ subscriptionId: row.subscription_id, at: row.last_run_at ?? lastOf(row)! })))
  return new Map(rows.map((row) => {
    const zone = row.timezone ?? options.timezone
    const skipped = (skips.get(row.subscription_id) ?? []).map((s) => sameLocalTime(s.slot, s.zone ?? zone, zone))
    const last = lastOf(row)
    const days = last ? [sameLocalTime(last, spentIn.get(row.subscription_id) ?? zone, zone), ...skipped] : skipped
    return [row.subscription_id, days]
  }))
}

/**
 * The start of the local day (in the row's zone) of the run the row owes: its next slot, when it
 * falls today (due, or due later today) and no call was made for it yet, on a row neither paused,
 * failed nor in flight. `move` carries that slot into a new zone, as the row's other days are.
 * Null when the row owes none: its next slot is on a later day, or on an earlier one (missed
 * during an outage or while inactive), which a reschedule forgives: it goes on from now.
 */
export function owedDay(options: ResolvedOptions, row: ScheduleRow, now: Date, move: ((at: Date) => Date) | null): Date | null {
  const due = row.next_run_at
  // A failed row's next slot is the one that failed: its calls carried that slot's key, and a
  // run at another time of its day would carry another. It is not moved onto the day again.
  if (!due || row.status === 'paused' || row.status === 'ended' || row.status === 'failed' || isHeld(row)) return null
  const zone = row.timezone ?? options.timezone
  const day = DateTime.fromJSDate(move ? move(due) : due, { zone }).startOf('day')
  return day.equals(DateTime.fromJSDate(now, { zone }).startOf('day')) ? day.toJSDate() : null
}

/**
 * The row's first slot under its (new) settings: the first after now, or, while it is paused
 * until an instant, the first at or after that instant; never on a spent day (one run per local
 * day; a skipped slot stays skipped). Null when its end has passed. With `owed` (see
 * {@link owedDay}), the first from the start of that day instead: the run the row owes keeps its
 * day, and is due at once when its new time of day has passed.
 */
export function firstSlotOf(options: ResolvedOptions, row: ScheduleRow, now: Date, spent: readonly Date[], owed: Date | null = null): Date | null {
  const pinned = phased(row)
  const until = row.status === 'paused' && row.paused_until && row.paused_until > now ? new Date(row.paused_until.getTime() - 1) : now
  const zone = IANAZone.create(row.timezone ?? options.timezone)
  const days = new Set(spent.map((at) => localDate(zone, at.getTime()).dayNumber))
  let slot = owed ? slotAfter(options, pinned, new Date(owed.getTime() - 1), true) : slotAfter(options, pinned, until)
  // Each spent day moves the slot at most once.
  for (let i = 0; i <= days.size && slot && days.has(localDate(zone, slot.getTime()).dayNumber); i++) slot = slotAfter(options, pinned, slot, owed !== null)
  return slot
}

/**
 * A row paused until an instant still ahead, with that pause lifted now (a `resume()` before its
 * end, or a `pause()` with no end over it): `next` is the first slot from now, never on a local
 * day already spent. Null when the row is not so paused, or under `catchUp: 'all'`, where such a
 * pause defers its slots rather than forgiving them.
 */
export async function liftedPause(db: Executor, options: ResolvedOptions, row: ScheduleRow, now: Date, forgive = false): Promise<{ until: Date; next: Date | null } | null> {
  if (row.status !== 'paused' || !row.paused_until || row.paused_until <= now || (options.catchUp === 'all' && !forgive)) return null
  return { until: row.paused_until, next: firstSlotOf(options, { ...row, status: 'pending', paused_until: null }, now, await spentDays(db, options, row, now)) }
}

/**
 * A row paused until resumed (by hand, or after failures) whose next slot fell due during its
 * pause, resumed now: that slot and those after it up to now are not replayed, as with a pause
 * until an instant, and `next` is the first slot from now, never on a spent day. A slot already
 * due when the pause began is still owed, and stays. Null when nothing is forgiven: the row is not
 * so paused, a job holds it, no pause is on record, or under `catchUp: 'all'`, where a pause
 * defers its slots (unless `forgive`: `resume(id, { forgive: true })`).
 */
export async function forgivenByPause(db: Executor, options: ResolvedOptions, row: ScheduleRow, now: Date, forgive = false): Promise<{ next: Date | null } | null> {
  const due = row.next_run_at
  if (row.status !== 'paused' || row.job_id !== null || (options.catchUp === 'all' && !forgive) || !due) return null
  // A pause until an instant that has passed forgave up to that instant; its slots after it run.
  const end = row.paused_until && row.paused_until < now ? row.paused_until : now
  if (due >= end) return null
  const pausedAt = await lastPausedAt(db, row.subscription_id)
  if (!pausedAt || due < pausedAt) return null
  return { next: firstSlotOf(options, { ...row, status: 'pending', paused_until: null }, now, await spentDays(db, options, row, now)) }
}

/**
 * The row's next slots. None for an ended row, an inactive subscription, or one paused with no
 * end to its pause. A row never processed (no `next_run_at`) runs at the next sweep (`nextSweep`);
 * a row in flight shows the slots after the one being processed.
 */
export function upcomingOf(options: ScheduleOptions, row: ScheduleRow, count: number, now: Date, nextSweep: Date): Date[] {
  if (row.status === 'ended' || row.active !== true) return []
  if (row.status === 'paused' && !row.paused_until) return []
  // No sweep takes a completed row with no next slot (claim-sql.ts): a reschedule gives it one.
  if (row.status === 'completed' && row.next_run_unset) return []
  if (row.next_run_at === null && !isInFlight(row)) {
    // A cadence that names its days, swept on another day: its first slot, then the next ones.
    const placed = firstSlotOnNamedDay(options, row, nextSweep)
    if (placed) return placed.next === null ? [] : slotsFrom(options, { ...row, anchor_at: placed.anchorAt }, placed.next, count)
    // Its first run is off-slot: it spends that local day, and the settle sets the next slot.
    const second = count > 1 ? nextSlot(options, row, nextSweep) : null
    return second === null ? [nextSweep] : [nextSweep, ...slotsFrom(options, row, second, count - 1)]
  }
  let first: Date | null = row.next_run_at
  // In flight: the settle's own answer for the slot being processed, which spends its local day
  // (a first run waiting for its retry at 03:00 is not due again at 09:00).
  if (isInFlight(row)) first = row.scheduled_for ? slotAfterFailed(options, row, row.scheduled_for) : slotAfter(options, phased(row), first && first > now ? first : now)
  // Behind a catch-up window, the next sweep moves it up to the window first; a failed slot is tried again instead.
  else if (first !== null && row.status !== 'failed') first = withinCatchUpWindow(options, row, first, now)
  if (first === null) return []
  // A failed run on demand, then the next slot the row had before it (not the slots after the run).
  if (row.status === 'failed' && row.kept_next_run_at && count > 1) {
    const after = slotAfterFailed(options, row, first)
    return after === null ? [first] : [first, ...slotsFrom(options, row, after, count - 1)]
  }
  return slotsFrom(options, row, first, count)
}

/**
 * The slot after `slot`, the one the row failed last, once it succeeds: the next by its cadence,
 * or the next slot the row had before a run on demand failed (kept_next_run_at), when later, as
 * the settle's success writes it (settle/row-writes.ts). Null once its end is passed.
 */
export function slotAfterFailed(options: ScheduleOptions, row: ScheduleRow, slot: Date): Date | null {
  const next = nextSlot(options, phased(row), slot)
  const kept = row.kept_next_run_at ?? null
  return next !== null && kept !== null && kept > next ? kept : next
}

/**
 * The warning for a row its settings leave no slot (`ended` with its `endsAt` still ahead): its
 * first slot after its start falls after its end. A yearly subscription starting later in its day
 * than its time of day, ending within the year, is such a row: ended at once, never called, and
 * nothing else would say so. Null for any other row.
 */
export function emptyWindowWarning(options: ScheduleOptions, row: ScheduleRow, now: Date): string | null {
  if (row.status !== 'ended' || !row.ends_at || row.ends_at <= now) return null
  const from = row.starts_at && row.starts_at > now ? row.starts_at : now
  const first = slotAfter(options, { ...row, ends_at: null }, new Date(from.getTime() - 1))
  return (
    `Subscription ${row.subscription_id} has no slot between ${from.toISOString()} and its endsAt, ${row.ends_at.toISOString()}: ` +
    `its first slot would be ${first?.toISOString() ?? 'none'}, after its end, so it is ended at once and never called. ` +
    'A slot falls at its time of day on the days its cadence and anchor give, and a startsAt later in its day than that waits for the next such day: ' +
    'give it an earlier startsAt or runAt, or a later endsAt (reschedule()).'
  )
}


/**
 * What enroll(), enrollMany() and reschedule() each say of a row whose schedule `settings` just
 * wrote: an end already past, an anchor on another local day, a window with no slot, a frequency
 * that names no cadence. The slots that wait long for their sweep are said apart (sweep-wait.ts).
 */
export function writtenScheduleWarnings(options: ResolvedOptions, settings: ScheduleSettings, row: ScheduleRow, now: Date): string[] {
  const zone = row.timezone ?? options.timezone
  const warnings = [...settingsWarnings(row.subscription_id, settings, zone, now), emptyWindowWarning(options, row, now), unknownCadenceWarning(options, row)]
  return warnings.filter((warning): warning is string => warning !== null)
}
