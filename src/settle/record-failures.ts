/**
 * Failed calls, retried or final: the rows, the retry jobs (one per subscription, at its
 * backoff or Retry-After), the dead letters, and the failure history. A call cut short by
 * `stop()` with no retry left is let go of for the rescue to take at once, not recorded failed. A
 * row paused for failing too many runs in a row says so in its subscription's history.
 */
import { retryLeaseSeconds } from '../config/flow.js'
import { bossDb } from '../db/executor.js'
import type { Executor } from '../db/executor.js'
import { pageJob, RETRY_PRIORITY, startAfterOf } from '../process/page-job.js'
import { recordFailureHistory } from '../records/failures.js'
import { recordHistory } from '../records/history.js'
import { idempotencyKey } from '../worker-client/types.js'
import { failsOnItsOwn, isLastAttempt } from './outcome.js'
import type { Failure } from './outcome.js'
import { recordFinalFailures, recordRetries } from './row-writes.js'
import type { SettleDeps } from './deps.js'

export interface RecordedFailures {
  /** The failures recorded (their rows were still owned), retried or final. */
  list: Failure[]
  /** Rows paused for failing too many runs in a row. */
  paused: Set<string>
  /** Of those, the ones paused already, whose slot a retry (retryFailed()) failed again: no failed run more. */
  pausedAgain: Set<string>
  /** Retried rows no job carries: the rescue takes them. */
  orphans: Set<string>
}

export async function recordFailures(db: Executor, deps: SettleDeps, failures: Failure[], now: Date): Promise<RecordedFailures> {
  if (failures.length === 0) return { list: [], paused: new Set(), pausedAgain: new Set(), orphans: new Set() }
  const { options } = deps
  const timings = { expireInSeconds: options.jobExpirySeconds, heartbeatSeconds: options.heartbeatSeconds }
  const retrying = failures.filter((o) => !o.final)
  const orphaned = (o: Failure) => o.cancelled && isLastAttempt(options.retry, o.attempt)
  const jobs = new Map(retrying.filter((o) => !orphaned(o)).map((o) => [o.row.id, pageJob(o.row.run_id, [o.row.id], timings, {
    key: `${idempotencyKey(o.row.subscription_id, o.row.scheduled_for)}#${o.attempt + 1}`,
    startAfter: startAfterOf(o.retryAt, now),
    priority: RETRY_PRIORITY,
  })]))
  const retried = await recordRetries(db, retrying.map((o) => {
    const job = jobs.get(o.row.id)
    const startsIn = ((o.retryAt ?? now).getTime() - now.getTime()) / 1000
    const leaseUntil = job ? new Date(now.getTime() + retryLeaseSeconds(options, startsIn) * 1000) : now
    return { id: o.row.id, jobId: o.jobId, error: o.error, nextJobId: job?.id ?? null, leaseUntil }
  }), now)
  const retryJobs = [...jobs].filter(([id]) => retried.has(id)).map(([, job]) => job)
  if (retryJobs.length > 0) await deps.boss.insert(deps.processQueue, retryJobs, { db: bossDb(db) })

  const finals = failures.filter((o) => o.final)
  const { recorded: failed, paused, pausedAgain } = await recordFinalFailures(db, finals.map((o) => ({ id: o.row.id, jobId: o.jobId, error: o.error, pauses: failsOnItsOwn(o) })), now, options.pauseAfterConsecutiveFailures, options.retry)
  const dead = finals.filter((o) => failed.has(o.row.id)).map((o) => ({
    data: {
      runId: o.row.run_id, subscriptionId: o.row.subscription_id, processingId: o.row.id, scheduledFor: o.row.scheduled_for.toISOString(),
      attempt: o.attempt, error: o.error, status: o.status,
    },
  }))
  if (dead.length > 0) await deps.boss.insert(deps.deadQueue, dead, { db: bossDb(db) })
  await recordHistory(db, finals.filter((o) => paused.has(o.row.id)).map((o) => ({
    subscriptionId: o.row.subscription_id,
    kind: 'paused',
    slot: o.row.scheduled_for,
    detail: `after ${options.pauseAfterConsecutiveFailures} failed run${options.pauseAfterConsecutiveFailures === 1 ? '' : 's'} in a row (pauseAfterConsecutiveFailures); retryFailed() or resume() picks it again`,
  })), now)

  const list = failures.filter((o) => (o.final ? failed : retried).has(o.row.id))
  await recordFailureHistory(db, list.map((o) => ({
    runId: o.row.run_id, subscriptionId: o.row.subscription_id, processingId: o.row.id, scheduledFor: o.row.scheduled_for,
    attempt: o.attempt, final: o.final, error: o.error, status: o.status,
  })), now)
  return { list, paused, pausedAgain, orphans: new Set(retrying.filter(orphaned).map((o) => o.row.id)) }
}

/**
 * The warning of a row paused for failing: after its Nth failed run in a row, or, a retry of its
 * failed slot having lifted the pause, paused again by that retry failing.
 */
export function pausedLine(options: SettleDeps['options'], subscriptionId: string, again: boolean): string {
  const n = options.pauseAfterConsecutiveFailures
  if (again) return `Subscription ${subscriptionId} is paused again: the retry of its failed slot failed too (no failed run more counted; it had failed ${n} in a row). Fix the worker or its data, then resume() or retryFailed().`
  return `Subscription ${subscriptionId} paused after ${n} failed run${n === 1 ? '' : 's'} in a row; resume() or retryFailed() picks it again.`
}

