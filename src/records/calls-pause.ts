/**
 * Calls paused fleet-wide: an operator's switch for an incident at the worker service, a
 * migration of it, or a bad deploy, kept in the database so that every instance obeys it at
 * once, without a redeploy. While it is on:
 * - no sweep claims (scheduled ones pass, saying so once; one asked for is refused with
 *   `CallsPausedError`), nor does any run on demand or backfill start;
 * - no instance calls the worker: a page job that starts, and rows waiting their turn in one,
 *   let their rows go with their slot (counted skipped), so the next sweep after the resume
 *   takes them. A call already in flight finishes, and its outcome is recorded.
 * Nothing else stops: enrolment, the controls, the rescue's bookkeeping, the dashboard.
 */
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import { CallsPausedError } from '../errors.js'

/** A fleet-wide pause of calls: since when, and its note. */
export interface CallsPause {
  pausedAt: Date
  note: string | null
}

/** As SQL, whether calls are paused for the scope given as the parameter `scope` (`$2`, say). */
export function callsPausedSql(scope: string): string {
  return `EXISTS (SELECT 1 FROM ${TABLES.callsPause} WHERE scope = ${scope})`
}

/** The pause on `scope`, or null; null too on a database an older version migrated (no pause table yet). */
export async function readCallsPause(db: Executor, scope: string): Promise<CallsPause | null> {
  try {
    const { rows } = await db.query<{ paused_at: Date; note: string | null }>(`SELECT paused_at, note FROM ${TABLES.callsPause} WHERE scope = $1`, [scope])
    const row = rows[0]
    return row ? { pausedAt: row.paused_at, note: row.note } : null
  } catch (error) {
    if ((error as { code?: unknown }).code === UNDEFINED_TABLE) return null
    throw error
  }
}

const UNDEFINED_TABLE = '42P01'

/** Pauses calls; a pause already on stays as it is (its time and note), and is returned. */
export async function pauseCalls(db: Executor, scope: string, note: string | null, now: Date): Promise<CallsPause> {
  await db.query(`INSERT INTO ${TABLES.callsPause} (scope, paused_at, note) VALUES ($1, $2, $3) ON CONFLICT (scope) DO NOTHING`, [scope, now, note])
  changedAt = Date.now()
  const pause = await readCallsPause(db, scope)
  // Resumed between the two statements by another request: paused again, as asked.
  return pause ?? (await pauseCalls(db, scope, note, now))
}

/** Lifts the pause; the pause lifted, or null when calls were not paused. */
export async function resumeCalls(db: Executor, scope: string): Promise<CallsPause | null> {
  const { rows } = await db.query<{ paused_at: Date; note: string | null }>(`DELETE FROM ${TABLES.callsPause} WHERE scope = $1 RETURNING paused_at, note`, [scope])
  changedAt = Date.now()
  const row = rows[0]
  return row ? { pausedAt: row.paused_at, note: row.note } : null
}

/**
 * When this process last paused or resumed calls (ms since the epoch; 0: never). A job's read of
 * its waiting rows from before it is stale: a pause made here holds the next call at once, not
 * after the next re-read (revocations.ts). Other processes' pauses hold calls within a re-read.
 */
export function callsPauseChangedAt(): number {
  return changedAt
}

let changedAt = 0

/** `since 2026-12-06T06:00:00.000Z ("worker migration, ticket 88")`. */
export function describePause(pause: CallsPause): string {
  return `since ${pause.pausedAt.toISOString()}${pause.note ? ` (${JSON.stringify(pause.note)})` : ''}`
}

/** The error of a run asked for while calls are paused. */
export function callsPausedError(pause: CallsPause, what: string): CallsPausedError {
  return new CallsPausedError(
    `Cannot ${what}: calls are paused fleet-wide ${describePause(pause)}, so it would call nobody. ` +
      'resumeCalls() lifts the pause (admin: POST /calls/resume; CLI: resume-calls). The subscriptions due meanwhile are called by the next sweep after it; ' +
      'a run or backfill asked for now is not: ask again then.',
    pause,
  )
}

/** @throws {CallsPausedError} when calls are paused for `scope`. */
export async function assertCallsNotPaused(db: Executor, scope: string, what: string): Promise<void> {
  const pause = await readCallsPause(db, scope)
  if (pause) throw callsPausedError(pause, what)
}
