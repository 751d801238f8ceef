/**
 * What a page job finds when it runs: of the rows it was given, those it still owns and may call
 * the worker for, and those it owns but may not (paused, or their subscription inactive or
 * deleted since the claim), which it lets go of as skipped. Rows another job owns now (a rescue
 * took them, or a delivery before this one settled them) are none of its business. One read.
 */
import type { Executor } from '../db/executor.js'
import type { PageRow } from '../settle/outcome.js'

export interface PageRows {
  callable: PageRow[]
  /** Owned, but not callable or gone: to be let go of and counted skipped, once. */
  leftovers: string[]
}

interface ReadRow extends PageRow {
  job_id: string | null
  status: string
  active: boolean | null
}

export async function readPage(db: Executor, jobId: string, ids: string[]): Promise<PageRows> {
  const { rows } = await db.query<ReadRow>(
    `SELECT sp.id, sp.subscription_id, s.user_id::text AS user_id, s.frequency::text AS frequency, sp.timezone,
            sp.anchor_at, sp.run_at, sp.starts_at, sp.ends_at, sp.scheduled_for, sp.attempts, sp.run_id, sp.job_id,
            sp.status, s.active
       FROM subscription_processing sp LEFT JOIN subscriptions s ON s.id = sp.subscription_id
      WHERE sp.id = ANY($1::uuid[])`,
    [ids],
  )
  const found = new Map(rows.map((row) => [row.id, row]))
  const callable: PageRow[] = []
  const leftovers: string[] = []
  for (const id of ids) {
    const row = found.get(id)
    if (!row) leftovers.push(id)
    else if (row.job_id !== jobId) continue
    else if (row.status === 'queued' && row.active === true) callable.push(row)
    else leftovers.push(id)
  }
  return { callable, leftovers }
}

/**
 * Of `ids`, those `jobId` still owns and may call: a row paused, deactivated or deleted while it
 * waited its turn is not called. One read by primary key.
 */
export async function stillCallable(db: Executor, jobId: string, ids: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT sp.id FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id
      WHERE sp.id = ANY($1::uuid[]) AND (sp.job_id = $2::uuid AND sp.status = 'queued' AND s.active) IS TRUE`,
    [ids, jobId],
  )
  return new Set(rows.map((r) => r.id))
}
