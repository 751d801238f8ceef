/**
 * Pausing one subscription until an instant, and resuming one: by hand, or once its pause has
 * ended. Each control that writes locks the row first, so a sweep never claims it halfway
 * through, and keeps a line in the subscription's history.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import { withTransaction } from '../db/executor.js'
import type { Executor } from '../db/executor.js'
import { ConfigurationError } from '../errors.js'
import { slotAfter } from '../schedule/row-schedule.js'
import { HISTORY_INSERT, recordHistory } from './history.js'
import { forgivenByPause, liftedPause, phased, withPhase } from './first-slot.js'
import { offFailedSlot, readScheduleRow, resumedState } from './schedule-row.js'
import { leftBehind, liftedSkips } from './schedule-control.js'

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
    // A slot already due as the pause begins (not a failed one) still runs, once, after it, as
    // after a pause until resumed: a trial's due slot was dropped by a pause of a minute.
    const dueNow = row.next_run_at !== null && row.next_run_at <= now && row.status !== 'failed' && !row.kept_next_run_at
    const keep = (options.catchUp === 'all' && row.next_run_at !== null) || dueNow
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
