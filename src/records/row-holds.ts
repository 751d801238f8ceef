/**
 * What holds a subscription's row, for the controls: a job that owns it (a call queued, in flight
 * or waiting for its retry, its outcome setting the next slot), and the refusals that say so. A
 * row whose job is gone (failed for good, or deleted) is still claimed until its lease ends, but
 * no call of it is coming: those refusals name the remedy instead of "try again later".
 */
import type { Executor } from '../db/executor.js'
import { SubscriptionBusyError } from '../errors.js'
import { isLiveJob } from '../sweep/live-claims.js'
import type { JobQueue } from '../sweep/live-claims.js'
import type { SubscriptionStatus } from '../db/names.js'

/** What of a subscription's row (a ScheduleRow) tells whether a job holds it. */
export interface HeldRow {
  subscription_id: string
  status: SubscriptionStatus
  lease_expires_at: Date | null
  job_id: string | null
}

/**
 * True while a job owns the row: a call is in flight, queued, or waiting for its retry. A
 * 'processing' row with no lease and no job is one the MVP left stuck: nothing holds it (the
 * rescue takes it for its `next_run_at` once that has come), so the controls may change it.
 */
export function isInFlight(row: Pick<HeldRow, 'status' | 'lease_expires_at' | 'job_id'>): boolean {
  if (row.status === 'processing') return row.lease_expires_at !== null || row.job_id !== null
  return row.status === 'queued'
}

/**
 * True while a job holds the row, whatever its status: in flight, or paused while its call is out
 * (the call's outcome still sets its next slot). What the controls wait for.
 */
export function isHeld(row: Pick<HeldRow, 'status' | 'lease_expires_at' | 'job_id'>): boolean {
  return isInFlight(row) || row.job_id !== null
}

/**
 * The controls' check: a row a job holds is refused, its call's outcome setting the next slot,
 * also once the row is paused. pg-boss is asked first whether that job will still run: a row
 * whose job is gone waits for its lease (an hour) before a sweep takes it, and "try again once it
 * has settled" would send the operator away for that hour.
 *
 * @throws {SubscriptionBusyError} while a job owns the row, or its job is gone and its claim holds.
 */
export async function assertNotHeld(db: Executor, queue: JobQueue, row: HeldRow, action: string): Promise<void> {
  if (!isHeld(row)) return
  if (row.job_id !== null && !(await isLiveJob(db, queue, row.job_id))) throw strandedRow(row, action)
  const { what, when } = holding(row)
  throw new SubscriptionBusyError(`Cannot ${action} subscription ${row.subscription_id} while ${what}: its outcome sets the next slot. Try again ${when}.`, { subscriptionId: row.subscription_id })
}

function strandedRow(row: HeldRow, action: string): SubscriptionBusyError {
  const lease = row.lease_expires_at ? ` at ${row.lease_expires_at.toISOString()}` : ''
  // A paused row is not run on demand: resumed, it is queued again under its claim, and then is.
  const remedy = row.status === 'paused' ? 'resume(id), then runSubscription(id),' : 'runSubscription(id) (admin: Process now; CLI: run-now <id>)'
  return new SubscriptionBusyError(
    `Cannot ${action} subscription ${row.subscription_id}: it is still claimed (status '${row.status}'), but the job that claimed it failed for good or was deleted, ` +
      `so no call of it is coming (listFailures() or the dashboard says why). ${remedy} calls it now, for the slot it was claimed for, ` +
      `and frees it; or a sweep takes it back once its claim's lease ends${lease}. Then try again.`,
    { subscriptionId: row.subscription_id },
  )
}

/**
 * The refusal of a run on demand while a job owns the row: under its claim's lease, or past it
 * with pg-boss still holding the job (a backlog longer than the lease).
 */
export function busyRunning(row: HeldRow): SubscriptionBusyError {
  const { what, when } = holding(row)
  return new SubscriptionBusyError(`Cannot run subscription ${row.subscription_id} now: ${what}, and its outcome sets the next slot. Run it again ${when}.`, { subscriptionId: row.subscription_id })
}

/**
 * What holds a row, and when to try again, by its status. A queued row's call may be made now or
 * wait behind the rest of a big run for minutes: "within workerTimeoutMs" misled a trial's operator.
 */
function holding(row: HeldRow): { what: string; when: string } {
  if (row.status === 'queued') {
    return {
      what: "a call for it is queued or in flight (status 'queued')",
      when: "once its run has called it and recorded the outcome: a call takes at most workerTimeoutMs, but a big run's backlog can keep it queued for longer (listRuns() or the dashboard shows the run's progress)",
    }
  }
  if (row.status === 'processing') return { what: "a call for it is in flight (status 'processing')", when: 'once it has settled (within workerTimeoutMs, or after its retry)' }
  return { what: `a job still holds it (status '${row.status}': a retry waiting, or a call still out)`, when: 'once that has settled (after its retry)' }
}
