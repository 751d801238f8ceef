/**
 * A subscription's row as the schedule controls (reschedule, skip, pause until, preview) see it:
 * read with its host cadence, locked while a control decides, and written back with its new
 * next slot and the status that follows from it.
 */
import type { Executor } from '../db/executor.js'
import type { SubscriptionStatus } from '../db/names.js'
import { NotFoundError, SubscriptionBusyError, SubscriptionStateError } from '../errors.js'
import type { PausedReason } from '../db/names.js'
import type { RowSchedule } from '../schedule/row-schedule.js'
import { KEPT_NEXT, NEXT_RUN_COLUMN, nonInstant, START_END_COLUMNS } from './instants.js'
import { busyRunning, isInFlight } from './row-holds.js'

export interface ScheduleRow extends RowSchedule {
  id: string
  status: SubscriptionStatus
  /** Null for NULL and for `-infinity` (due since ever, due now as NULL is); see {@link ScheduleRow.next_run_unset}. */
  next_run_at: Date | null
  /**
   * Whether the column is NULL itself: a `completed` row with none (set by hand, or adopted so)
   * is due never, as in the original design, not at the next sweep.
   */
  next_run_unset: boolean
  paused_until: Date | null
  paused_reason: PausedReason | null
  /** Until when a claim holds the row; past it, a sweep (or the rescue) may take it from a job that is gone. */
  lease_expires_at: Date | null
  last_completed_for: Date | null
  /** When its worker was last called for a slot that completed. */
  last_run_at: Date | null
  /** The host's `subscriptions.active`; null when the host row is gone. */
  active: boolean | null
  /** The job that owns the row: a call is queued, in flight or waiting for its retry (paused meanwhile, too). */
  job_id: string | null
  /** The slot its last claim was for: while a job owns the row, the slot being processed. Not read by every caller. */
  scheduled_for?: Date | null
  /** Whether `anchor_at` was given by the host, not taken from its start, its enrolment or its first slot. */
  anchor_given: boolean
  /** The next slot it had when a run on demand before it failed: its failed slot's success goes on from here. Not read by every caller. */
  kept_next_run_at?: Date | null
  /** The instant its first success was called for, when it had no phase yet (a sweep's instant): see backfillSlots(). Not read by every caller. */
  first_run_for?: Date | null
}

/** The errors notEnrolled() made: a control that may enrol first (enroll.ts) tells them from other NotFoundErrors. */
const notEnrolledErrors = new WeakSet<Error>()

export function notEnrolled(subscriptionId: string): NotFoundError {
  const error = new NotFoundError(
    `Subscription ${subscriptionId} is not enrolled (no subscription_processing row). If it is in subscriptions, the next sweep ` +
      `enrols it (unless autoEnroll is off); enroll(id), the CLI's \`enroll <id>\` or the admin API's POST /subscriptions/<id>/enroll does it now. An id not in subscriptions is no subscription.`,
    { subscriptionId },
  )
  notEnrolledErrors.add(error)
  return error
}

export function isNotEnrolled(error: unknown): boolean {
  return error instanceof Error && notEnrolledErrors.has(error)
}

/**
 * Reads the row; with `lock`, holds it (`FOR UPDATE`) until the caller's transaction ends, so a
 * sweep cannot claim it while a control decides its next slot.
 *
 * @throws {NotFoundError} when the subscription has no row.
 * @throws {SubscriptionDataError} when a time of it is `infinity` or `-infinity` (set by hand).
 */
export async function readScheduleRow(db: Executor, subscriptionId: string, lock: boolean): Promise<ScheduleRow> {
  const { rows } = await db.query<ScheduleRow>(`${SCHEDULE_ROW_SELECT} WHERE sp.subscription_id = $1${lock ? ' FOR UPDATE OF sp' : ''}`, [subscriptionId])
  const row = rows[0]
  if (!row) throw notEnrolled(subscriptionId)
  return checkedInstants(row)
}

