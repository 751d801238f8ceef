/**
 * Run history: one row per sweep in `subscription_scheduler.runs`, with what it claimed and how
 * those subscriptions settled. A run is finished once its sweep is over and every job it
 * enqueued has settled, whichever instance processed them.
 */
import type { Executor } from '../db/executor.js'
import { sleep } from '../observe/clock.js'
import { NotFoundError } from '../errors.js'
import { TABLES } from '../db/names.js'
import type { RunTrigger } from '../db/names.js'
import { isTransientDbError } from '../db/transient.js'

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
  /** Enqueued, then found deleted, paused or inactive before their call. */
  skipped: number
  durationMs: number | null
  /**
   * Fire lateness of the run's calls (from each call's slot to its start), in ms: median and
   * 95th percentile. Null before the run made a call.
   */
  latenessP50Ms: number | null
  latenessP95Ms: number | null
  error: string | null
}

export interface OutcomeCounts {
  successful: number
  failed: number
  retried: number
  skipped: number
}

const RUNS = TABLES.runs

// Settled when the sweep is over and every enqueued job is accounted for. Evaluated inside the
// UPDATE (row-locked), so of two instances settling the last jobs at once exactly one sees it,
// and gets the row back to announce.
const SETTLE = `UPDATE ${RUNS} SET finished_at = $2
   WHERE id = $1 AND finished_at IS NULL AND sweep_finished_at IS NOT NULL
     AND successful + failed + skipped >= claimed
  RETURNING *`

interface RunRow {
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
  error: string | null
}

function toSummary(row: RunRow): RunSummary {
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
    latenessP50Ms: null,
    latenessP95Ms: null,
    error: row.error,
  }
}

export async function createRun(db: Executor, trigger: RunTrigger, now: Date): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO ${RUNS} (trigger, started_at) VALUES ($1, $2) RETURNING id`,
    [trigger, now],
  )
  return rows[0]!.id
}

/** Adds a page's claims to the run, and shows the sweep is alive. */
export async function addClaimed(db: Executor, runId: string, count: number): Promise<void> {
  // The database's own time: a sweep's `now` is fixed when it starts, a heartbeat must move.
  await db.query(`UPDATE ${RUNS} SET claimed = claimed + $2, sweep_heartbeat_at = now() WHERE id = $1`, [runId, count])
}

/**
 * Closes the sweeps of runs that went silent: their instance died mid-sweep. The run keeps what
 * it enqueued and can finish; the rows it never claimed are still due. Returns their summaries.
 */
export async function closeSilentSweeps(db: Executor, now: Date, silenceSeconds: number): Promise<RunSummary[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE ${RUNS}
        SET sweep_finished_at = $1,
            error = COALESCE(error, 'The sweep was interrupted (its instance stopped or crashed); a rescue run took the rows it left due.')
      WHERE finished_at IS NULL AND sweep_finished_at IS NULL
        AND COALESCE(sweep_heartbeat_at, started_at) < now() - make_interval(secs => $2)
     RETURNING id`,
    [now, silenceSeconds],
  )
  const settled: RunSummary[] = []
  for (const { id } of rows) {
    const run = await settle(db, id, now)
    settled.push(run ?? (await getRun(db, id)))
  }
  return settled
}

async function settle(db: Executor, runId: string, now: Date): Promise<RunSummary | null> {
  const { rows } = await db.query<RunRow>(SETTLE, [runId, now])
  return rows[0] ? toSummary(rows[0]) : null
}

/** Marks the sweep over. Returns the run if that settled it (nothing was outstanding). */
export async function finishSweep(db: Executor, runId: string, now: Date, error?: string): Promise<RunSummary | null> {
  await db.query(
    `UPDATE ${RUNS} SET sweep_finished_at = $2, error = COALESCE($3, error) WHERE id = $1`,
    [runId, now, error ?? null],
  )
  return await settle(db, runId, now)
}

/** Adds outcomes to a run's counters. Returns the run if they settled it. */
export async function recordOutcomes(db: Executor, runId: string, counts: OutcomeCounts, now: Date): Promise<RunSummary | null> {
  await db.query(
    `UPDATE ${RUNS} SET successful = successful + $2, failed = failed + $3, retried = retried + $4, skipped = skipped + $5
      WHERE id = $1`,
    [runId, counts.successful, counts.failed, counts.retried, counts.skipped],
  )
  return await settle(db, runId, now)
}

export async function getRun(db: Executor, runId: string): Promise<RunSummary> {
  const { rows } = await db.query<RunRow>(`SELECT * FROM ${RUNS} WHERE id = $1`, [runId])
  if (!rows[0]) throw new NotFoundError(`No run with id ${runId}.`)
  return toSummary(rows[0])
}

export async function listRuns(db: Executor, limit: number): Promise<RunSummary[]> {
  const { rows } = await db.query<RunRow>(`SELECT * FROM ${RUNS} ORDER BY started_at DESC, id LIMIT $1`, [limit])
  return rows.map(toSummary)
}

/**
 * Resolves with the run once it has finished. Polls the run row: the jobs may settle on any
 * instance, and the row is where they all meet.
 */
export async function waitForRun(
  db: Executor,
  runId: string,
  options: { pollMs?: number; signal?: AbortSignal } = {},
): Promise<RunSummary> {
  const pollMs = options.pollMs ?? 200
  for (;;) {
    options.signal?.throwIfAborted()
    try {
      const run = await getRun(db, runId)
      if (run.finishedAt) return run
    } catch (error) {
      // The database is restarting: the run goes on without us; keep asking.
      if (!isTransientDbError(error)) throw error
    }
    await sleep(pollMs, options.signal)
  }
}
