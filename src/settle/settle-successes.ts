/**
 * The common batch: every call succeeded. Its rows, and the counters (and the end, if this
 * batch was the last) of the runs its jobs belong to, are written by one statement: no
 * transaction to open and commit, no round trip per run. A batch with any failure goes through
 * settle-batch.ts, which also keeps the failure history and the retry jobs.
 */
import type { JobResult } from 'pg-boss'
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import type { ProcessorContext } from '../process/process-batch.js'
import type { Job, Outcome } from '../process/process-one.js'
import { getRun } from '../records/runs.js'
import type { Settlement } from './settle-batch.js'
import { announceSuccess } from './settle-batch.js'
import { COMPLETE_ROWS, completionValues, keyedValues, VALUES } from './row-writes.js'

type Success = Extract<Outcome, { kind: 'success' }>

const SETTLE_SUCCESSES = `
  WITH done AS (
    ${COMPLETE_ROWS}
    RETURNING sp.id, (${VALUES} ->> 3)::uuid AS run_id
  ), ok AS (
    SELECT run_id, count(*)::int AS n FROM done GROUP BY run_id
  ), tally AS (
    -- Every job of the batch counts once in its run: successful if its row was written, else
    -- skipped (paused or deleted while its call was in flight, or never begun).
    SELECT j.key::uuid AS run_id, COALESCE(ok.n, 0) AS ok, j.value::int - COALESCE(ok.n, 0) AS skipped
      FROM jsonb_each_text($4::jsonb) AS j LEFT JOIN ok ON ok.run_id = j.key::uuid
  ), locked AS (
    SELECT r.id, r.finished_at FROM ${TABLES.runs} r JOIN tally t ON t.run_id = r.id FOR UPDATE OF r
  ), counted AS (
    UPDATE ${TABLES.runs} r
       SET successful = r.successful + t.ok, skipped = r.skipped + t.skipped,
           finished_at = COALESCE(r.finished_at, CASE WHEN r.sweep_finished_at IS NOT NULL
             AND r.successful + t.ok + r.failed + r.skipped + t.skipped >= r.claimed THEN $3::timestamptz END)
      FROM tally t, locked l
     WHERE r.id = t.run_id AND l.id = r.id
    RETURNING r.id, (l.finished_at IS NULL AND r.finished_at IS NOT NULL) AS just_finished
  )
  SELECT 'done' AS kind, id::text AS id FROM done
  UNION ALL
  SELECT 'finished', id::text FROM counted WHERE just_finished`

export async function settleSuccesses(ctx: ProcessorContext, db: Executor, jobs: Job[], outcomes: Success[], skipped: Job[]): Promise<Settlement> {
  const now = ctx.options.clock.now()
  const perRun: Record<string, number> = {}
  for (const job of [...outcomes.map((o) => o.job), ...skipped]) perRun[job.data.runId] = (perRun[job.data.runId] ?? 0) + 1
  const [ids, values] = keyedValues(
    outcomes.map((o) => o.completion),
    (c, i) => [...completionValues(c), outcomes[i]!.job.data.runId],
  )
  const { rows } = await db.query<{ kind: 'done' | 'finished'; id: string }>(SETTLE_SUCCESSES, [ids, values, now, JSON.stringify(perRun)])
  const done = new Set(rows.filter((r) => r.kind === 'done').map((r) => r.id))
  const finished = rows.filter((r) => r.kind === 'finished').map((r) => r.id)
  return {
    results: new Map<string, JobResult>(jobs.map((job) => [job.id, { id: job.id, status: 'completed' }])),
    announcements: outcomes.filter((o) => done.has(o.row.id)).map(announceSuccess),
    finishedRuns: await Promise.all(finished.map((runId) => getRun(db, runId))),
  }
}
