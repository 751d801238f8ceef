/**
 * Enrolment: gives a host subscription its `subscription_processing` row, with its own schedule
 * settings if any. Runs on the pool, or inside the host's own transaction, so a subscription and
 * its schedule commit together.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import type { Executor, HostDb } from '../db/executor.js'
import { toExecutor, withTransaction } from '../db/executor.js'
import { ConfigurationError, NotFoundError } from '../errors.js'
import { shown } from '../error-text.js'
import type { SubscriptionStatus } from '../db/names.js'
import { leftBehind, scheduledRow } from './schedule-control.js'
import { spentDays, writtenScheduleWarnings, zoneLeft } from './first-slot.js'
import { isNotEnrolled, readScheduleRow, writeScheduleRow } from './schedule-row.js'
import { assertNotHeld } from './row-holds.js'
import { jobQueueOf } from '../runtime/boss.js'
import type { ScheduleRow } from './schedule-row.js'
import { applySettings, checkSettings, checkWindow, describeSettings, fixedOffsetWarning, hasSettings } from './schedule-settings.js'
import type { ScheduleSettings } from './schedule-settings.js'
import { recordHistory } from './history.js'
import type { NewHistoryEntry } from './history.js'
import { sweepWaitWarning } from './sweep-wait.js'
import { checkNextRunAt, hasFirstSlot, withFirstSlot } from './given-first-slot.js'
import { firstUserId, userIdNotSubscription } from './user-ids.js'

/** What a warning of a slot left behind by new settings says to do. */
export const LEFT_BEHIND_ADVICE = '(new settings go on from now, as a reschedule does). retryFailed() calls a failed slot before new settings; backfill() calls past slots after them.'

export type { ScheduleSettings }

export interface EnrollOptions extends ScheduleSettings {
  /** Run inside the host's transaction: a `pg` client in a transaction, or a Drizzle transaction. */
  db?: HostDb | undefined
  /**
   * The subscription's first slot, for a subscription moved from another scheduler: when that one
   * has it next due. The slots after it follow its cadence at its `runAt` in its zone, phased
   * from this one (unless `anchor` is given). Only for a subscription never called; one already
   * past is due at the next sweep.
   */
  nextRunAt?: Date | undefined
}

export interface EnrolledSubscription {
  processingId: string
  subscriptionId: string
  status: SubscriptionStatus
  timezone: string | null
  runAt: string | null
  anchorAt: Date | null
  startsAt: Date | null
  endsAt: Date | null
  nextRunAt: Date | null
  /** True when the row was created by this call, false when it already existed. */
  created: boolean
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value)
}

export function assertUuid(name: string, value: unknown): asserts value is string {
  if (!isUuid(value)) {
    throw new ConfigurationError(name, `expected a UUID such as '3f2b…-…', got ${shown(value)}.`)
  }
}

function enrolled(row: ScheduleRow, created: boolean): EnrolledSubscription {
  return {
    processingId: row.id,
    subscriptionId: row.subscription_id,
    status: row.status,
    timezone: row.timezone,
    runAt: row.run_at,
    anchorAt: row.anchor_at,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    nextRunAt: row.next_run_at,
    created,
  }
}

/** Creates the row if missing; says whether it did. */
async function insertRow(db: Executor, subscriptionId: string): Promise<boolean> {
  try {
    const { rows } = await db.query(
      `INSERT INTO subscription_processing (subscription_id) VALUES ($1) ON CONFLICT (subscription_id) DO NOTHING RETURNING id`,
      [subscriptionId],
    )
    return rows.length > 0
  } catch (error) {
    if ((error as { code?: string | undefined }).code === '23503') {
      throw new NotFoundError(`No row in subscriptions has id ${subscriptionId}; create the subscription before enrolling it.`, { subscriptionId })
    }
    throw error
  }
}

/**
 * What the settings just written may not do as meant, said once they are: slots that wait over an
 * hour for their sweep (sweep-wait.ts), then what every write of a schedule says (writtenScheduleWarnings()).
 */
async function warnOfSettings(db: Executor, options: ResolvedOptions, settings: ScheduleSettings, row: ScheduleRow, now: Date): Promise<void> {
  const warnings = [await sweepWaitWarning(db, options, row, row.next_run_at, now), ...writtenScheduleWarnings(options, settings, row, now)]
  for (const warning of warnings) if (warning) options.logger.warn(warning)
}

/** Whether the settings fix the row's first slot themselves, so that it is computed at once. */
function timedSettings(settings: ScheduleSettings): boolean {
  return settings.runAt != null || settings.anchor != null || settings.startsAt != null
}

/**
 * A row never processed, given settings that fix no slot (see {@link timedSettings}): due at the
 * next sweep, as any new row, with no `next_run_at`; an end already past ends it at once.
 */
function unscheduledRow(row: ScheduleRow, settings: ScheduleSettings, now: Date): ScheduleRow {
  const changed = applySettings(row, settings)
  checkWindow(changed)
  const over = changed.ends_at !== null && changed.ends_at < now
  return { ...changed, status: over ? 'ended' : changed.status }
}

/** What enrolling `row` with `settings` writes: the row, and a history line unless it was just created. */
export interface PlannedEnrolment {
  written: ScheduleRow
  history: NewHistoryEntry | null
  /** A past slot (due, or failed) the new settings go on past, not called: said as a reschedule says it; '' for none. */
  behind: string
}

/**
 * Whether the row keeps no slot of its own after the settings: never processed, and given none
 * that fixes one (see {@link unscheduledRow}). Else its next slot is computed, as reschedule() does.
 */