/**
 * The rows of those of `subscriptionIds` that are enrolled, in no order; with `lock`, those it
 * could lock at once, held until the caller's transaction ends (one another transaction holds is
 * left out, as a sweep's claim passes over it). A row with a time set by hand to `infinity` or
 * `-infinity` is left out too: readScheduleRow() says what is wrong with it.
 */
export async function readScheduleRows(db: Executor, subscriptionIds: readonly string[], lock: boolean): Promise<ScheduleRow[]> {
  const { rows } = await db.query<ScheduleRow>(`${SCHEDULE_ROW_SELECT} WHERE sp.subscription_id = ANY($1::uuid[])${lock ? ' FOR UPDATE OF sp SKIP LOCKED' : ''}`, [subscriptionIds])
  return rows.filter((row) => !nonInstant(row, SCHEDULE_INSTANTS))
}

const SCHEDULE_ROW_SELECT = `SELECT sp.id, sp.subscription_id, sp.status, ${NEXT_RUN_COLUMN}, sp.next_run_at IS NULL AS next_run_unset, sp.paused_until, sp.paused_reason, sp.lease_expires_at, sp.last_completed_for, sp.last_run_at, sp.job_id, sp.scheduled_for, ${KEPT_NEXT} AS kept_next_run_at, sp.first_run_for,
            sp.timezone, sp.run_at, sp.anchor_at, sp.anchor_given, ${START_END_COLUMNS}, s.frequency::text AS frequency, s.active
       FROM subscription_processing sp LEFT JOIN subscriptions s ON s.id = sp.subscription_id`

const SCHEDULE_INSTANTS = ['next_run_at', 'anchor_at', 'starts_at', 'ends_at', 'paused_until'] as const

function checkedInstants(row: ScheduleRow): ScheduleRow {
  const invalid = nonInstant(row, SCHEDULE_INSTANTS)
  if (invalid) throw invalid
  return row
}

/**
 * `runSubscription()`'s check before it claims, so that a run that would call nothing is refused
 * with the reason instead of answering `processed: 0`. Whether a job still owns the row is the
 * claim's to ask pg-boss (refusedRun says so if it does): a claim whose job is gone is taken, lease or not.
 *
 * @throws {SubscriptionStateError} when the row is paused or ended, or its host row inactive or gone.
 */
export function assertRunnable(row: ScheduleRow, now: Date): void {
  const id = row.subscription_id
  if (row.status === 'paused') throw new SubscriptionStateError(`Cannot run subscription ${id} now: ${pausedState(row, now)}`, { subscriptionId: id })
  if (row.status === 'ended') {
    throw new SubscriptionStateError(
      `Cannot run subscription ${id} now: it has ended${row.ends_at ? ` (its endsAt, ${row.ends_at.toISOString()}, has passed)` : ''}. ` +
        'reschedule(id, { endsAt: <a later instant> }) or { endsAt: null } gives it slots again (admin: PATCH /subscriptions/<id>; CLI: reschedule <id> --ends-at).',
      { subscriptionId: id },
    )
  }
  // No slot before its start: a run now would be one (a trial's run on demand was called there).
  if (row.starts_at && row.starts_at > now) {
    throw new SubscriptionStateError(
      `Cannot run subscription ${id} now: it starts at ${row.starts_at.toISOString()} (its startsAt), and has no slot before then. ` +
        'reschedule(id, { startsAt: <an earlier instant> }) or { startsAt: null } lets it run now (admin: PATCH /subscriptions/<id>; CLI: reschedule <id> --starts-at).',
      { subscriptionId: id },
    )
  }
  assertHostActive(row, 'run')
}

/**
 * Why a run on demand claimed nothing: the row's state (paused, ended, inactive) changed since it
 * was read, or another run of it claimed it first (asked twice at once), or another request holds
 * its lock now (a claim, a reschedule, a skip).
 */
