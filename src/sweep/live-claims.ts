/**
 * A claim's lease says how long its job may take before the row is presumed lost with it. But a
 * job pg-boss still holds, waiting in a long queue, retrying, or running with its heartbeat, is not
 * lost: pg-boss will run it. A backlog that takes longer than a lease to drain (a slow worker
 * service, or a low `maxCallsPerSecond`) leaves many such rows behind their lease. Taking them
 * would count them skipped in their run, queue them again at the back, and call a row whose call
 * is in flight a second time. So an expired claim is taken only when its job is gone (completed,
 * failed for good, or deleted), and the rescue renews the leases of the others.
 */
import type { Executor } from '../db/executor.js'
import { bossTableInstalled, quoteIdent } from '../db/executor.js'

/** Where the jobs that own rows live: pg-boss's job table, and the scheduler's process queue. */
export interface JobQueue {
  bossSchema: string
  processQueue: string
}

const quoteLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`

/** The pg-boss job states in which it will still run a job: waiting, due for a retry, or running. */
export const LIVE_JOB_STATES = `('created', 'retry', 'active')`

/**
 * SQL that holds for a row (`sp`) whose owning job pg-boss will still run: created (waiting for
 * its start or a worker), retry, or active. A primary-key lookup, (name, id), per row.
 */
export function ownedByLiveJob(queue: JobQueue): string {
  return ownedByJobIn(queue, LIVE_JOB_STATES)
}

/**
 * SQL that holds for a row (`sp`) whose owning job is running (active): its call in flight, or
 * next in line in the instance that fetched it. `getStatus()` counts such a row `processing`.
 */
export function ownedByActiveJob(queue: JobQueue): string {
  return ownedByJobIn(queue, `('active')`)
}

function ownedByJobIn({ bossSchema, processQueue }: JobQueue, states: string): string {
  return `EXISTS (SELECT 1 FROM ${quoteIdent(bossSchema)}.job j
                   WHERE j.name = ${quoteLiteral(processQueue)} AND j.id = sp.job_id
                     AND j.state IN ${states})`
}

/**
 * Whether job `jobId` is one pg-boss will still run (created, retry or active). True when pg-boss
 * is not installed in this database yet (`migrate()` alone): nothing can be told of it. Asked
 * first, not caught: inside a control's transaction a failed query would abort it.
 */
export async function isLiveJob(db: Executor, queue: JobQueue, jobId: string): Promise<boolean> {
  return (await liveJob(db, queue, jobId)).live
}

/**
 * Whether pg-boss will still run the job (see {@link isLiveJob}), and until when it waits to
 * start, when that is later than now (a retry's backoff, a breaker's hold, a spread start).
 */
export async function liveJob(db: Executor, { bossSchema, processQueue }: JobQueue, jobId: string): Promise<{ live: boolean; startsAt: Date | null }> {
  if (!(await bossTableInstalled(db, bossSchema, 'job'))) return { live: true, startsAt: null }
  const table = `${quoteIdent(bossSchema)}.job`
  const { rows: [job] } = await db.query<{ live: boolean; starts_at: Date | null }>(
    `SELECT state IN ${LIVE_JOB_STATES} AS live, CASE WHEN state IN ('created', 'retry') AND start_after > now() THEN start_after END AS starts_at
       FROM ${table} WHERE name = $1 AND id = $2`,
    [processQueue, jobId],
  )
  return { live: job?.live === true, startsAt: job?.live ? job.starts_at : null }
}

/**
 * Renews, to `now` + `leaseSeconds`, the expired claims whose jobs pg-boss still holds, and says
 * how many: the rescue's count of lost claims is then only of the lost ones.
 */
export async function renewLiveClaims(db: Executor, now: Date, leaseSeconds: number, queue: JobQueue): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE subscription_processing sp
        SET lease_expires_at = $1::timestamptz + make_interval(secs => $2)
      WHERE sp.status IN ('queued', 'processing')
        AND COALESCE(sp.lease_expires_at, '-infinity'::timestamptz) <= $1
        AND ${ownedByLiveJob(queue)}`,
    [now, leaseSeconds],
  )
  return rowCount ?? 0
}
