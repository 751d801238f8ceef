/**
 * The common chunk: every call succeeded. Its rows, and the counters and lateness of the runs
 * they belong to (and each run's end, if this chunk settled it), are written by one statement:
 * no transaction to open and commit, no round trip per run. The runs are locked only after the
 * rows are written, and in a fixed order.
 */
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import { justFinished } from '../records/run-outcomes.js'
import type { RunRow, RunSummary } from '../records/runs.js'
import type { LatenessTally } from '../records/lateness.js'
import type { Success } from './outcome.js'
import { COMPLETE_ROWS, rowParams, successValues } from './row-writes.js'

const RUNS = TABLES.runs

// $1, $2: rows (completion values); $3: now; $4: jsonb { runId: [lateness histogram counts] };
// $5: jsonb { runId: largest lateness }.
const SETTLE_SUCCESSES = `
  WITH done AS (
    ${COMPLETE_ROWS}
    RETURNING sp.id, sp.run_id
  ), tally AS (
    SELECT run_id, count(*)::int AS n FROM done GROUP BY run_id
  ), locked AS (
    SELECT r.id, r.finished_at FROM ${RUNS} r WHERE r.id IN (SELECT run_id FROM tally) ORDER BY r.id FOR NO KEY UPDATE
  ), counted AS (
    UPDATE ${RUNS} r
       SET successful = r.successful + t.n,
           lateness_histogram = CASE WHEN ($4::jsonb -> r.id::text) IS NULL THEN r.lateness_histogram ELSE
             (SELECT array_agg(COALESCE(x, 0) + COALESCE(y::int, 0) ORDER BY i)
                FROM unnest(r.lateness_histogram, ARRAY(SELECT jsonb_array_elements_text($4::jsonb -> r.id::text))) WITH ORDINALITY AS h(x, y, i)) END,
           lateness_max_ms = GREATEST(r.lateness_max_ms, ($5::jsonb ->> r.id::text)::int),
           finished_at = COALESCE(r.finished_at, CASE WHEN r.sweep_finished_at IS NOT NULL
             AND r.successful + t.n + r.failed + r.skipped >= r.claimed THEN $3::timestamptz END)
      FROM tally t, locked l
     WHERE r.id = t.run_id AND l.id = r.id
    RETURNING r.*, (l.finished_at IS NULL AND r.finished_at IS NOT NULL) AS just_finished
  )
  SELECT NULL::jsonb AS run, string_agg(id::text, ',') AS done_ids FROM done
  UNION ALL
  SELECT to_jsonb(counted.*), NULL FROM counted`

interface Row {
  run: (Omit<RunRow, 'started_at' | 'sweep_finished_at' | 'finished_at'> & { started_at: string; sweep_finished_at: string | null; finished_at: string | null; just_finished: boolean }) | null
  /** Comma-separated: a text array's parse cost the client about 2.5 µs an id (bench/RESULTS.md). */
  done_ids: string | null
}

export async function completeInOneGo(
  db: Executor,
  successes: Success[],
  now: Date,
  lateness: Map<string, LatenessTally>,
): Promise<{ done: Set<string>; finishedRuns: RunSummary[] }> {
  const params = rowParams(successes.map((o) => ({ id: o.row.id, jobId: o.jobId, o })), ({ o }) => successValues(o))
  const byRun = [...lateness]
  const counts = JSON.stringify(Object.fromEntries(byRun.map(([runId, t]) => [runId, t.counts])))
  const maxima = JSON.stringify(Object.fromEntries(byRun.map(([runId, t]) => [runId, t.maxMs])))
  const { rows } = await db.query<Row>(SETTLE_SUCCESSES, [...params, now, counts, maxima])
  const doneIds = rows.find((r) => r.run === null)?.done_ids
  const done = new Set(doneIds ? doneIds.split(',') : [])
  const finishedRuns: RunSummary[] = []
  for (const { run } of rows) {
    if (!run) continue
    const summary = justFinished({
      ...run,
      started_at: new Date(run.started_at),
      sweep_finished_at: run.sweep_finished_at === null ? null : new Date(run.sweep_finished_at),
      finished_at: run.finished_at === null ? null : new Date(run.finished_at),
    })
    if (summary) finishedRuns.push(summary)
  }
  return { done, finishedRuns }
}
