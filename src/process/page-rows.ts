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

/** Reads, for rows waiting in a job, which of them that job still owns and may call. */
export interface CallableReader {
  /** Of `ids`, those `jobId` still owns and may call (not paused, deactivated or deleted). */
  read(jobId: string, ids: string[]): Promise<Set<string>>
}

interface Request {
  jobId: string
  ids: string[]
  resolve(callable: Set<string>): void
  reject(error: unknown): void
}

/**
 * Every read asked for in the same turn of the event loop (the jobs of one fetch starting, or
 * their re-checks falling together) is one statement by primary key.
 */
export function createCallableReader(db: Executor): CallableReader {
  let batch: Request[] | null = null
  const run = async (requests: Request[]) => {
    try {
      const { rows } = await db.query<{ id: string; job_id: string }>(
        `SELECT sp.id, sp.job_id FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id
          WHERE sp.id = ANY($1::uuid[]) AND (sp.status = 'queued' AND s.active) IS TRUE`,
        [requests.flatMap((r) => r.ids)],
      )
      const owner = new Map(rows.map((r) => [r.id, r.job_id]))
      for (const r of requests) r.resolve(new Set(r.ids.filter((id) => owner.get(id) === r.jobId)))
    } catch (error) {
      for (const r of requests) r.reject(error)
    }
  }
  return {
    read(jobId, ids) {
      return new Promise((resolve, reject) => {
        if (!batch) {
          batch = []
          setImmediate(() => {
            const requests = batch!
            batch = null
            void run(requests)
          })
        }
        batch.push({ jobId, ids, resolve, reject })
      })
    },
  }
}
