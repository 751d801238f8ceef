/**
 * Bulk enrolment: many subscriptions, each with its own settings, in one call. enroll() costs a
 * transaction and about ten round trips per subscription: a team giving 100,000 users their zone
 * and time of day would wait over an hour. Here a page of entries is planned in memory, each as
 * enroll() plans it (plannedEnrolment()), from a few reads of the whole page; new rows are
 * inserted with their schedule in the same INSERT, so that no sweep ever sees one without it, and
 * rows already there are written in one UPDATE, their history lines in one INSERT. A row that has
 * the settings given is left alone. One a job holds, another transaction has locked, or whose
 * data is bad takes enroll()'s own path, which waits for it, or refuses it while the others go on.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import type { Executor } from '../db/executor.js'
import { toExecutor, withTransaction } from '../db/executor.js'
import { isPool } from '../db/pool-shape.js'
import { isSchedulerError } from '../error-guards.js'
import type { SchedulerError } from '../errors.js'
import { changesSchedule, enrollOn, LEFT_BEHIND_ADVICE, plannedEnrolment, staysUnscheduled } from './enroll.js'
import type { PlannedEnrolment } from './enroll.js'
import { assertKnown, checkEntries, checkManyOptions } from './enroll-entries.js'
import type { CheckedEntry } from './enroll-entries.js'
import { EnrolmentWarnings } from './enroll-warnings.js'
import { spentDaysOf } from './first-slot.js'
import { recordHistory } from './history.js'
import { isHeld } from './row-holds.js'
import { readScheduleRows, writeScheduleRows } from './schedule-row.js'
import type { ScheduleRow } from './schedule-row.js'
import { describeSettings } from './schedule-settings.js'
import { hasFirstSlot } from './given-first-slot.js'
import { registeredSchedule } from './status.js'

/** A subscription enrollMany() did not enrol or change, and why. */
export interface RefusedEnrolment {
  subscriptionId: string
  /** What enroll() would have thrown: `SubscriptionBusyError` while a call for it is in flight, say. */
  error: SchedulerError
}

export interface EnrollManyResult {
  /** Rows created by this call. */
  created: number
  /** Rows that were there and took new settings. */
  updated: number
  /** Rows that were there with the settings given (or none given): nothing written. */
  unchanged: number
  /** In the entries' order. */
  refused: RefusedEnrolment[]
}

/** Entries per transaction (and per INSERT): bench/diagnose/enroll-many.ts measures it. */
const PAGE = 1000
/** The savepoint each row enrolled one at a time is tried under, so that a refusal spares its page. */
const ONE = 'pss_enrol_one'

type Host = { frequency: string | null; active: boolean | null }

/** A row as enrolment creates it, before its settings: what the INSERT's defaults give. */
function newRow(subscriptionId: string, host: Host): ScheduleRow {
  return {
    id: '', subscription_id: subscriptionId, status: 'pending', next_run_at: null, next_run_unset: true, paused_until: null, paused_reason: null,
    lease_expires_at: null, last_completed_for: null, last_run_at: null, active: host.active, job_id: null, anchor_given: false,
    timezone: null, run_at: null, anchor_at: null, starts_at: null, ends_at: null, frequency: host.frequency,
  }
}

async function hostRows(db: Executor, ids: readonly string[]): Promise<Map<string, Host>> {
  const { rows } = await db.query<Host & { id: string }>(`SELECT id, frequency::text AS frequency, active FROM subscriptions WHERE id = ANY($1::uuid[])`, [ids])
  return new Map(rows.map((row) => [row.id, { frequency: row.frequency, active: row.active }]))
}

/** Inserts the rows with their schedule; the ids of those inserted (not enrolled meanwhile, by a sweep). */
async function insertRows(db: Executor, rows: readonly ScheduleRow[], now: Date): Promise<Set<string>> {
  if (rows.length === 0) return new Set()
  const column = <T>(pick: (row: ScheduleRow) => T) => rows.map(pick)
  const { rows: inserted } = await db.query<{ id: string }>(
    `INSERT INTO subscription_processing (subscription_id, status, timezone, run_at, anchor_at, anchor_given, starts_at, ends_at, next_run_at, updated_at)
     SELECT v.*, $10::timestamptz
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::boolean[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[]) AS v
     ON CONFLICT (subscription_id) DO NOTHING RETURNING subscription_id AS id`,
    [
      column((r) => r.subscription_id), column((r) => r.status), column((r) => r.timezone), column((r) => r.run_at), column((r) => r.anchor_at),
      column((r) => r.anchor_given), column((r) => r.starts_at), column((r) => r.ends_at), column((r) => r.next_run_at), now,
    ],
  )
  return new Set(inserted.map((row) => row.id))
}

/** enroll()'s own path for one entry, under a savepoint: a refusal is reported, and its page goes on. */
async function oneAtATime(db: Executor, options: ResolvedOptions, entry: CheckedEntry, result: EnrollManyResult): Promise<void> {
  await db.query(`SAVEPOINT ${ONE}`)
  try {
    const enrolled = await enrollOn(db, options, entry.subscriptionId, entry.settings, entry.nextRunAt)
    await db.query(`RELEASE SAVEPOINT ${ONE}`)
    result[enrolled.created ? 'created' : 'updated'] += 1
  } catch (error) {
    if (!isSchedulerError(error)) throw error
    await db.query(`ROLLBACK TO SAVEPOINT ${ONE}`)
    result.refused.push({ subscriptionId: entry.subscriptionId, error })
  }
}

