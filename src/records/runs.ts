/**
 * Run history: one row per sweep in `subscription_scheduler.runs`, with what it claimed and how
 * those subscriptions settled. A run is finished once its sweep is over and every job it
 * enqueued has settled, whichever instance processed them.
 */
import type { Executor } from '../db/executor.js'
import { NotFoundError } from '../errors.js'
import { TABLES } from '../db/names.js'
import { latenessPercentile } from './lateness.js'
import type { RunTrigger } from '../db/names.js'

export interface RunSummary {
  runId: string
  trigger: RunTrigger
  startedAt: Date
  /** When the sweep had claimed (and enqueued) everything it was going to. */
  sweepFinishedAt: Date | null
  finishedAt: Date | null
  /** Subscriptions the run enqueued. */
  processed: number
  successful: number
  failed: number
  /** Failed attempts that were scheduled for another try. */
  retried: number
  /**
   * Enqueued, then found deleted, paused or inactive before their call, or their slot found
   * already recorded complete; or, on its last attempt, cancelled by `stop()` (its row is free at
   * once, and the next sweep or rescue calls it again in a run of its own).
   */
  skipped: number
  durationMs: number | null
  /**
   * The subscription of a run of one: `runSubscription()` (trigger `single`) or `backfill()`; null
   * for the runs that sweep many, and for a run of one recorded before this version.
   */
  subscriptionId: string | null
  /**
   * Fire lateness of the run's calls (from each call's slot to its start), in ms: median and
   * 95th percentile, estimated from a histogram of fixed buckets (interpolated within a bucket,
   * and never past the largest lateness seen: close, not exact; the last bucket is open, so a
   * percentile that falls in it, an hour or more, reads 3,600,000). Null before the run made a call.
   */
  latenessP50Ms: number | null
  latenessP95Ms: number | null
  error: string | null
}

/** A run that has finished, as the waiting `runNow()`, `retryFailed()`, `runSubscription()` and `backfill()` resolve with. */
export type FinishedRunSummary = RunSummary & { finishedAt: Date; durationMs: number }

const RUNS = TABLES.runs

// A run is finished when its sweep is over and every row it enqueued is accounted for. Checked
// on the run's row, locked, so of two instances settling the last rows at once exactly one
// sees it, and gets the row back to announce.
const IS_SETTLED = `sweep_finished_at IS NOT NULL AND successful + failed + skipped >= claimed`

export interface RunRow {
  id: string
  trigger: RunTrigger
  started_at: Date
  sweep_finished_at: Date | null
  finished_at: Date | null
  claimed: number
  successful: number
  failed: number
  retried: number
  skipped: number
  lateness_histogram: number[] | null
  lateness_max_ms: number | null
  error: string | null
  subscription_id: string | null
}

export function toSummary(row: RunRow): RunSummary {
  const histogram = row.lateness_histogram ?? []
  return {
    runId: row.id,
    trigger: row.trigger,
    startedAt: row.started_at,
    sweepFinishedAt: row.sweep_finished_at,
    finishedAt: row.finished_at,
    processed: row.claimed,
    successful: row.successful,
    failed: row.failed,
    retried: row.retried,
    skipped: row.skipped,
    durationMs: row.finished_at ? row.finished_at.getTime() - row.started_at.getTime() : null,
    subscriptionId: row.subscription_id ?? null,
    latenessP50Ms: latenessPercentile(histogram, 0.5, row.lateness_max_ms ?? null),
    latenessP95Ms: latenessPercentile(histogram, 0.95, row.lateness_max_ms ?? null),
    error: row.error,
  }
}

/**
 * Records a run as started; `subscriptionId` for a run of one subscription (`runSubscription()`,
 * `backfill()`). Its sweep is alive from its start by the database's clock, as the rescue
 * measures its silence: `started_at` is the app's clock, which may lag the database's (a skewed
 * host, a test's manual clock), and would show a sweep just begun as silent until its first heartbeat.
 */
export async function createRun(db: Executor, trigger: RunTrigger, now: Date, subscriptionId: string | null = null): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO ${RUNS} (trigger, started_at, sweep_heartbeat_at, subscription_id) VALUES ($1, $2, now(), $3) RETURNING id`,
    [trigger, now, subscriptionId],
  )
  return rows[0]!.id
}

/**
 * Shows a sweep is alive, by the database's own time (a sweep's `now` is fixed when it starts, a
 * heartbeat must move); never one that `stop()` left to the rescue (abandonSweep), which a
 * heartbeat already on its way, or a catch-up claim settled later, would otherwise revive.
 */
const ALIVE = `sweep_heartbeat_at = CASE WHEN sweep_heartbeat_at = '-infinity' THEN sweep_heartbeat_at ELSE now() END`

/**
 * Adds a sweep's page to its run, and shows the sweep is alive: only while the sweep is open. A
 * sweep the rescue closed as dead (it went silent: a long outage, a stalled instance) throws,
 * and its page rolls back: the rows stay due for the rescue's run, never counted in two runs.
 */
export async function addSweptPage(db: Executor, runId: string, count: number): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE ${RUNS} SET claimed = claimed + $2, ${ALIVE} WHERE id = $1 AND sweep_finished_at IS NULL`,
    [runId, count],
  )
  if (rowCount === 0) {
    throw new Error(`The sweep of run ${runId} was closed by a rescue pass, which found it silent for longer than interruptedSweepAfterSeconds; the rows it had not claimed go to the rescue's run.`)
  }
}

