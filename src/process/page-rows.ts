/**
 * The two reads of a page job's rows, each by primary key:
 * - when the job starts: of the rows it was given, those it still owns and may call (with what
 *   their calls need), and those it owns but may not (paused, their subscription inactive or
 *   deleted since the claim, or calls paused fleet-wide), which it lets go of as skipped. Rows another job owns now (a rescue
 *   took them, or a delivery before this one settled them) are none of its business;
 * - while its rows wait their turn: which of them it still owns and may call.
 *
 * Reads asked for in the same turn of the event loop (the jobs of one fetch starting, or their
 * re-checks falling together) are one statement: each statement costs the server a share of its
 * own, besides its rows.
 */
import type { Executor } from '../db/executor.js'
import type { PageRow } from '../settle/outcome.js'
import { START_END_COLUMNS } from '../records/instants.js'
import { callsPausedSql } from '../records/calls-pause.js'

export interface PageRows {
  callable: PageRow[]
  /** Owned, but not callable or gone: to be let go of and counted skipped, once. */
  leftovers: string[]
}

interface ReadRow extends PageRow {
  job_id: string | null
  status: string
  active: boolean | null
}

/** Reads, for a job that starts, what its rows are now. */
export interface PageReader {
  read(jobId: string, ids: string[]): Promise<PageRows>
}

/** Reads, for rows waiting in a job, which of them that job still owns and may call. */
export interface CallableReader {
  /**
   * Of `ids`, those `jobId` still owns and may call (not paused, deactivated or deleted), each with
   * its subscription's `user_id` as it is now (null when it has none).
   */
  read(jobId: string, ids: string[]): Promise<Map<string, string | null>>
}

interface Request {
  jobId: string
  ids: string[]
}

/** Sends the requests made in one turn of the event loop as one call of `run`. */
function perTurn<R>(run: (requests: Request[]) => Promise<R[]>): (jobId: string, ids: string[]) => Promise<R> {
  type Waiting = Request & { resolve(result: R): void; reject(error: unknown): void }
  let batch: Waiting[] | null = null
  return (jobId, ids) =>
    new Promise<R>((resolve, reject) => {
      if (!batch) {
        const requests: Waiting[] = []
        batch = requests
        setImmediate(() => {
          batch = null
          run(requests).then(
            (results) => requests.forEach((r, i) => r.resolve(results[i]!)),
            (error: unknown) => requests.forEach((r) => r.reject(error)),
          )
        })
      }
      batch.push({ jobId, ids, resolve, reject })
    })
}

/**
 * Each row's subscription, looked up by its key. As a plain join, a read of a thousand rows was
 * planned as a hash join over the whole host table (a fetch's jobs read together, and a slow
 * worker's rows in hand are read again every 250 ms): `LIMIT 1` keeps the subquery from being
 * flattened into one, and `id` is the host table's key, so it changes no answer.
 */
const SUBSCRIPTION = `SELECT s.user_id, s.frequency, s.active FROM subscriptions s WHERE s.id = sp.subscription_id LIMIT 1`

/** `scope`: the scheduler's queue prefix, whose calls a fleet-wide pause (calls-pause.ts) may hold. */
export function createPageReader(db: Executor, scope: string): PageReader {
  const read = perTurn(async (requests): Promise<PageRows[]> => {
    const { rows } = await db.query<ReadRow & { calls_paused: boolean }>(
      `SELECT sp.id, sp.subscription_id, s.user_id::text AS user_id, s.frequency::text AS frequency, sp.timezone,
              sp.anchor_at, sp.run_at, ${START_END_COLUMNS}, sp.scheduled_for, sp.attempts, sp.run_id, sp.job_id,
              sp.status, s.active, ${callsPausedSql('$2')} AS calls_paused
         FROM subscription_processing sp LEFT JOIN LATERAL (${SUBSCRIPTION}) s ON true
        WHERE sp.id = ANY($1::uuid[])`,
      [requests.flatMap((r) => r.ids), scope],
    )
    const found = new Map(rows.map((row) => [row.id, row]))
    return requests.map(({ jobId, ids }) => {
      const page: PageRows = { callable: [], leftovers: [] }
      for (const id of ids) {
        const row = found.get(id)
        if (!row) page.leftovers.push(id)
        else if (row.job_id !== jobId) continue
        else if (row.status === 'queued' && row.active === true && !row.calls_paused) page.callable.push(row)
        else page.leftovers.push(id)
      }
      return page
    })
  })
  return { read }
}

export function createCallableReader(db: Executor, scope: string): CallableReader {
  const read = perTurn(async (requests): Promise<Map<string, string | null>[]> => {
    const { rows } = await db.query<{ id: string; job_id: string; user_id: string | null }>(
      `SELECT sp.id, sp.job_id, s.user_id::text AS user_id FROM subscription_processing sp CROSS JOIN LATERAL (${SUBSCRIPTION}) s
        WHERE sp.id = ANY($1::uuid[]) AND (sp.status = 'queued' AND s.active) IS TRUE AND NOT ${callsPausedSql('$2')}`,
      [requests.flatMap((r) => r.ids), scope],
    )
    const found = new Map(rows.map((r) => [r.id, r]))
    return requests.map((r) => new Map(r.ids.flatMap((id) => {
      const row = found.get(id)
      return row?.job_id === r.jobId ? [[id, row.user_id] as const] : []
    })))
  })
  return { read }
}
