/**
 * Rows handed to other jobs of their run, in the settle that records it: rows not yet called when
 * stop() began, rows an instance shares out with idle ones (process/share-out.ts), and rows the
 * circuit breaker held back, in jobs that start when the hold ends (their claim lasting until
 * they have run).
 *
 * Each goes in jobs of at most a job's size (`jobSize`), as a sweep's pages do, so that every
 * instance fetching takes a share: a stopping instance's 61–83 rows went in one job per run,
 * which one instance then fetched whole, calling them alone while two others idled (a trial's
 * rolling restart). And ahead of the queue, as retries are: they are older than what waits there
 * (a trial's stopping instance's rows waited 67–85 s behind the rest of their run).
 */
import { retryLeaseSeconds } from '../config/flow.js'
import { bossDb } from '../db/executor.js'
import type { Executor } from '../db/executor.js'
import { pageJob, RETRY_PRIORITY } from '../process/page-job.js'
import type { SettleDeps } from './deps.js'
import type { Cancelled } from './outcome.js'
import { handOverRows, owned } from './row-writes.js'

/** Hands `cancelled` over (those with `handOver`); returns the ids of the rows that moved. */
export async function handOver(db: Executor, deps: SettleDeps, cancelled: Cancelled[], now: Date): Promise<Set<string>> {
  if (cancelled.length === 0) return new Set()
  const { options } = deps
  const timings = { expireInSeconds: options.jobExpirySeconds, heartbeatSeconds: options.heartbeatSeconds }
  // Jobs per run, and per instant the rows resume at (stop()'s and share-out's resume at once).
  const groups = new Map<string, Cancelled[]>()
  for (const o of cancelled) {
    const group = `${o.row.run_id}@${o.resumeAt ?? 0}`
    const rows = groups.get(group)
    if (rows) rows.push(o)
    else groups.set(group, [o])
  }
  const jobs: { job: ReturnType<typeof pageJob>; rows: Cancelled[]; leaseUntil: Date | null }[] = []
  for (const rows of groups.values()) {
    const { resumeAt } = rows[0]!
    const startsIn = resumeAt === undefined ? 0 : Math.max(0, resumeAt - Date.now()) / 1000
    const leaseUntil = resumeAt === undefined ? null : new Date(now.getTime() + retryLeaseSeconds(options, startsIn) * 1000)
    for (let i = 0; i < rows.length; i += options.jobSize) {
      const job = pageJob(rows[0]!.row.run_id, [], timings, { startAfter: startsIn > 0 ? startsIn : undefined, priority: RETRY_PRIORITY })
      jobs.push({ job, rows: rows.slice(i, i + options.jobSize), leaseUntil })
    }
  }
  const moved = await handOverRows(db, jobs.flatMap(({ job, rows, leaseUntil }) => rows.map((o) => ({ ...owned(o), nextJobId: job.id, leaseUntil }))))
  const inserts = jobs
    .map(({ job, rows }) => ({ ...job, data: { ...job.data, ids: rows.filter((o) => moved.has(o.row.id)).map((o) => o.row.id) } }))
    .filter((job) => job.data.ids.length > 0)
  if (inserts.length > 0) await deps.boss.insert(deps.processQueue, inserts, { db: bossDb(db) })
  return moved
}
