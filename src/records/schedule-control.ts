/**
 * Steering one subscription's schedule: reschedule it, skip its next slot, and preview its next
 * slots (pausing and resuming: pause-control.ts). Each control that writes locks the row first, so a sweep
 * never claims it halfway through, and keeps a line in the subscription's history.
 */
import type { Pool } from 'pg'
import { refusedFrequency } from '../schedule/unknown-frequency.js'
import type { ResolvedOptions } from '../config/options.js'
import { withTransaction } from '../db/executor.js'
import type { Executor } from '../db/executor.js'
import { ConfigurationError, SubscriptionStateError } from '../errors.js'
import { shown } from '../error-text.js'
import { MAX_UPCOMING_RUNS } from '../schedule/upcoming.js'
import { recentSkips, recordHistory } from './history.js'
import { firstSlotOf, keptPhase, movedByStart, owedDay, slotAfterFailed, spentDays, upcomingOf, withPhase, writtenScheduleWarnings, zoneLeft, zoneMove } from './first-slot.js'
import { nextSweepAt } from './status.js'
import { sweepWaitWarning } from './sweep-wait.js'
import { readScheduleRow, statusWith, writeScheduleRow } from './schedule-row.js'
import type { ScheduleRow } from './schedule-row.js'
import { assertNotHeld } from './row-holds.js'
import { jobQueueOf } from '../runtime/boss.js'
import { applySettings, checkSettings, checkWindow, describeSettings, fixedOffsetWarning } from './schedule-settings.js'
import type { ScheduleSettings } from './schedule-settings.js'

/** What `skipNext()` did: the slot it skipped (null when none was ahead), and the next one now (null when none is ahead). */
export interface SkipResult {
  skipped: Date | null
  nextRunAt: Date | null
}

/**
 * The row with `settings` applied and its next slot recomputed, never on a local day in `spent`
 * (read in the row's zone before the settings: see spentDays()). Pure: enrollMany() plans new rows
 * with it, none of which has a day spent.
 */
export function scheduledRow(options: ResolvedOptions, row: ScheduleRow, settings: ScheduleSettings, now: Date, spent: readonly Date[]): ScheduleRow {
  const updated = applySettings(row, settings)
  // In a new zone, the days already spent (the slot just run, a skip) are the same local days.
  const move = zoneMove(options, row, updated)
  const rephased = movedByStart(row, updated, settings.startsAt !== undefined, settings.anchor !== undefined, now)
  const changed = withPhase(rephased ?? keptPhase(row, updated, move, settings.anchor !== undefined), now)
  checkWindow(changed)
  const next = firstSlotOf(options, changed, now, spent.map((at) => (move ? move(at) : at)), owedDay(options, changed, now, move))
  return { ...changed, next_run_at: next, status: statusWith(changed, next), paused_until: next === null ? null : changed.paused_until }
}

/** Applies `settings` to a locked row and recomputes its next slot at once; returns the row written. */
export async function applySchedule(db: Executor, options: ResolvedOptions, row: ScheduleRow, settings: ScheduleSettings, now: Date): Promise<ScheduleRow> {
  const written = scheduledRow(options, row, settings, now, await spentDays(db, options, row, now))
  await writeScheduleRow(db, written, now)
  return written
}

export async function reschedule(pool: Pool, options: ResolvedOptions, subscriptionId: string, given: unknown, note: string | null = null): Promise<{ nextRunAt: Date | null }> {
  const settings = checkSettings(given)
  const result = await withTransaction(pool, async (tx) => {
    const now = options.clock.now()
    const row = await readScheduleRow(tx, subscriptionId, true)
    await assertNotHeld(tx, jobQueueOf(options), row, 'reschedule')
    const written = await applySchedule(tx, options, row, settings, now)
    const behind = leftBehind(options, row, written, now)
    const detail = (describeSettings(settings, row) || 'next slot recomputed') + (behind ? `; ${behind}` : '') + (await liftedSkips(tx, subscriptionId, row.next_run_at, written.next_run_at, now, 'new schedule'))
    await recordHistory(tx, [{ subscriptionId, kind: 'rescheduled', slot: written.next_run_at, detail, fromZone: zoneLeft(options, row, written), note }], now)
    const late = await sweepWaitWarning(tx, options, written, written.next_run_at, now)
    return { nextRunAt: written.next_run_at, late, warnings: writtenScheduleWarnings(options, settings, written, now), behind }
  })
  const zoneWarning = fixedOffsetWarning(subscriptionId, settings)
  if (zoneWarning) options.logger.warn(zoneWarning)
  if (result.late) options.logger.warn(result.late)
  for (const warning of result.warnings) options.logger.warn(warning)
  if (result.behind) {
    options.logger.warn(`reschedule() of ${subscriptionId}: ${result.behind} (a reschedule goes on from now). retryFailed() calls a failed slot before a reschedule; backfill() calls past slots after one.`)
  }
  return { nextRunAt: result.nextRunAt }
}

/**
 * What a reschedule leaves behind: the row's stored slot, past (due, or failed and waiting for its
 * retry), which its new next slot comes after, and under `catchUp: 'all'` the slots owed since. They
 * are not called, and said so, in its history and the log: a trial's billing team fixed a failed
 * row's zone with reschedule() and lost three charges without a word.
 */
