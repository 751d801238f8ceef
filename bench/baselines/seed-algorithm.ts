/**
 * Baseline (b): the original MVP's algorithm, drained in a loop until nothing is due.
 *
 * Each round SELECTs the next 100 due rows (the MVP's selection, joined with `subscriptions`,
 * `ORDER BY next_run_at LIMIT 100`), then processes them 5 at a time, each with two UPDATEs:
 * `processing` before the worker call, `completed` with the next `next_run_at` after it. No
 * locking, no queue: this is what the library replaces, and what its speed-up is measured on.
 */
import type pg from 'pg'
import type { WorkerClient } from '../../src/index.js'
import type { BaselineRun } from './pg-boss-fanout.js'

export interface SeedAlgorithmOptions {
  /** Rows per SELECT. @default 100 */
  pageSize?: number
  /** Rows processed at once. @default 5 */
  parallel?: number
}

interface DueRow {
  id: string
  subscription_id: string
  user_id: string
  frequency: string | null
  next_run_at: Date | null
}

const SELECT_DUE = `
  SELECT sp.id, sp.subscription_id, s.user_id::text AS user_id, s.frequency, sp.next_run_at
    FROM subscription_processing sp
    JOIN subscriptions s ON s.id = sp.subscription_id
   WHERE s.active = true
     AND ((sp.status IN ('pending', 'failed') AND (sp.next_run_at IS NULL OR sp.next_run_at <= now()))
       OR (sp.status = 'completed' AND sp.next_run_at <= now()))
   ORDER BY sp.next_run_at
   LIMIT $1`

const MARK_PROCESSING = `UPDATE subscription_processing SET status = 'processing', updated_at = now() WHERE id = $1`

const MARK_COMPLETED = `
  UPDATE subscription_processing
     SET status = 'completed', last_run_at = now(), next_run_at = $2, error = NULL, updated_at = now()
   WHERE id = $1`

/** The MVP's next run: the same time tomorrow, next week or next month. */
export function nextRunAfter(frequency: string | null, from: Date): Date {
  const next = new Date(from)
  if (frequency === 'weekly') next.setUTCDate(next.getUTCDate() + 7)
  else if (frequency === 'monthly') next.setUTCMonth(next.getUTCMonth() + 1)
  else next.setUTCDate(next.getUTCDate() + 1)
  return next
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const runner = async () => {
    while (next < items.length) {
      const item = items[next++]!
      await fn(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner))
}

export async function runSeedAlgorithm(
  pool: pg.Pool,
  worker: WorkerClient,
  options: SeedAlgorithmOptions = {},
): Promise<BaselineRun & { pages: number }> {
  const pageSize = options.pageSize ?? 100
  const parallel = options.parallel ?? 5
  const signal = new AbortController().signal
  let processed = 0
  let pages = 0
  const started = performance.now()
  for (;;) {
    const { rows } = await pool.query<DueRow>(SELECT_DUE, [pageSize])
    if (rows.length === 0) break
    pages += 1
    await forEachLimited(rows, parallel, async (row) => {
      await pool.query(MARK_PROCESSING, [row.id])
      const scheduledFor = (row.next_run_at ?? new Date()).toISOString()
      await worker.process(
        {
          subscriptionId: row.subscription_id,
          userId: row.user_id,
          processingId: row.id,
          scheduledFor,
          attempt: 1,
          idempotencyKey: `${row.subscription_id}:${scheduledFor}`,
        },
        { signal },
      )
      await pool.query(MARK_COMPLETED, [row.id, nextRunAfter(row.frequency, new Date())])
      processed += 1
    })
  }
  return { processed, wallMs: performance.now() - started, pages }
}
