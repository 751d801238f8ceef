/**
 * Baseline (a): the hand-written pg-boss fan-out a team would build without the library.
 *
 * Claim due rows a page at a time (an UPDATE … RETURNING over the same partial index the
 * scheduler uses), bulk `boss.insert` them in chunks of 1000 (no ids returned), and let a
 * pg-boss worker fetch big batches (`batchSize` 500, `burstWhenBatchFull`) that call the worker
 * for every job and mark the whole batch `completed` with one UPDATE. No slot guard, no run
 * bookkeeping, no atomic claim-and-enqueue: the upper bound on what pg-boss itself can do here.
 */
import type pg from 'pg'
import { PgBoss } from 'pg-boss'
import type { Job } from 'pg-boss'
import type { WorkerClient } from '../../src/index.js'

export interface FanoutOptions {
  /** Rows claimed per UPDATE and jobs per `boss.insert`. @default 1000 */
  chunk?: number
  /** Jobs per fetched batch. @default 500 */
  batchSize?: number
  /** Concurrent fetch loops of the worker. @default 2 */
  localConcurrency?: number
  /** Idle poll interval of the worker, seconds (the scheduler's default). @default 1 */
  pollingIntervalSeconds?: number
  /** pg-boss schema (installed in the template). @default 'pgboss' */
  schema?: string
  /** Called when the measured drain begins, after pg-boss and the worker have started. */
  onDrainStart?: () => void
}

export interface BaselineRun {
  processed: number
  wallMs: number
}

interface FanoutJob {
  processingId: string
  subscriptionId: string
  userId: string
  scheduledFor: string
}

const QUEUE = 'bench.fanout'

const CLAIM = `
  UPDATE subscription_processing sp
     SET status = 'queued', updated_at = now()
    FROM (SELECT sp.id, s.user_id::text AS user_id
            FROM subscription_processing sp
            JOIN subscriptions s ON s.id = sp.subscription_id
           WHERE sp.status IN ('pending', 'failed', 'completed')
             AND COALESCE(sp.next_run_at, '-infinity'::timestamptz) <= now()
             AND (sp.status <> 'completed' OR sp.next_run_at IS NOT NULL)
             AND s.active IS TRUE
           ORDER BY COALESCE(sp.next_run_at, '-infinity'::timestamptz), sp.id
           LIMIT $1
             FOR UPDATE OF sp SKIP LOCKED) picked
   WHERE sp.id = picked.id
  RETURNING sp.id, sp.subscription_id, COALESCE(sp.next_run_at, now()) AS slot, picked.user_id`

const COMPLETE = `
  UPDATE subscription_processing sp
     SET status = 'completed', last_run_at = now(), next_run_at = CASE s.frequency
           WHEN 'weekly' THEN sp.next_run_at + interval '7 days'
           WHEN 'monthly' THEN sp.next_run_at + interval '1 month'
           ELSE sp.next_run_at + interval '1 day' END,
         error = NULL, updated_at = now()
    FROM subscriptions s
   WHERE sp.id = ANY($1::uuid[]) AND s.id = sp.subscription_id`

export async function runFanout(pool: pg.Pool, worker: WorkerClient, options: FanoutOptions = {}): Promise<BaselineRun> {
  const chunk = options.chunk ?? 1000
  const boss = new PgBoss({
    db: { executeSql: async (text, values) => await pool.query(text, values as unknown[] | undefined) },
    schema: options.schema ?? 'pgboss',
  })
  boss.on('error', (error) => console.log(`pg-boss error: ${error.message}`))
  await boss.start()
  if (!(await boss.getQueue(QUEUE))) await boss.createQueue(QUEUE, { policy: 'standard' })

  let claimed = 0
  let done = 0
  let claiming = true
  let finish!: () => void
  const finished = new Promise<void>((resolve) => (finish = resolve))
  const check = () => {
    if (!claiming && done >= claimed) finish()
  }
  const signal = new AbortController().signal

  await boss.work<FanoutJob>(
    QUEUE,
    {
      batchSize: options.batchSize ?? 500,
      localConcurrency: options.localConcurrency ?? 2,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1,
    },
    async (jobs: Job<FanoutJob>[]) => {
      await Promise.all(
        jobs.map((job) =>
          worker.process(
            {
              subscriptionId: job.data.subscriptionId,
              userId: job.data.userId,
              processingId: job.data.processingId,
              scheduledFor: job.data.scheduledFor,
              attempt: 1,
              idempotencyKey: `${job.data.subscriptionId}:${job.data.scheduledFor}`,
            },
            { signal },
          ),
        ),
      )
      await pool.query(COMPLETE, [jobs.map((job) => job.data.processingId)])
      done += jobs.length
      check()
    },
  )

  options.onDrainStart?.()
  const started = performance.now()
  for (;;) {
    const { rows } = await pool.query<{ id: string; subscription_id: string; slot: Date; user_id: string }>(CLAIM, [chunk])
    if (rows.length === 0) break
    claimed += rows.length
    const data = rows.map((r) => ({
      data: { processingId: r.id, subscriptionId: r.subscription_id, userId: r.user_id, scheduledFor: r.slot.toISOString() },
    }))
    await boss.insert(QUEUE, data)
  }
  claiming = false
  check()
  await finished
  const wallMs = performance.now() - started
  await boss.stop({ graceful: true, close: false, timeout: 5000 })
  return { processed: done, wallMs }
}
