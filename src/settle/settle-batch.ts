/**
 * Settles a batch's outcomes in one transaction: the rows, the failure history, successor jobs
 * for a worker's Retry-After, and the run counters. Returns what to tell pg-boss per job and
 * what to announce once the transaction has committed.
 */
import { randomUUID } from 'node:crypto'
import type { PoolClient } from 'pg'
import type { JobResult } from 'pg-boss'
import { CALLS_GROUP } from '../sweep/claim.js'
import type { ProcessJobData } from '../sweep/claim.js'
import type { SchedulerEvents } from '../observe/events.js'
import { recordFailureHistory } from '../records/failures.js'
import type { ProcessorContext } from '../process/process-batch.js'
import type { Job, Outcome } from '../process/process-one.js'
import { slotOf } from '../process/process-one.js'
import { recordOutcomes } from '../records/runs.js'
import { idempotencyKey } from '../worker-client/types.js'
import type { OutcomeCounts, RunSummary } from '../records/runs.js'
import { recordCompletions, recordFinalFailures, recordRetries } from './row-writes.js'

export type Announcement = { [E in keyof SchedulerEvents]: [E, SchedulerEvents[E]] }[keyof SchedulerEvents]

export interface Settlement {
  results: Map<string, JobResult>
  announcements: Announcement[]
  finishedRuns: RunSummary[]
}

type Failure = Extract<Outcome, { kind: 'failure' }>

export function announceSuccess(o: Extract<Outcome, { kind: 'success' }>): Announcement {
  return ['subscription:succeeded', { ...base(o), durationMs: o.durationMs, nextRunAt: o.completion.nextRunAt }]
}

function base(o: Outcome) {
  return { runId: o.job.data.runId, subscriptionId: o.row.subscription_id, processingId: o.row.id, scheduledFor: slotOf(o.job), attempt: o.row.attempts }
}

/** A retry the worker asked to delay: this job ends, a successor starts at `retryAt`. */
async function insertSuccessors(ctx: ProcessorContext, tx: PoolClient, retries: Failure[]): Promise<void> {
  if (retries.length === 0) return
  const jobs = retries.map((o) => ({
    id: randomUUID(),
    data: o.job.data satisfies ProcessJobData,
    // Its own key: the ending job still holds the slot's key until pg-boss completes it.
    singletonKey: `${idempotencyKey(o.row.subscription_id, slotOf(o.job))}#${o.row.attempts}`,
    startAfter: o.retryAt!,
    group: CALLS_GROUP,
    retryLimit: Math.max(0, o.job.retryLimit - o.job.retryCount - 1),
  }))
  await ctx.boss.insert(ctx.processQueue, jobs, {
    db: { executeSql: async (text, values) => await tx.query(text, values as unknown[] | undefined) },
  })
}

export async function settleBatch(ctx: ProcessorContext, tx: PoolClient, jobs: Job[], outcomes: Outcome[], skipped: Job[]): Promise<Settlement> {
  const { options } = ctx
  const now = options.clock.now()
  const successes = outcomes.filter((o) => o.kind === 'success')
  const failures = outcomes.filter((o): o is Failure => o.kind === 'failure')
  const finals = failures.filter((o) => o.final)
  // A call cancelled by stop() with no pg-boss retry left: its job ends, and the row's claim
  // expires at once so the next rescue tick (on any instance) takes the same slot again.
  const orphaned = (o: Failure) => o.cancelled && o.job.retryCount >= o.job.retryLimit
  const retries = failures.filter((o) => !o.final && !orphaned(o))
  const rescued = failures.filter((o) => !o.final && orphaned(o))

  const completed = await recordCompletions(tx, successes.map((o) => o.completion), now)
  const { recorded: failed, paused } = await recordFinalFailures(tx, finals.map((o) => o.failure), now, options.pauseAfterConsecutiveFailures)
  // Claimed until its retry must have started. Kept short on purpose: when a settle's COMMIT
  // reply is lost, the replay counts the row as skipped and only this lease brings it back.
  const retryLease = options.retry.maxDelaySeconds + options.leaseSeconds
  const retried = await recordRetries(tx, retries.map((o) => o.failure), now, retryLease)
  for (const id of await recordRetries(tx, rescued.map((o) => o.failure), now, 0)) retried.add(id)
  const settled = (o: Outcome) => (o.kind === 'success' ? completed : o.final ? failed : retried).has(o.row.id)
  await insertSuccessors(ctx, tx, retries.filter((o) => o.retryAt && settled(o)))
  await recordFailureHistory(
    tx,
    failures.filter(settled).map((o) => ({ ...base(o), final: o.final, error: o.failure.error })),
    now,
  )

  const counts = new Map<string, OutcomeCounts>()
  const count = (job: Job, key: keyof OutcomeCounts) => {
    const c = counts.get(job.data.runId) ?? { successful: 0, failed: 0, retried: 0, skipped: 0 }
    c[key] += 1
    counts.set(job.data.runId, c)
  }
  const results = new Map<string, JobResult>(jobs.map((job) => [job.id, { id: job.id, status: 'completed' }]))
  const announcements: Announcement[] = []
  for (const job of skipped) count(job, 'skipped')
  for (const o of outcomes) {
    if (!settled(o)) {
      // Paused or deleted while its call was in flight: nothing to record, the job is done.
      count(o.job, 'skipped')
      continue
    }
    if (o.kind === 'success') {
      count(o.job, 'successful')
      announcements.push(announceSuccess(o))
      continue
    }
    const output = { error: o.failure.error }
    announcements.push(['subscription:failed', { ...base(o), error: o.failure.error, final: o.final, permanent: o.permanent }])
    if (o.final) {
      count(o.job, 'failed')
      const exhausted = o.job.retryCount >= o.job.retryLimit
      // Permanent before its last attempt: straight to the dead-letter queue, no retries.
      results.set(o.job.id, { id: o.job.id, status: exhausted ? 'failed' : 'deadletter', output })
      if (paused.has(o.row.id)) options.logger.warn(`Subscription ${o.row.subscription_id} paused after ${options.pauseAfterConsecutiveFailures} failed runs in a row; resume() or retryFailed() picks it again.`)
    } else {
      count(o.job, 'retried')
      announcements.push(['retry:scheduled', { ...base(o), error: o.failure.error, retryAt: o.retryAt }])
      // pg-boss retries the job with backoff, unless a successor or a rescue carries the retry.
      if (!o.retryAt && !orphaned(o)) results.set(o.job.id, { id: o.job.id, status: 'failed', output })
    }
  }
  const finishedRuns: RunSummary[] = []
  for (const [runId, c] of counts) {
    const finished = await recordOutcomes(tx, runId, c, now)
    if (finished) finishedRuns.push(finished)
  }
  return { results, announcements, finishedRuns }
}
