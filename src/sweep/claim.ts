/**
 * Claiming a page: one transaction takes a page of rows with `FOR UPDATE SKIP LOCKED`, marks them
 * `queued` for their slot, names the pg-boss job that owns them, and inserts that one job. Either
 * all of it happens or none: there is never a claimed row without a job, nor a job whose rows
 * another job owns.
 */
import { randomUUID } from 'node:crypto'
import type { PoolClient } from 'pg'
import type { Executor } from '../db/executor.js'
import { bossDb } from '../db/executor.js'
import type { PgBoss } from 'pg-boss'
import { pageJob, startAfterOf } from '../process/page-job.js'
import type { PageJobData, PageJobTimings } from '../process/page-job.js'
import { recordHistory } from '../records/history.js'
import { addSweptPage } from '../records/runs.js'
import { lockRuns } from '../records/run-outcomes.js'
import type { RunSummary } from '../records/runs.js'
import { spreadBucketMs, spreadStart } from '../schedule/spread.js'
import { ASSIGN_JOBS, claimSql, firstCandidateSql, TAKES_IDS } from './claim-sql.js'
import type { ClaimKind, Cursor } from './claim-sql.js'
import { countTakeovers, takenOverFrom } from './takeovers.js'
import type { ClaimedRow } from './takeovers.js'

export interface ClaimPageInput {
  kind: ClaimKind
  now: Date
  after: Cursor
  limit: number
  leaseSeconds: number
  /** Rows per job: the page is split into jobs of this many (config/flow.ts). */
  jobSize: number
  /** `due` claims only: each call starts at its slot plus its subscription's offset in this window. */
  spreadMs: number
  runId: string
  processQueue: string
  /** pg-boss's schema: an expired claim is taken only if its job is gone from there. */
  bossSchema: string
  timings: PageJobTimings
  /** For `failed` (null: all) and `single`: the subscriptions to take. */
  subscriptionIds?: string[] | null | undefined
  /** For `due`: only rows no run has claimed since then (see SweepScope). */
  claimedBefore?: Date | null | undefined
}

export interface ClaimPageResult {
  /** Rows taken by this page (each now owned by one of `jobIds`). */
  claimed: number
  jobIds: string[]
  /** Earlier runs this page's takeovers settled, to announce once the page has committed. */
  finishedRuns: RunSummary[]
  /** Where the next page starts; null when this page was the last. */
  next: Cursor | null
}

/**
 * Regroups a spread page: one job per start-time bucket (pg-boss starts it at the bucket's
 * beginning; each row then waits for its own start), each cut to `jobSize` rows.
 */
function regroupBySpread(input: ClaimPageInput, rows: ClaimedRow[], spreadMs: number): ClaimedRow[][] {
  const bucketMs = spreadBucketMs(spreadMs)
  const now = input.now.getTime()
  const buckets = new Map<number, ClaimedRow[]>()
  for (const row of rows) {
    const start = spreadStart(row.subscription_id, row.scheduled_for, spreadMs)
    const bucket = start <= now ? 0 : Math.floor(start / bucketMs) * bucketMs
    const group = buckets.get(bucket)
    if (group) group.push(row)
    else buckets.set(bucket, [row])
  }
  return [...buckets.values()].flatMap((group) => chunk(group, input.jobSize))
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

function byJob(rows: ClaimedRow[]): ClaimedRow[][] {
  const groups = new Map<string, ClaimedRow[]>()
  for (const row of rows) {
    const group = groups.get(row.job_id)
    if (group) group.push(row)
    else groups.set(row.job_id, [row])
  }
  return [...groups.values()]
}

function claimParams(input: ClaimPageInput, jobIds: string[]): unknown[] {
  const extra = TAKES_IDS.has(input.kind) ? [input.subscriptionIds ?? null] : input.kind === 'due' ? [input.claimedBefore ?? null] : []
  return [input.now, input.after.key, input.after.id, input.limit, input.leaseSeconds, input.runId, jobIds, input.jobSize, ...extra]
}

/** The first row a claim of `input` would take, if any: the one a one-row claim failed on. */
export async function firstCandidate(db: Executor, input: ClaimPageInput): Promise<{ key: string; id: string; subscription_id: string } | null> {
  const { rows } = await db.query<{ key: string; id: string; subscription_id: string }>(firstCandidateSql(input.kind, input), claimParams(input, []))
  return rows[0] ?? null
}

/** Claims one page and enqueues its job(s), inside the caller's transaction on `client`. */
export async function claimPage(client: PoolClient, boss: PgBoss, input: ClaimPageInput): Promise<ClaimPageResult> {
  const jobIds = Array.from({ length: Math.ceil(input.limit / input.jobSize) }, () => randomUUID())
  const { rows } = await client.query<ClaimedRow>(claimSql(input.kind, input), claimParams(input, jobIds))
  if (rows.length === 0) return { claimed: 0, jobIds: [], finishedRuns: [], next: null }

  const spreadMs = input.kind === 'due' ? input.spreadMs : 0
  let groups = byJob(rows)
  let groupIds = groups.map((group) => group[0]!.job_id)
  if (spreadMs > 0) {
    groups = regroupBySpread(input, rows, spreadMs)
    groupIds = groups.map((_, i) => jobIds[i] ?? randomUUID())
    const owners = groups.flatMap((group, i) => group.map((row) => [row.id, groupIds[i]!] as const))
    await client.query(ASSIGN_JOBS, [owners.map(([id]) => id), owners.map(([, jobId]) => jobId)])
  }
  const jobs = groups.map((group, i) => {
    const ids = group.map((row) => row.id)
    const startAfter = spreadMs > 0 ? new Date(Math.min(...group.map((row) => spreadStart(row.subscription_id, row.scheduled_for, spreadMs)))) : undefined
    const data: PageJobData = spreadMs > 0 ? { runId: input.runId, ids, spreadMs } : { runId: input.runId, ids }
    return { ...pageJob(input.runId, ids, input.timings, { id: groupIds[i]!, startAfter: startAfterOf(startAfter, input.now) }), data }
  })
  await boss.insert(input.processQueue, jobs, {
    db: bossDb(client),
  })
  // Its own run and those it takes rows over from, locked in a settle's order before either is written.
  const takenOver = takenOverFrom(rows, input.kind === 'expired')
  await lockRuns(client, [input.runId, ...takenOver.keys()])
  await addSweptPage(client, input.runId, rows.length)
  // retryFailed() lifts a pause for failures: the subscription's history says so.
  const resumed = rows.filter((row) => row.previous_status === 'paused')
  await recordHistory(client, resumed.map((row) => ({ subscriptionId: row.subscription_id, kind: 'resumed', slot: row.scheduled_for, detail: 'by retryFailed(), from its pause for failures' })), input.now)
  const finishedRuns = await countTakeovers(client, takenOver, input.now)
  const last = rows[0]!
  return {
    claimed: rows.length,
    jobIds: jobs.map((job) => job.id),
    finishedRuns,
    next: rows.length < input.limit ? null : { key: last.last_key, id: last.last_id },
  }
}