/** An entry whose row it creates or changes, with that row as it is (a new row: as its INSERT would make it). */
interface Change {
  entry: CheckedEntry
  row: ScheduleRow
  created: boolean
}

/**
 * One page of entries, in one transaction (`db`). Its rows already enrolled are locked for it; one
 * locked elsewhere (a claim under way, a control), held by a job, or whose data is bad takes
 * enroll()'s own path, one at a time, which waits for it or refuses it with its reason.
 */
async function enrolPage(db: Executor, options: ResolvedOptions, page: readonly CheckedEntry[], result: EnrollManyResult, warnings: EnrolmentWarnings): Promise<void> {
  const now = options.clock.now()
  const ids = page.map((entry) => entry.subscriptionId)
  const existing = new Map((await readScheduleRows(db, ids, true)).map((row) => [row.subscription_id, row]))
  const hosts = await hostRows(db, ids)
  const changes: Change[] = []
  const oneByOne: CheckedEntry[] = []
  for (const entry of page) {
    const row = existing.get(entry.subscriptionId)
    const host = hosts.get(entry.subscriptionId)
    if (row && describeSettings(entry.settings, row) === '' && hasFirstSlot(row, entry.nextRunAt)) result.unchanged += 1
    else if (row && !isHeld(row)) changes.push({ entry, row, created: false })
    else if (row || !host) oneByOne.push(entry) // a host row gone meanwhile: enroll() says so
    else changes.push({ entry, row: newRow(entry.subscriptionId, host), created: true })
  }
  const timed = changes.filter((c) => c.entry.nextRunAt !== undefined || !staysUnscheduled(c.row, c.entry.settings)).map((c) => c.row)
  const spent = await spentDaysOf(db, options, timed, now)
  const planned: (Change & PlannedEnrolment)[] = []
  for (const change of changes) {
    try {
      planned.push({ ...change, ...plannedEnrolment(options, change.row, change.entry.settings, now, spent.get(change.entry.subscriptionId) ?? [], change.created, change.entry.nextRunAt) })
    } catch (error) {
      if (!isSchedulerError(error)) throw error
      result.refused.push({ subscriptionId: change.entry.subscriptionId, error })
    }
  }
  const fresh = planned.filter((p) => p.created)
  const inserted = await insertRows(db, fresh.map((p) => p.written), now)
  const updates = planned.filter((p) => !p.created)
  await writeScheduleRows(db, updates.map((p) => p.written), now)
  await recordHistory(db, updates.flatMap((p) => (p.history ? [p.history] : [])), now)
  result.created += inserted.size
  result.updated += updates.length
  const behind = updates.filter((p) => p.behind)
  if (behind.length > 0) {
    const first = behind.slice(0, 3).map((p) => `${p.entry.subscriptionId}: ${p.behind}`).join('; ')
    options.logger.warn(`enrollMany(): ${behind.length} subscription${behind.length === 1 ? '' : 's'} had a past slot left behind by the new settings, not called (each said in its history): ${first}${behind.length > 3 ? '; …' : ''} ${LEFT_BEHIND_ADVICE}`)
  }
  for (const p of planned) {
    // Enrolled by a sweep since the page read it: enroll()'s path gives it its settings.
    if (p.created && !inserted.has(p.entry.subscriptionId)) oneByOne.push(p.entry)
    else if (changesSchedule(p.entry.settings, p.entry.nextRunAt)) warnings.add(p.entry, p.written, now, p.created || p.entry.settings.timezone !== p.row.timezone)
  }
  for (const entry of oneByOne) await oneAtATime(db, options, entry, result)
}

/**
 * Enrols every entry: creates the rows missing, with their settings, and gives rows already
 * enrolled the settings given, as enroll() does for each. Every entry is checked before anything
 * is written, and so is every id (a row of `subscriptions`). Pages of 1,000 entries commit one by
 * one (or all with the host's transaction, given `db`); calling it again with the same entries
 * changes nothing.
 */
export async function enrollMany(pool: Pool, options: ResolvedOptions, given: unknown, manyOptions?: unknown): Promise<EnrollManyResult> {
  const entries = checkEntries(given)
  const host = checkManyOptions(manyOptions).db
  const db = host === undefined ? pool : isPool(host) ? host : toExecutor(host)
  await assertKnown(db, entries)
  const result: EnrollManyResult = { created: 0, updated: 0, unchanged: 0, refused: [] }
  const warnings = new EnrolmentWarnings(options, await registeredSchedule(db, options))
  for (let from = 0; from < entries.length; from += PAGE) {
    const page = entries.slice(from, from + PAGE)
    if (isPool(db)) await withTransaction(db, (tx) => enrolPage(tx, options, page, result, warnings))
    else await enrolPage(db, options, page, result, warnings)
  }
  warnings.flush()
  const order = new Map(entries.map((entry) => [entry.subscriptionId, entry.index]))
  result.refused.sort((a, b) => order.get(a.subscriptionId)! - order.get(b.subscriptionId)!)
  return result
}
