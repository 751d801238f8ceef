/**
 * What a settle adds to a run: its outcome counters and the lateness of its calls, added in one
 * statement that also finishes the run when they settle it (records/runs.ts holds the run's life).
 */
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import type { LatenessTally } from './lateness.js'
import { toSummary } from './runs.js'
import type { RunRow, RunSummary } from './runs.js'

const RUNS = TABLES.runs

export interface OutcomeCounts {
  successful: number
  failed: number
  retried: number
  skipped: number
}

/** SQL expressions for what a settle adds to a run. */
export interface RunAdditions {
  run: string
  successful: string
  failed: string
  retried: string
  skipped: string
  /** Histogram counts to add, an int[] (records/lateness.ts). */
  lateness: string
  /** The largest lateness among them, an int (NULL: none). */
  latenessMax: string
  now: string
}

/**
 * Adds outcomes (and the lateness of their calls) to a run, and finishes it if they settle it,
 * in one statement; its rows carry `just_finished`. Composed into larger statements too
 * (settle-chunk.ts), hence the expressions. The run row is locked `FOR NO KEY UPDATE`, as an
 * UPDATE of it would be: `FOR UPDATE` also waits for the key-share locks that inserts into
 * `run_skips` (whose foreign key names the run) hold, and two settles that had each inserted a
 * skip of the same run deadlocked.
 */
export function addOutcomesSql(a: RunAdditions, before = 'before'): { lock: string; update: string } {
  return {
    lock: `${before} AS (SELECT id, finished_at FROM ${RUNS} WHERE id = ${a.run} FOR NO KEY UPDATE)`,
    update: `UPDATE ${RUNS} r
     SET successful = r.successful + ${a.successful}, failed = r.failed + ${a.failed}, retried = r.retried + ${a.retried},
         skipped = r.skipped + ${a.skipped},
         lateness_histogram = CASE WHEN cardinality(${a.lateness}) = 0 THEN r.lateness_histogram ELSE
           (SELECT array_agg(COALESCE(x, 0) + COALESCE(y, 0) ORDER BY i) FROM unnest(r.lateness_histogram, ${a.lateness}) WITH ORDINALITY AS t(x, y, i)) END,
         lateness_max_ms = GREATEST(r.lateness_max_ms, ${a.latenessMax}),
         finished_at = COALESCE(r.finished_at, CASE WHEN r.sweep_finished_at IS NOT NULL
           AND r.successful + ${a.successful} + r.failed + ${a.failed} + r.skipped + ${a.skipped} >= r.claimed THEN ${a.now} END)
    FROM ${before}
   WHERE r.id = ${before}.id
  RETURNING r.*, (${before}.finished_at IS NULL AND r.finished_at IS NOT NULL) AS just_finished`,
  }
}

const ADD_OUTCOMES = (() => {
  const { lock, update } = addOutcomesSql({ run: '$1', successful: '$2', failed: '$3', retried: '$4', skipped: '$5', lateness: '$6::int[]', latenessMax: '$8::int', now: '$7::timestamptz' })
  return `WITH ${lock} ${update}`
})()

/** The summary of a run row returned by a statement built with addOutcomesSql, if it finished the run. */
export function justFinished(row: (RunRow & { just_finished: boolean }) | undefined): RunSummary | null {
  return row?.just_finished ? toSummary(row) : null
}

/** Adds outcomes to a run's counters. Returns the run if they finished it. */
export async function addOutcomes(db: Executor, runId: string, counts: OutcomeCounts, now: Date, lateness?: LatenessTally): Promise<RunSummary | null> {
  const { rows } = await db.query<RunRow & { just_finished: boolean }>(ADD_OUTCOMES, [
    runId, counts.successful, counts.failed, counts.retried, counts.skipped, lateness?.counts ?? [], now, lateness?.maxMs ?? null,
  ])
  return justFinished(rows[0])
}

/**
 * Locks runs, in the one order every writer of several runs takes them (a settle's, by id): a
 * claim that wrote its own run, then the older runs it took rows over from, deadlocked with a
 * settle of those runs (a trial of concurrent controls saw a dozen). Later writes of them in the
 * same transaction then wait for nothing.
 */
export async function lockRuns(db: Executor, runIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(runIds)].sort()
  if (ids.length > 1) await db.query(`SELECT 1 FROM ${RUNS} WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`, [ids])
}