export function refusedRun(row: ScheduleRow, now: Date): SubscriptionBusyError | SubscriptionStateError {
  try {
    assertRunnable(row, now)
  } catch (error) {
    if (error instanceof SubscriptionStateError) return error
    throw error
  }
  if (isInFlight(row)) return busyRunning(row)
  return new SubscriptionBusyError(
    `Cannot run subscription ${row.subscription_id} now: another request holds it at this moment (another run of it being claimed, or a reschedule, skip or backfill of it). ` +
      'Try again in a moment; a run claimed meanwhile settles within workerTimeoutMs, or after its retry.',
    { subscriptionId: row.subscription_id },
  )
}

/**
 * @throws {SubscriptionStateError} when the host's row is inactive (`active = false`) or gone:
 * such a subscription is never called, so a run or a backfill of it would call nothing.
 */
export function assertHostActive(row: ScheduleRow, action: 'run' | 'backfill'): void {
  if (row.active === true) return
  const what = `Cannot ${action} subscription ${row.subscription_id}${action === 'run' ? ' now' : ''}`
  throw new SubscriptionStateError(
    row.active === false
      ? `${what}: it is inactive in subscriptions (active = false), and inactive subscriptions are never called. Set active = true on its row first.`
      : `${what}: its row in subscriptions is gone, so there is no user to call the worker for.`,
    { subscriptionId: row.subscription_id },
  )
}

function pausedState(row: ScheduleRow, now: Date): string {
  if (row.paused_reason === 'failures') {
    return 'it is paused after failing in a row (pauseAfterConsecutiveFailures). retryFailed({ subscriptionIds: [id] }) retries its failed slot now (admin: POST /failed/retry; CLI: retry-failed <id>); resume(id) leaves it failed, that slot due, for the next sweep (or a retry) to retry, its failures counted afresh (admin: POST /subscriptions/<id>/resume; CLI: resume <id>); reschedule(id) gives that slot up, and it stays paused until resumed (admin: PATCH /subscriptions/<id>; CLI: reschedule <id>).'
  }
  if (row.paused_until && row.paused_until <= now) {
    return `its pause ended at ${row.paused_until.toISOString()}, and the rescue resumes it at its next tick (rescueCron). resume(id) does it now.`
  }
  const until = row.paused_until ? `until ${row.paused_until.toISOString()}` : 'until resumed'
  return `it is paused (${until}), and a paused subscription is not called. resume(id) first (admin: POST /subscriptions/<id>/resume; CLI: resume <id>).`
}

/**
 * The status a row takes with `next` as its next slot: `ended` when there is none; an ended row
 * given a slot again is `completed` (or `pending` if it never ran), and so is a failed row moved
 * off the slot that failed (skipped, rescheduled): that slot is given up, and a retry of it would
 * call the slot ahead before it comes. Any other keeps its status.
 */
export function statusWith(row: ScheduleRow, next: Date | null): SubscriptionStatus {
  if (next === null) return 'ended'
  const movedOffFailure = row.status === 'failed' && next.getTime() !== row.next_run_at?.getTime()
  // A row the MVP left stuck in 'processing' (no job holds it) is due at its new slot as any other.
  if (row.status === 'ended' || row.status === 'processing' || movedOffFailure) return row.last_completed_for ? 'completed' : 'pending'
  return row.status
}

/**
 * As SQL, whether a row's next slot `next` (an SQL expression) is off the slot it failed last: a
 * control moved it (skipped, rescheduled, paused past it, not replayed at a resume), and that slot
 * is given up. Such a row is no longer failing: it loses its error, as a success would clear it
 * (the failed attempts stay in its history), and a pause after failures becomes a pause by hand,
 * which resume(id) lifts; no retry of the failed slot is left to make.
 */
export function offFailedSlot(next: string): string {
  return `(last_failed_for IS NOT NULL AND ${next}::timestamptz IS DISTINCT FROM last_failed_for)`
}

/** As SQL, whether a row's next slot `next` is still the slot it failed last (see {@link offFailedSlot}). */
function onFailedSlot(next: string): string {
  return `(last_failed_for IS NOT NULL AND ${next}::timestamptz = last_failed_for)`
}

