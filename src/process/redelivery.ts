/**
 * A page job that pg-boss delivers again: its instance died, stalled past the job's heartbeat or
 * expiry, or could not record its outcomes. The new delivery waits out a grace, then says where
 * the work went.
 */
import { sleep } from '../observe/clock.js'
import type { ProcessorContext } from './context.js'
import type { PageJob } from './page-job.js'

/**
 * A delivery after the first waits this long before reading its rows: the instance that held the
 * job may still hold outcomes it could not record while the database was out of reach, and records
 * them within a second of its return (SETTLE_RETRY_MAX_MS in process-page.ts). A dead instance's
 * rows are called this much later.
 */
const REDELIVERY_GRACE_MS = 3_000

/** Waits out the grace on a delivery after the first; a stop ends it (its rows are then handed over uncalled). */
export async function awaitRedeliveryGrace(ctx: ProcessorContext, job: PageJob): Promise<void> {
  if (job.retryCount > 0) await sleep(REDELIVERY_GRACE_MS, ctx.haltSignal)
}

/**
 * A page job pg-boss delivers again is a takeover: the instance that held it died (its heartbeat
 * lapsed), stalled past the job's expiry, or failed to record it. Said once per delivery, as a
 * warning when it has calls left to make, so an operator sees where the crashed instance's work went.
 */
export function logRedelivery(ctx: ProcessorContext, job: PageJob, callable: number): void {
  const { runId, ids } = job.data
  // Its outcomes were all recorded before its delivery could complete, or its rows left it: nothing lost, nothing to call.
  if (callable === 0) {
    ctx.options.logger.info(`Job ${job.id} of run ${runId} was delivered again (delivery ${job.retryCount + 1}); none of its subscriptions is left to call (each recorded already, deleted, or no longer to be called), so it calls none.`)
    return
  }
  const of = `${callable} of its ${ids.length} subscription${ids.length === 1 ? '' : 's'}`
  ctx.options.logger.warn(
    `Taking over job ${job.id} of run ${runId} (delivery ${job.retryCount + 1}): its last delivery did not complete ` +
      `(${whyRedelivered(job.output)}). Calling the ${of} still not recorded.`,
  )
}

/**
 * Why the last delivery ended, from what it left on the job: the error a handler failed it with
 * (processJobs), or pg-boss's word that its heartbeat lapsed or it ran past its expiry.
 */
function whyRedelivered(output: unknown): string {
  const error = (output as { error?: unknown } | null)?.error
  if (typeof error === 'string') return `its outcomes could not be recorded: ${error}`
  const message = (output as { value?: { message?: unknown } } | null)?.value?.message
  if (message === 'job heartbeat timeout') return 'its instance stopped or stalled: its heartbeat lapsed'
  if (message === 'job timed out') return 'it ran past its expiry'
  return 'its instance stopped or stalled past its heartbeat or expiry, or its outcomes could not be recorded'
}
