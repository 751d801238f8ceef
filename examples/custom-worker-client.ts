/**
 * A worker client that does the work in-process instead of calling a worker over HTTP: for a
 * monolith, or to hand subscriptions to a queue or SDK of your own. The scheduler keeps owning
 * retries, timeouts and bookkeeping; the client only says how each call went:
 *
 * - resolve: success, and the value is stored (truncated) on the row for operators;
 * - throw a `PermanentError`: retrying cannot help, the slot is recorded failed at once;
 * - throw anything else: the call is retried with backoff.
 *
 *   DATABASE_URL=postgres://localhost/app npx tsx examples/custom-worker-client.ts
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { createSubscriptionScheduler, PermanentError } from 'pg-subscription-scheduler'
import type { ProcessContext, ProcessRequest, WorkerClient } from 'pg-subscription-scheduler'

/** Stands in for your domain: where each user's digest goes. */
const emailOf = new Map<string, string>()

async function sendDigest(userId: string, signal: AbortSignal): Promise<{ sentTo: string }> {
  const to = emailOf.get(userId)
  // No address will appear in the next 30 seconds: a retry would only fail again, later.
  if (!to) throw new PermanentError(`user ${userId} has no email address`)
  // The scheduler aborts the signal on timeout or shutdown; stop before doing the side effect.
  signal.throwIfAborted()
  return { sentTo: to }
}

const digestWorker: WorkerClient = {
  async process(request: ProcessRequest, { signal }: ProcessContext) {
    // request.idempotencyKey is the same across retries of one slot: a real sender dedupes on it.
    return await sendDigest(request.userId, signal)
  },
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
const scheduler = createSubscriptionScheduler(pool, { workerClient: digestWorker })
await scheduler.start()

// Three subscribers; the third has no email address.
for (const [i, userId] of [randomUUID(), randomUUID(), randomUUID()].entries()) {
  if (i < 2) emailOf.set(userId, `subscriber${i + 1}@example.com`)
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id, frequency) VALUES ($1, 'daily') RETURNING id`,
    [userId],
  )
  await scheduler.enroll(rows[0]!.id)
}

// runNow() resolves once every subscription has settled: with the permanent failure there is no
// retry to wait for.
const summary = await scheduler.runNow()
console.log(
  `Run ${summary.runId}: ${summary.processed} processed, ${summary.successful} succeeded, ` +
    `${summary.failed} failed, ${summary.retried} retried, in ${summary.durationMs} ms`,
)
for (const failure of await scheduler.listFailures()) {
  console.log(`Failed: subscription ${failure.subscriptionId}, attempt ${failure.attempt}, final: ${failure.final}: ${failure.error}`)
}

await scheduler.stop()
await pool.end()