export function staysUnscheduled(row: ScheduleRow, settings: ScheduleSettings): boolean {
  return row.status === 'pending' && row.next_run_at === null && row.last_completed_for === null && !timedSettings(settings)
}

/**
 * The enrolment of `row` with settings that change it, planned: `spent`, its spent local days
 * (spentDays()), is read only when its next slot is computed. Pure: enroll() writes it for one
 * row, enrollMany() for a page of them at once.
 */
export function plannedEnrolment(options: ResolvedOptions, row: ScheduleRow, settings: ScheduleSettings, now: Date, spent: readonly Date[], created: boolean, nextRunAt?: Date): PlannedEnrolment {
  const unscheduled = nextRunAt === undefined && staysUnscheduled(row, settings)
  const planned = unscheduled ? unscheduledRow(row, settings, now) : scheduledRow(options, row, settings, now, spent)
  const written = nextRunAt === undefined ? planned : withFirstSlot(row, planned, nextRunAt, planned.timezone ?? options.timezone, settings.runAt !== undefined)
  if (created) return { written, history: null, behind: '' }
  const firstSlot = hasFirstSlot(row, nextRunAt) ? [] : [`nextRunAt ${nextRunAt!.toISOString()}`]
  const behind = leftBehind(options, row, written, now)
  const detail = [describeSettings(settings, row), ...firstSlot].filter(Boolean).join(', ') + (behind ? `; ${behind}` : '')
  return { written, history: { subscriptionId: row.subscription_id, kind: 'rescheduled', slot: unscheduled ? null : written.next_run_at, detail, fromZone: zoneLeft(options, row, written) }, behind }
}

/** Whether an enrolment gives the row anything to write: a setting, or a first slot (`nextRunAt`). Without, it only adds the row. */
export function changesSchedule(settings: ScheduleSettings, nextRunAt: Date | undefined): boolean {
  return hasSettings(settings) || nextRunAt !== undefined
}

/** Enrols one subscription on `db`, in a transaction when it has settings (see {@link enroll}). */
export async function enrollOn(db: Executor, options: ResolvedOptions, subscriptionId: string, settings: ScheduleSettings, nextRunAt?: Date): Promise<EnrolledSubscription> {
  const now = options.clock.now()
  const created = await insertRow(db, subscriptionId)
  const given = changesSchedule(settings, nextRunAt)
  const row = await readScheduleRow(db, subscriptionId, given)
  if (!given) return enrolled(row, created)
  // Settings the row has already: the same enroll() on every replica and at every start, with
  // nothing to change and nothing to record.
  if (!created && describeSettings(settings, row) === '' && hasFirstSlot(row, nextRunAt)) return enrolled(row, created)
  const zoneWarning = created || settings.timezone !== row.timezone ? fixedOffsetWarning(subscriptionId, settings) : null
  if (zoneWarning) options.logger.warn(zoneWarning)
  const unscheduled = nextRunAt === undefined && staysUnscheduled(row, settings)
  if (!created && !unscheduled) await assertNotHeld(db, jobQueueOf(options), row, 'change the schedule of')
  const spent = unscheduled ? [] : await spentDays(db, options, row, now)
  const { written, history, behind } = plannedEnrolment(options, row, settings, now, spent, created, nextRunAt)
  await writeScheduleRow(db, written, now)
  if (history) await recordHistory(db, [history], now)
  if (behind) options.logger.warn(`enroll() of ${subscriptionId}: ${behind} ${LEFT_BEHIND_ADVICE}`)
  await warnOfSettings(db, options, settings, written, now)
  return enrolled(written, created)
}

/**
 * Adds the row, or updates its settings. A row never processed, given no `runAt`, `anchor` or
 * `startsAt`, is `pending` with no `next_run_at`: the next sweep processes it. With one of them,
 * and for a row already processed, the next slot is computed at once (as `reschedule()` does).
 * Settings the row already has change nothing.
 */
export async function enroll(pool: Pool, options: ResolvedOptions, subscriptionId: string, given: unknown = {}): Promise<EnrolledSubscription> {
  assertUuid('subscriptionId', subscriptionId)
  const settings = checkSettings(given, ['db', 'nextRunAt'])
  const nextRunAt = checkNextRunAt((given as EnrollOptions | undefined)?.nextRunAt)
  const host = (given as EnrollOptions | undefined)?.db
  const work = (db: Executor) => enrollOn(db, options, subscriptionId, settings, nextRunAt)
  if (host) return await work(toExecutor(host))
  return changesSchedule(settings, nextRunAt) ? await withTransaction(pool, work) : await work(pool)
}

/**
 * Applies `control` to a subscription; one the host added since the last sweep, with no row yet,
 * is enrolled first (with `autoEnroll`, as that sweep would), so a control made right after the
 * host's insert (a pause, a reschedule, a run, a preview of its next runs) applies to it rather
 * than failing. Without `autoEnroll`, it fails as not enrolled: the host enrols what it chooses.
 */
export async function enrollingFirst<T>(pool: Pool, options: ResolvedOptions, subscriptionId: string, control: () => Promise<T>): Promise<T> {
  try {
    return await control()
  } catch (error) {
    if (!options.autoEnroll || !isNotEnrolled(error)) throw error
    // Created here, or by a sweep meanwhile: either way the control is tried again.
    await insertRow(pool, subscriptionId).catch(async (refused: unknown) => {
      if (!(refused instanceof NotFoundError)) throw refused
      if (await firstUserId(pool, [subscriptionId])) throw userIdNotSubscription(subscriptionId)
      throw new NotFoundError(`Subscription ${subscriptionId} is not enrolled, and no row in subscriptions has that id: there is no such subscription.`, { subscriptionId })
    })
    return await control()
  }
}
