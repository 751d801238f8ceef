/**
 * Steering one subscription's schedule: reschedule it, skip its next slot, pause it until an
 * instant, and preview its next slots. Each control that writes locks the row first, so a sweep
 * never claims it halfway through, and keeps a line in the subscription's history.
 */
import type { Pool } from 'pg'
import { refusedFrequency } from '../schedule/unknown-frequency.js'
import type { ResolvedOptions } from '../config/options.js'
import { withTransaction } from '../db/executor.js'
import type { Executor } from '../db/executor.js'
import { ConfigurationError, SubscriptionStateError } from '../errors.js'
import { shown } from '../error-text.js'
import { slotAfter } from '../schedule/row-schedule.js'
import { MAX_UPCOMING_RUNS } from '../schedule/upcoming.js'
import { HISTORY_INSERT, recentSkips, recordHistory } from './history.js'
import { firstSlotOf, forgivenByPause, keptPhase, liftedPause, movedByStart, owedDay, phased, slotAfterFailed, spentDays, upcomingOf, withPhase, writtenScheduleWarnings, zoneLeft, zoneMove } from './first-slot.js'
import { nextSweepAt } from './status.js'
import { sweepWaitWarning } from './sweep-wait.js'
import { offFailedSlot, readScheduleRow, resumedState, statusWith, writeScheduleRow } from './schedule-row.js'
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
function leftBehind(options: ResolvedOptions, row: ScheduleRow, written: ScheduleRow, now: Date): string {
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
async function liftedSkips(db: Executor, subscriptionId: string, before: Date | null, next: Date | null, now: Date, schedule: 'new schedule' | 'resumed schedule'): Promise<string> {
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

/**
 * Pauses until `until`: the row's next slot becomes its first at or after `until` (with
 * `catchUp: 'all'` it stays, so the missed slots are replayed). With no slot left, it has ended.
 */
export async function pauseUntil(pool: Pool, options: ResolvedOptions, subscriptionId: string, until: Date, note: string | null = null): Promise<void> {
  const behind = await withTransaction(pool, async (tx) => {
    const now = options.clock.now()
    if (until <= now) {
      throw new ConfigurationError('until', `${until.toISOString()} is not in the future; pause without \`until\` (or resume) instead.`)
    }
    const row = await readScheduleRow(tx, subscriptionId, true)
    // An ended row has no slot to pause: it stays ended, as with pause() and resume(). Paused
    // until that same instant already: nothing changes, and the history says nothing again.
    if (row.status === 'ended' || (row.status === 'paused' && row.paused_until?.getTime() === until.getTime())) return ''
    // A row with no phase yet (never processed, no slot of its own) takes it from the pause's end,
    // read in its zone: a monthly one paused until midnight on the 10th runs on the 10th.
    const first = slotAfter(options, withPhase(phased(row), until), new Date(until.getTime() - 1))
    const keep = options.catchUp === 'all' && row.next_run_at !== null
    // A slot it had past the pause's end stays: one after a skip, or kept by a failed run on demand.
    const kept = row.kept_next_run_at ?? null
    const had = kept && (!row.next_run_at || kept > row.next_run_at) ? kept : row.next_run_at
    const next = keep ? row.next_run_at : first && had && had > first ? had : first
    await tx.query(
      `UPDATE subscription_processing
          SET status = $2::text, paused_reason = CASE WHEN $2::text = 'paused' THEN 'manual' END, paused_until = $3,
              error = CASE WHEN ${offFailedSlot('$4')} THEN NULL ELSE error END,
              kept_next_run_at = CASE WHEN ${offFailedSlot('$4')} THEN NULL ELSE kept_next_run_at END,
              next_run_at = $4, lease_expires_at = NULL, updated_at = $5
        WHERE id = $1`,
      [row.id, next === null ? 'ended' : 'paused', next === null ? null : until, next, now],
    )
    // A slot due or failed that the pause moves past is not called: said, as a reschedule says it.
    const behind = leftBehind(options, row, { ...row, next_run_at: next }, now)
    const detail = next === null ? `until ${until.toISOString()}: no slot left, ended` : `until ${until.toISOString()}`
    await recordHistory(tx, [{ subscriptionId, kind: 'paused', slot: next, detail: behind ? `${detail}; ${behind}` : detail, note }], now)
    return behind
  })
  if (behind) {
    options.logger.warn(`pause() of ${subscriptionId} until ${until.toISOString()}: ${behind} (its next slot is the first after the pause). retryFailed() or runSubscription() calls it before a pause; backfill() calls past slots after one.`)
  }
}

/**
 * Resumes, by hand, a row whose next slot the pause moved or let fall due: paused until an instant
 * still ahead, its next slot was set past that instant, and is recomputed from now, so the slots
 * between now and then run; paused until resumed, a slot that fell due during the pause is not
 * replayed (first-slot.ts). With `catchUp: 'all'` the next slot was kept, and the plain resume
 * applies, unless `forgive`. A skip ahead that the resumed schedule now reaches first no longer applies: said in the
 * history and the log (a trial's skipped week was called after an early resume, and nothing said
 * so). Returns whether it did.
 */
export async function resumeFromNow(pool: Pool, options: ResolvedOptions, subscriptionId: string, note: string | null = null, forgive = false): Promise<boolean> {
  let skips = ''
  const resumed = await withTransaction(pool, async (tx) => {
    const now = options.clock.now()
    const row = await readScheduleRow(tx, subscriptionId, true)
    const lifted = await liftedPause(tx, options, row, now, forgive)
    const change = lifted ?? (await forgivenByPause(tx, options, row, now, forgive))
    if (!change) return false
    const { next } = change
    await tx.query(
      `UPDATE subscription_processing sp
          SET ${resumedState('$4::timestamptz', '$5::float8', '$2::text')}, next_run_at = $3, updated_at = $4,
              error = CASE WHEN ${offFailedSlot('$3')} THEN NULL ELSE sp.error END,
              kept_next_run_at = CASE WHEN ${offFailedSlot('$3')} THEN NULL ELSE sp.kept_next_run_at END
        WHERE sp.id = $1`,
      [row.id, next === null ? 'ended' : 'pending', next, now, options.claimLeaseSeconds],
    )
    skips = await liftedSkips(tx, subscriptionId, row.next_run_at, next, now, 'resumed schedule')
    // Forgiven (catchUp: 'all'): said as such, with the slots' span, for an audit of what was not charged.
    const first = row.next_run_at
    const forgiven = forgive && first !== null && (next === null || first < next)
      ? `; the slots due during the pause are forgiven, none called: from ${first.toISOString()} up to ${next === null ? 'its end' : `its next slot, ${next.toISOString()}`}`
      : ''
    const detail = (lifted
      ? `by hand, before its pause ended (${lifted.until.toISOString()})${forgiven}`
      : forgiven ? `by hand${forgiven}` : `by hand; the slots due during the pause (from ${first?.toISOString()}) are not replayed`) + skips
    await recordHistory(tx, [{ subscriptionId, kind: 'resumed', slot: next, detail, note }], now)
    return true
  })
  if (skips) options.logger.warn(`Subscription ${subscriptionId} resumed${skips}.`)
  return resumed
}

/** Resumes every row whose pause has ended (the sweep and the minutely tick call this); `leaseSeconds`: the claim lease. */
export async function resumeEndedPauses(db: Executor, now: Date, leaseSeconds: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH resumed AS (
       UPDATE subscription_processing sp
          SET ${resumedState('$1::timestamptz', '$2::float8')}, updated_at = $1
        WHERE sp.status = 'paused' AND sp.paused_until IS NOT NULL AND sp.paused_until <= $1
       RETURNING sp.subscription_id, sp.next_run_at
     ), logged AS (
       ${HISTORY_INSERT} SELECT subscription_id, 'resumed', next_run_at, 'its pause ended', $1 FROM resumed
     )
     SELECT count(*)::int AS n FROM resumed`,
    [now, leaseSeconds],
  )
  return rows[0]?.n ?? 0
}
