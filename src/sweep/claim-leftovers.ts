/**
 * What a claim page settles besides enqueueing its own jobs: rows it took over from an earlier
 * run (which must then stop waiting for them), and rows whose job the queue dropped as a
 * duplicate (which must not wait out the sweep's lease if that duplicate's original is ending).
 */
import type { PoolClient } from 'pg'
import type { ClaimBatchInput } from './claim.js'
import { recordOutcomes } from '../records/runs.js'

export interface ClaimedRow {
  id: string
  subscription_id: string
  scheduled_for: Date
  previous_run_id: string | null
  last_key: string
  last_id: string
}

/**
 * A rescued row whose job is gone (a new one was inserted) will never settle in the run that
 * claimed it before: that run counts it as skipped, so it can still finish. A row whose old job
 * lives on (the insert was dropped) stays with its old run.
 */
export async function releaseFromPreviousRuns(
  client: PoolClient,
  rows: ClaimedRow[],
  jobs: { id: string }[],
  inserted: Set<string>,
  input: ClaimBatchInput,
): Promise<void> {
  const released = new Map<string, number>()
  rows.forEach((row, i) => {
    if (row.previous_run_id && row.previous_run_id !== input.runId && inserted.has(jobs[i]!.id)) {
      released.set(row.previous_run_id, (released.get(row.previous_run_id) ?? 0) + 1)
    }
  })
  for (const [runId, skipped] of released) await recordOutcomes(client, runId, { successful: 0, failed: 0, retried: 0, skipped }, input.now)
}

/**
 * A row whose job was dropped has a live job for its slot already: that job settles it. But the
 * live job may be one whose row has just settled and that pg-boss is about to complete (a slot
 * that failed, and is due again at once): then no job is left. Such rows keep a short lease, so
 * the rescue looks at them again in minutes, not after the sweep's hour. This run did not count
 * them, so they go back to the run that awaits their outcome: for an expired claim the run that
 * claimed them before; for a due row (its last slot settled) none.
 */
export async function shortenDroppedLeases(client: PoolClient, rows: ClaimedRow[], input: ClaimBatchInput): Promise<void> {
  await client.query(
    `UPDATE subscription_processing sp
        SET lease_expires_at = $3::timestamptz + make_interval(secs => $4), run_id = d.previous
       FROM unnest($1::uuid[], $5::uuid[]) AS d(id, previous)
      WHERE sp.id = d.id AND sp.run_id = $2 AND sp.status = 'queued'`,
    [
      rows.map((r) => r.id),
      input.runId,
      input.now,
      input.droppedLeaseSeconds ?? input.leaseSeconds,
      rows.map((r) => (input.kind === 'expired' ? r.previous_run_id : null)),
    ],
  )
}