/**
 * Shows a sweep is alive between pages (enrolling, or waiting on a slow claim), so that the
 * rescue does not take it for dead. Nothing once the sweep is closed.
 */
export async function sweepHeartbeat(db: Executor, runId: string): Promise<void> {
  await db.query(`UPDATE ${RUNS} SET ${ALIVE} WHERE id = $1 AND sweep_finished_at IS NULL`, [runId])
}

/**
 * Leaves a sweep that `stop()` cut short for the next rescue pass (any instance's, within a
 * minute, or this one's at its next start): it is shown silent at once, so the rescue closes it
 * and sweeps the rows it had not reached, as for an instance that died.
 */
export async function abandonSweep(db: Executor, runId: string): Promise<void> {
  await db.query(`UPDATE ${RUNS} SET sweep_heartbeat_at = '-infinity' WHERE id = $1 AND sweep_finished_at IS NULL`, [runId])
}

/** Adds claims made while settling (a slot caught up) to the run, and shows it is alive. */
export async function addClaimed(db: Executor, runId: string, count: number): Promise<void> {
  await db.query(`UPDATE ${RUNS} SET claimed = claimed + $2, ${ALIVE} WHERE id = $1`, [runId, count])
}

/** Finishes the given runs that are settled; returns those this call finished. */
export async function finishSettled(db: Executor, runIds: string[], now: Date): Promise<RunSummary[]> {
  const { rows } = await db.query<RunRow>(
    `UPDATE ${RUNS} SET finished_at = $2 WHERE id = ANY($1::uuid[]) AND finished_at IS NULL AND ${IS_SETTLED} RETURNING *`,
    [runIds, now],
  )
  return rows.map(toSummary)
}

/** A sweep's last sign of life: its last beat, or its start if it never beat. */
const LAST_SIGN_OF_LIFE = `COALESCE(sweep_heartbeat_at, started_at)`

/**
 * Whether run `runId`'s sweep is still open, and how many seconds are left (negative once past)
 * before it has been silent for `silenceSeconds` on the database's clock. Null for an unknown run.
 */
export async function sweepSilence(db: Executor, runId: string, silenceSeconds: number): Promise<{ open: boolean; left: number } | null> {
  const { rows: [run] } = await db.query<{ open: boolean; left: number }>(
    `SELECT finished_at IS NULL AND sweep_finished_at IS NULL AS open,
            EXTRACT(EPOCH FROM ${LAST_SIGN_OF_LIFE} + make_interval(secs => $2) - now())::float8 AS left
       FROM ${RUNS} WHERE id = $1`,
    [runId, silenceSeconds],
  )
  return run ?? null
}

/**
 * Closes the sweeps of runs that went silent: their instance died mid-sweep. The run keeps what
 * it enqueued and can finish; the rows it never claimed are still due. Returns their summaries.
 */
export async function closeSilentSweeps(db: Executor, now: Date, silenceSeconds: number): Promise<RunSummary[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE ${RUNS}
        SET sweep_finished_at = $1,
            error = COALESCE(error, 'The sweep was interrupted (its instance stopped or crashed); the rows it left due go to the next sweep: a rescue run, or, for a cron run, that occurrence''s sweep delivered again (a run of its own).')
      WHERE finished_at IS NULL AND sweep_finished_at IS NULL
        AND ${LAST_SIGN_OF_LIFE} < now() - make_interval(secs => $2)
     RETURNING id`,
    [now, silenceSeconds],
  )
  const ids = rows.map((r) => r.id)
  const finished = new Map((await finishSettled(db, ids, now)).map((run) => [run.runId, run]))
  return await Promise.all(ids.map(async (id) => finished.get(id) ?? (await getRun(db, id))))
}

/**
 * Finishes runs whose counters already add up but that nobody finished: the last of their rows
 * was settled without a run update that could see it (its subscription deleted, say). A safety
 * net for the rescue tick; returns the runs it finished.
 */
export async function finishForgottenRuns(db: Executor, now: Date): Promise<RunSummary[]> {
  const { rows } = await db.query<RunRow>(
    `UPDATE ${RUNS} SET finished_at = $1 WHERE finished_at IS NULL AND ${IS_SETTLED} RETURNING *`,
    [now],
  )
  return rows.map(toSummary)
}

/** Records what went wrong in a run that goes on (its enrolment failed, say), unless it has an error already. */
export async function noteRunError(db: Executor, runId: string, error: string): Promise<void> {
  await db.query(`UPDATE ${RUNS} SET error = COALESCE(error, $2) WHERE id = $1`, [runId, error])
}

/** Marks the sweep over. Returns the run if that settled it (nothing was outstanding). */
export async function finishSweep(db: Executor, runId: string, now: Date, error?: string): Promise<RunSummary | null> {
  await db.query(
    `UPDATE ${RUNS} SET sweep_finished_at = $2, error = COALESCE($3, error) WHERE id = $1`,
    [runId, now, error ?? null],
  )
  const [finished] = await finishSettled(db, [runId], now)
  return finished ?? null
}

export async function getRun(db: Executor, runId: string): Promise<RunSummary> {
  const { rows } = await db.query<RunRow>(`SELECT * FROM ${RUNS} WHERE id = $1`, [runId])
  if (!rows[0]) throw new NotFoundError(`No run with id ${runId}.`, { runId })
  return toSummary(rows[0])
}
