/**
 * `catchUp: 'all'`: a subscription that missed several slots gets one call per slot, oldest
 * first. Each success whose next slot has already passed is claimed again at once, for that
 * slot, by a new job of the same run, in the transaction that recorded the success: the chain
 * goes on until the row is caught up, each call with its own slot and idempotency key.
 */
import type { ResolvedOptions } from '../config/options.js'
import { bossDb } from '../db/executor.js'
import type { Executor } from '../db/executor.js'
import { pageJob } from '../process/page-job.js'
import type { Success } from './outcome.js'
import type { SettleDeps } from './deps.js'

/** True for a success whose row is still behind: its next slot is not ahead of now. */
export function isBehind(options: ResolvedOptions, o: Success, now: Date): boolean {
  return options.catchUp === 'all' && o.nextRunAt !== null && o.nextRunAt <= now
}

/**
 * Claims the rows of `behind` (completed by this transaction) for their next slot; returns, per
 * run, how many it claimed (to add to the run's `claimed`).
 */
export async function claimNextSlots(db: Executor, deps: SettleDeps, behind: Success[], now: Date): Promise<Map<string, number>> {
  if (behind.length === 0) return new Map()
  const { options } = deps
  const timings = { expireInSeconds: options.jobExpirySeconds, heartbeatSeconds: options.heartbeatSeconds }
  const jobs = new Map<string, ReturnType<typeof pageJob>>()
  for (const o of behind) if (!jobs.has(o.row.run_id)) jobs.set(o.row.run_id, pageJob(o.row.run_id, [], timings))
  const { rows } = await db.query<{ id: string; run_id: string }>(
    `UPDATE subscription_processing sp
        SET status = 'queued', scheduled_for = sp.next_run_at, attempts = 0, job_id = c.job_id,
            claimed_at = $4::timestamptz, lease_expires_at = $4::timestamptz + make_interval(secs => $5::float8), updated_at = $4::timestamptz
       FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS c(id, job_id, next_run_at)
      WHERE sp.id = c.id AND sp.status = 'completed' AND sp.job_id IS NULL AND sp.next_run_at = c.next_run_at
     RETURNING sp.id, sp.run_id`,
    [behind.map((o) => o.row.id), behind.map((o) => jobs.get(o.row.run_id)!.id), behind.map((o) => o.nextRunAt), now, options.claimLeaseSeconds],
  )
  const claimed = new Map<string, string[]>()
  for (const row of rows) claimed.set(row.run_id, [...(claimed.get(row.run_id) ?? []), row.id])
  const inserts = [...claimed].map(([runId, ids]) => ({ ...jobs.get(runId)!, data: { runId, ids } }))
  if (inserts.length > 0) await deps.boss.insert(deps.processQueue, inserts, { db: bossDb(db) })
  return new Map([...claimed].map(([runId, ids]) => [runId, ids.length]))
}
