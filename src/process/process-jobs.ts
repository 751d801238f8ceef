/**
 * The pg-boss handler of the process queue: a fetch of page jobs (and backfill steps), run side by side. Each job's
 * result is its own: a page that fails (the database gone for longer than a settle waits) goes
 * back to pg-boss for another delivery, and its rows still owned are called then. The handler
 * returns, and its loop fetches again, only once this instance has few calls waiting.
 */
import type { JobResult, JobWithMetadata } from 'pg-boss'
import type { ProcessorContext } from './context.js'
import { isPageJobData } from './page-job.js'
import type { PageJob } from './page-job.js'
import { processPage } from './process-page.js'
import { recordStranded } from '../records/failures.js'
import { isBackfillJobData } from '../backfill/backfill-job.js'
import type { BackfillJob } from '../backfill/backfill-job.js'
import { abandonBackfill, processBackfillStep } from '../backfill/backfill-step.js'
import { isStatementTimeout } from '../db/transient.js'

/** Subscriptions named in a log line; the rest are counted. */
const NAMED = 5

/**
 * Why a job a stop gave up on did not record its outcomes, as the stop's warning says it: a
 * statement of its own that was still running then was cancelled (cancel-after.ts), which says
 * why; the give-up itself says nothing (null), and another job's error may say more.
 */
function givenUpBecause(error: unknown): string | null {
  if (isStatementTimeout(error)) return 'a statement recording them still waited, on a lock or a slow database, when stop() gave up on them, and was cancelled'
  return (error as Error | undefined)?.name === 'AbortError' ? null : String((error as Error | undefined)?.message ?? error)
}

/**
 * A page job whose deliveries are spent: the rows it still owns, whose outcomes could not be
 * recorded, each get an entry in the failure history (nothing can be written on the row), and
 * the log names them. They wait for their claim to expire, then the next sweep calls them.
 */
async function reportStranded(ctx: ProcessorContext, job: PageJob, error: string): Promise<void> {
  const { runId, ids } = job.data
  const of = `A job of run ${runId} (${ids.length} subscription${ids.length === 1 ? '' : 's'}) did not complete, and its deliveries are spent`
  const stranded = await recordStranded(ctx.pool, job.id, ids, error, ctx.options.clock.now()).catch((failed: Error) => {
    ctx.options.logger.error(`${of}: ${error}. Recording which of its rows it still owns failed too (${failed.message}); they wait for their claim to expire.`)
    return null
  })
  if (!stranded) return
  if (stranded.length === 0) return void ctx.options.logger.error(`${of}, but no row of it is left unrecorded: ${error}`)
  const named = stranded.slice(0, NAMED).map((s) => s.subscriptionId).join(', ')
  const more = stranded.length > NAMED ? ` and ${stranded.length - NAMED} more` : ''
  const until = stranded[0]!.leaseExpiresAt?.toISOString() ?? 'its lease'
  ctx.options.logger.error(
    `${of}: ${error}. The outcome${stranded.length === 1 ? '' : 's'} of subscription${stranded.length === 1 ? '' : 's'} ${named}${more} could not be recorded; ` +
      `${stranded.length === 1 ? 'it stays' : 'they stay'} claimed until ${until}, then a sweep calls ${stranded.length === 1 ? 'it' : 'them'} again ` +
      '(runSubscription() takes one at once). Each is in listFailures().',
  )
}

export async function processJobs(ctx: ProcessorContext, jobs: JobWithMetadata<unknown>[]): Promise<JobResult[]> {
  const { logger } = ctx.options
  const results = await Promise.all(
    jobs.map(async (job): Promise<JobResult> => {
      if (isBackfillJobData(job.data)) {
        try {
          await processBackfillStep(ctx, job as BackfillJob)
          return { id: job.id, status: 'completed' }
        } catch (error) {
          const lastTry = job.retryCount >= job.retryLimit
          logger.warn(`A backfill step of run ${job.data.runId} did not finish${lastTry ? '; its retries are spent, so its slots left are skipped' : ', will retry'}: ${(error as Error).message}`)
          if (lastTry) {
            const finished = await abandonBackfill(ctx, job.data).catch(() => null)
            if (finished) ctx.events.emit('run:finished', finished)
          }
          return { id: job.id, status: 'failed', output: { error: (error as Error).message } }
        }
      }
      if (!isPageJobData(job.data)) {
        // An older version's job: it owns no row; its row's claim expires and is taken again.
        logger.warn(`Completing job ${job.id} on the process queue without running it: it is not a page job (left by an older version?).`)
        return { id: job.id, status: 'completed' }
      }
      try {
        await processPage(ctx, job as PageJob)
        return { id: job.id, status: 'completed' }
      } catch (error) {
        if (ctx.giveUpSignal.aborted) {
          // Stopping, past its deadline: stop() says once what was left, not a line per job.
          ctx.givenUp.jobs += 1
          ctx.givenUp.subscriptions += job.data.ids.length
          ctx.givenUp.reason ??= givenUpBecause(error)
        } else if (job.retryCount >= job.retryLimit) {
          await reportStranded(ctx, job as PageJob, (error as Error).message)
        } else {
          // Its calls' outcomes recorded are kept: a delivery again calls only the rows it still owns.
          const n = job.data.ids.length
          logger.error(`A job of run ${job.data.runId} (${n} subscription${n === 1 ? '' : 's'}) did not complete, and it is delivered again, calling only the rows whose outcomes were not recorded: ${(error as Error).message}`)
        }
        return { id: job.id, status: 'failed', output: { error: (error as Error).message } }
      }
    }),
  )
  // This loop fetches again once it returns: not before the calls waiting here are down to
  // less than a round. Work an instance holds is work its peers cannot share, and with slow
  // calls one fetch is rounds of them; with fast calls nothing waits, and nothing is held back.
  await ctx.gate.whenWaitingBelow(ctx.options.concurrency, ctx.haltSignal)
  return results
}