/**
 * Writes the row's schedule columns, its next slot and its status. A row that leaves `failed`
 * (see {@link statusWith}), or whose next slot moves off the one that failed (see
 * {@link offFailedSlot}), loses its error, and the next slot a failed run on demand kept (its
 * new next slot was computed from it: slotAfterFailed() in first-slot.ts).
 */
export async function writeScheduleRow(db: Executor, row: ScheduleRow, now: Date): Promise<void> {
  await writeScheduleRows(db, [row], now)
}

/**
 * {@link writeScheduleRow} of many rows in one statement (enrollMany()). Rows are found by primary
 * key and each one's values read from `$2`, a jsonb object keyed by row id (as the settle's writes
 * do, settle/row-writes.ts): a lookup per row, never a join whose plan could scan the table.
 */
export async function writeScheduleRows(db: Executor, rows: readonly ScheduleRow[], now: Date): Promise<void> {
  if (rows.length === 0) return
  const values = Object.fromEntries(rows.map((r) => [r.id, [r.timezone, r.run_at, r.anchor_at, r.starts_at, r.ends_at, r.next_run_at, r.status, r.paused_until, r.anchor_given]]))
  const v = (i: number) => `(($2::jsonb -> sp.id::text) ->> ${i})`
  const next = `${v(5)}::timestamptz`
  // The row leaves its failed slot: its error goes, and the next slot a failed run on demand kept.
  const leavesFailure = `(sp.status = 'failed' AND ${v(6)} <> 'failed') OR ${offFailedSlot(next)}`
  await db.query(
    `UPDATE subscription_processing sp
        SET timezone = ${v(0)}, run_at = ${v(1)}, anchor_at = ${v(2)}::timestamptz, starts_at = ${v(3)}::timestamptz, ends_at = ${v(4)}::timestamptz,
            next_run_at = ${next}, status = ${v(6)}, paused_until = ${v(7)}::timestamptz, anchor_given = ${v(8)}::boolean,
            error = CASE WHEN ${leavesFailure} THEN NULL ELSE sp.error END,
            kept_next_run_at = CASE WHEN ${leavesFailure} THEN NULL ELSE sp.kept_next_run_at END,
            paused_reason = CASE WHEN ${v(6)} <> 'paused' THEN NULL WHEN ${offFailedSlot(next)} THEN 'manual' ELSE sp.paused_reason END,
            updated_at = $3
      WHERE sp.id = ANY($1::uuid[])`,
    [rows.map((r) => r.id), JSON.stringify(values), now],
  )
}

/**
 * The status a resumed row with no job takes: `failed` while its next slot is the one that failed
 * (paused after failing, or paused by hand once failed), so that retryFailed() retries it as it
 * would have before the pause; else `pending`.
 */
const RESUMED_IDLE = `CASE WHEN sp.error IS NOT NULL AND ${onFailedSlot('sp.next_run_at')} THEN 'failed' ELSE 'pending' END`

/**
 * A paused row's state once resumed, as SQL (`SET` items of a row aliased `sp`): no pause left, no
 * failures in a row counted (an operator's resume gives it a fresh count), and `pending` or
 * `failed` (see RESUMED_IDLE; or `otherwise`), unless a job still holds it, its call in flight
 * (or its job not yet run) when it was paused. That row is `queued` again, under a claim
 * lease (`now` + `leaseSeconds`, SQL expressions), as it was before the pause: its job records the
 * outcome, no sweep takes it for a second call meanwhile, and if the job is lost the rescue takes
 * it once the lease has run out.
 */
export function resumedState(now: string, leaseSeconds: string, otherwise = RESUMED_IDLE): string {
  return `status = CASE WHEN sp.job_id IS NULL THEN ${otherwise} ELSE 'queued' END,
          lease_expires_at = CASE WHEN sp.job_id IS NULL THEN NULL ELSE ${now} + make_interval(secs => ${leaseSeconds}) END,
          paused_reason = NULL, paused_until = NULL, consecutive_failures = 0, retry_at = NULL`
}