export function leftBehind(options: ResolvedOptions, row: ScheduleRow, written: ScheduleRow, now: Date): string {
  const slot = row.next_run_at
  if (slot === null || slot > now || row.status === 'ended') return ''
  if (written.next_run_at !== null && written.next_run_at <= slot) return ''
  const since = options.catchUp === 'all' ? ", and the slots owed since (catchUp 'all')," : ''
  return `its ${row.status === 'failed' ? 'failed' : 'due'} slot of ${slot.toISOString()}${since} left behind, not called`
}

/**
 * What a reschedule says of the skips ahead that its next slot now comes before: a skip moved
 * the next slot past the slot skipped, and a schedule that starts earlier reaches that slot again
 * (the row keeps one next slot, not a list of skips). Only of skips in force until now (the next
 * slot `before` it was past them): one an earlier reschedule lifted is not lifted again.
 */
export async function liftedSkips(db: Executor, subscriptionId: string, before: Date | null, next: Date | null, now: Date, schedule: 'new schedule' | 'resumed schedule'): Promise<string> {
  if (next === null) return ''
  const inForce = (slot: Date) => before === null || before > slot
  const ahead = (await recentSkips(db, subscriptionId, now)).filter((skip) => skip.slot > next && inForce(skip.slot))
  if (ahead.length === 0) return ''
  const slots = ahead.map((skip) => skip.slot.toISOString()).join(', ')
  return `; the skip of ${slots} no longer applies, the ${schedule} running before it: skipNext() again to skip it`
}

export function checkCount(count: unknown): number {
  if (count === undefined) return 5
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_UPCOMING_RUNS) {
    throw new ConfigurationError('count', `expected a whole number from 1 to ${MAX_UPCOMING_RUNS}, got ${shown(count)}.`)
  }
  return count
}

export async function upcoming(pool: Pool, options: ResolvedOptions, subscriptionId: string, count: unknown): Promise<Date[]> {
  const checked = checkCount(count)
  const row = await readScheduleRow(pool, subscriptionId, false)
  // Under unknownFrequency 'fail' its slots are not run: a list of them would mislead.
  const refused = refusedFrequency(options, subscriptionId, row.frequency)
  if (refused) throw refused
  const now = options.clock.now()
  return upcomingOf(options, row, checked, now, await nextSweepAt(pool, options, now))
}

/**
 * The next slot is not processed: `next_run_at` moves to the slot after it. Given the `slot` the
 * caller saw, only while that slot is the next one (the row is locked, so of two requests at once
 * the second sees the first's skip).
 */
export async function skipNext(pool: Pool, options: ResolvedOptions, subscriptionId: string, slot?: Date, note: string | null = null): Promise<SkipResult> {
  return await withTransaction(pool, async (tx) => {
    const now = options.clock.now()
    const row = await readScheduleRow(tx, subscriptionId, true)
    await assertNotHeld(tx, jobQueueOf(options), row, 'skip the next slot of')
    // Under unknownFrequency 'fail' it has no slot it would run: a skip would skip a guess.
    const refused = refusedFrequency(options, subscriptionId, row.frequency)
    if (refused) throw refused
    const [skipped] = upcomingOf(options, row, 1, now, await nextSweepAt(tx, options, now))
    if (slot && skipped?.getTime() !== slot.getTime()) return await skippedBefore(tx, row, subscriptionId, slot, skipped ?? null)
    // No run ahead (paused until resumed, ended, inactive): its stored slot is not one it will run.
    if (!skipped) return { skipped: null, nextRunAt: null }
    // As if that slot had run: its local day is spent. A row never processed is due at the next
    // sweep (03:00, say), and the slot after that, at its time of day, would fall on the same day.
    const next = slotAfterFailed(options, row, skipped)
    await writeScheduleRow(tx, { ...row, next_run_at: next, status: row.status === 'paused' && next ? 'paused' : statusWith(row, next) }, now)
    await recordHistory(tx, [{ subscriptionId, kind: 'skipped', slot: skipped, detail: next ? `next slot ${next.toISOString()}` : 'that was its last slot', note }], now)
    return { skipped, nextRunAt: next }
  })
}

/**
 * A skip of `slot`, which is not the next slot (`next`): answered as it was the first time when
 * that skip still holds (a retried request, a double click), else refused. A skip holds while the
 * next slot is past it: a reschedule that brought the next slot before it lifted it. With no slot
 * ahead (paused until resumed), the row's stored slot, where a resume goes on from, says so.
 */
async function skippedBefore(db: Executor, row: ScheduleRow, subscriptionId: string, slot: Date, next: Date | null): Promise<SkipResult> {
  const after = next ?? row.next_run_at
  const past = after === null || after > slot
  if (past && (await recentSkips(db, subscriptionId, slot)).some((skip) => skip.slot.getTime() === slot.getTime())) {
    return { skipped: slot, nextRunAt: next }
  }
  const none = row.status === 'ended' ? 'it has ended' : row.status === 'paused' && !row.paused_until ? 'it is paused until resumed' : 'it has no slot ahead'
  const ahead = next ? `its next slot is ${next.toISOString()}` : `${none}, so no slot is next`
  throw new SubscriptionStateError(
    `${slot.toISOString()} is not the next slot of subscription ${subscriptionId}: ${ahead}. The slot ran, was skipped, or the schedule changed since it was read: ` +
      'read upcoming(id) again (admin: GET /subscriptions/<id>/upcoming; CLI: upcoming <id>) and skip the slot it lists.',
    { subscriptionId },
  )
}
