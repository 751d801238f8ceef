/**
 * The run history, newest first, a page at a time: `listRuns()`, `GET /runs` and the dashboard's
 * runs page. A page goes on from the last run of the page before (`before`), not from an offset,
 * so that runs started meanwhile do not shift it: paging back shows no run twice and misses none.
 */
import type { Executor } from '../db/executor.js'
import { isRunTrigger, RUN_TRIGGERS, TABLES } from '../db/names.js'
import type { RunTrigger } from '../db/names.js'
import { ConfigurationError, NotFoundError } from '../errors.js'
import { shown } from '../error-text.js'
import { toSummary } from './runs.js'
import type { RunRow, RunSummary } from './runs.js'

const RUNS = TABLES.runs

/** The runs that sweep everything due, as `getStatus().lastSweep` counts them. */
export const SWEEP_TRIGGERS: readonly RunTrigger[] = ['cron', 'catch-up', 'manual']

/** Which runs to list, checked. */
export interface RunListPage {
  limit: number
  /** Only runs that started before this run (by start, then id): the last run of the page before. */
  before?: string | undefined
  /** Only runs with one of these triggers. */
  triggers?: readonly RunTrigger[] | undefined
  /** Only runs not finished yet: sweeping, or with outcomes still to settle. */
  unfinished?: boolean | undefined
  /** Only the runs of this one subscription: its runs on demand and its backfills. */
  subscriptionId?: string | undefined
}

/** `listRuns()`'s `trigger`: one trigger or an array of them; undefined lists every run. */
export function checkTriggers(value: unknown): RunTrigger[] | undefined {
  if (value === undefined) return undefined
  const list: unknown[] = Array.isArray(value) ? value : [value]
  const bad = list.find((t) => !isRunTrigger(t))
  if (list.length === 0 || bad !== undefined) {
    throw new ConfigurationError('trigger', `expected one of ${RUN_TRIGGERS.join(', ')}, or an array of them; got ${shown(list.length === 0 ? value : bad)}.`)
  }
  return list as RunTrigger[]
}

/**
 * The latest `limit` runs, newest first (by start, then id); only those of `triggers` when given,
 * only unfinished ones when asked, and only those before the run `before` when given. `NotFoundError` when no run has that id (a
 * mistyped id, or a run pruned after `historyRetentionDays`).
 */
export async function listRuns(db: Executor, page: RunListPage): Promise<RunSummary[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT * FROM ${RUNS}
      WHERE ($2::text[] IS NULL OR trigger = ANY($2::text[]))
        AND ($3::uuid IS NULL OR (started_at, id) < (SELECT b.started_at, b.id FROM ${RUNS} b WHERE b.id = $3::uuid))
        AND ($4::boolean IS NOT TRUE OR finished_at IS NULL)
        AND ($5::uuid IS NULL OR subscription_id = $5::uuid)
      ORDER BY started_at DESC, id DESC LIMIT $1`,
    [page.limit, page.triggers ?? null, page.before ?? null, page.unfinished === true, page.subscriptionId ?? null],
  )
  if (rows.length === 0 && page.before !== undefined) {
    const { rows: found } = await db.query(`SELECT 1 FROM ${RUNS} WHERE id = $1`, [page.before])
    if (found.length === 0) {
      throw new NotFoundError(`No run with id ${page.before} to list the runs before: it may have been pruned (historyRetentionDays). List from the newest run again.`, { runId: page.before })
    }
  }
  return rows.map(toSummary)
}

/** The runs not finished yet: how many, and the one that started first (null when none). */
export async function unfinishedRuns(db: Executor): Promise<{ count: number; oldest: RunSummary | null }> {
  const { rows } = await db.query<RunRow & { unfinished: number }>(
    `SELECT r.*, count(*) OVER ()::int AS unfinished FROM ${RUNS} r
      WHERE r.finished_at IS NULL ORDER BY r.started_at, r.id LIMIT 1`,
  )
  const oldest = rows[0]
  return { count: oldest?.unfinished ?? 0, oldest: oldest ? toSummary(oldest) : null }
}
