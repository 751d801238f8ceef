/**
 * A claim that takes a row from another job (its lease expired: the job was lost with its
 * instance) settles it, for the run that enqueued it, as skipped: that job can no longer record
 * an outcome for the row, so without this its run would never add up. Done in the claim's own
 * transaction, once per row taken over.
 */
import type { PoolClient } from 'pg'
import { addOutcomes } from '../records/run-outcomes.js'
import type { RunSummary } from '../records/runs.js'

export interface ClaimedRow {
  id: string
  subscription_id: string
  scheduled_for: Date
  /** The job the claim gave the row to. */
  job_id: string
  previous_run_id: string | null
  previous_job_id: string | null
  /** A `failed` claim's only: the row's status before it. */
  previous_status?: string | undefined
  last_key: string
  last_id: string
}

/**
 * The runs the claimed rows were taken over from, with how many rows each: every row that had an
 * owner. An expired claim always had one (an older version named no job on the row).
 */
export function takenOverFrom(rows: ClaimedRow[], expired: boolean): Map<string, number> {
  const skipped = new Map<string, number>()
  for (const row of rows) {
    if (row.previous_run_id && (row.previous_job_id || expired)) skipped.set(row.previous_run_id, (skipped.get(row.previous_run_id) ?? 0) + 1)
  }
  return skipped
}

/** Counts the rows taken over (takenOverFrom()) as skipped in their previous runs, and returns the runs that finished by it. */
export async function countTakeovers(client: PoolClient, skipped: Map<string, number>, now: Date): Promise<RunSummary[]> {
  const finished: RunSummary[] = []
  // In the order the claim locked them (lockRuns): by id.
  for (const [runId, n] of [...skipped].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const run = await addOutcomes(client, runId, { successful: 0, failed: 0, retried: 0, skipped: n }, now)
    if (run) finished.push(run)
  }
  return finished
}
