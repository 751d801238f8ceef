/**
 * What an operator asks first: how many rows are in each state, what ran last, when the next
 * sweep fires, and how much work is waiting.
 */
import { CronExpressionParser } from 'cron-parser'
import { sweepPredicate } from '../sweep/claim-sql.js'
import type { Executor } from '../db/executor.js'
import { bossTableInstalled, quoteIdent, withTransaction } from '../db/executor.js'
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import { queueNames } from '../runtime/boss.js'
import { readSharedSettings } from '../runtime/shared-settings.js'
import { listRuns, SWEEP_TRIGGERS, unfinishedRuns } from './run-list.js'
import type { RunSummary } from './runs.js'
import { SUBSCRIPTION_STATUSES } from '../db/names.js'
import type { SubscriptionStatus } from '../db/names.js'
import { readCallLimits } from './call-limits.js'
import type { CallLimitsStatus } from './call-limits.js'
import { readCallsPause } from './calls-pause.js'
import type { CallsPause } from './calls-pause.js'

export interface SchedulerStatus {
  /**
   * Rows by status; statuses no row has are 0. Rows whose host subscription is inactive count
   * as `inactive`, whatever their status. Unknown statuses (from older code) are kept.
   */
  counts: Record<SubscriptionStatus | 'inactive', number> & Record<string, number>
  total: number
  /**
   * Host subscriptions with no `subscription_processing` row yet. The next sweep enrols them
   * (unless `autoEnroll: false`; then `enroll()` or `enrollMissing()` does).
   */
  unenrolled: number
  /**
   * Rows a sweep started now would take: active subscriptions whose slot has come, and claims
   * whose lease ran out. Not a failed slot waiting out its delay (`retryAt`), nor a paused row.
   */
  due: number
  /** Rows paused after failing `pauseAfterConsecutiveFailures` slots in a row; `retryFailed()` re-drives them. */
  pausedForFailures: number
  /** The latest run of any kind: a sweep, a retry, one subscription run on demand, a backfill, a rescue. */
  lastRun: RunSummary | null
  /** The latest sweep of everything due: by the cron schedule, a catch-up, or `runNow()`. */
  lastSweep: RunSummary | null
  /**
   * The runs not finished yet (sweeping, or with outcomes to settle), and the one that started
   * first: a big run still settling while later, smaller ones finish is not `lastRun`.
   */
  unfinishedRuns: { count: number; oldest: RunSummary | null }
  /** The next cron fire, in UTC, of the schedule registered in the database (else of the options). */
  nextFireAt: Date
  /**
   * The sweep schedule in force: registered by some instance's `start()`, or only configured here;
   * with `runAt`, the time of day of subscriptions with none of their own, and `autoEnroll`,
   * whether sweeps enrol the `unenrolled`, as the scheduling instances published them (else this
   * instance's options).
   */
  schedule: { cron: string; timezone: string; registered: boolean; runAt: string; autoEnroll: boolean }
  /**
   * Work enqueued and not yet settled: rows waiting for a job, rows an instance has taken (call
   * in flight or next in line), and rows whose job failed for good with their outcome unrecorded
   * (`stranded`: they wait for their claim's lease; `runSubscription()` takes one at once).
   */
  queue: { waiting: number; active: number; stranded: number }
  /**
   * The call limits every instance shares, how much of them is in use, and the calls held back;
   * null while the database's tables are older than this version's (`migrate`, or the first
   * instance of this version to start, updates them).
   */
  limits: CallLimitsStatus | null
  /** Calls paused fleet-wide (`pauseCalls()`): since when, and the note; null when they are not. */
  callsPaused: CallsPause | null
}

export function nextFireAt(options: Pick<ResolvedOptions, 'cron' | 'timezone'>, now: Date): Date {
  return CronExpressionParser.parse(options.cron, { tz: options.timezone, currentDate: now }).next().toDate()
}

/**
 * Rows a sweep at `now` would take: due ones, or ones whose claim expired. Active subscriptions
 * only. Written with the claim's own predicate, so the partial indexes answer it: it runs at
 * every run start and every instance's minutely reading of the gauges, and must not scan the table.
 */
export async function countDue(db: Executor, now: Date, kind: 'due' | 'expired' | 'all'): Promise<number> {
  const kinds = kind === 'all' ? (['due', 'expired'] as const) : [kind]
  const counts = await Promise.all(
    kinds.map(async (k) => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id
          WHERE s.active IS TRUE AND ${sweepPredicate(k)}`,
        [now],
      )
      return rows[0]?.n ?? 0
    }),
  )
  return counts.reduce((sum, n) => sum + n, 0)
}

/**
 * Rows claimed by a run and not settled yet: waiting for their call, in it, or waiting for a retry.
 * Answered by the partial index of claims (subscription_processing_lease_idx), in time that grows
 * with their number, not the table's.
 */
export async function countQueued(db: Executor): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM subscription_processing WHERE status IN ('queued', 'processing')`)
  return rows[0]?.n ?? 0
}

/**
 * Counts the rows due at `now` as they are when this is called, though the count itself may take
 * a while: it reads a snapshot taken before `snapshotTaken` resolves, so a sweep started after
 * that may claim rows meanwhile and they are still counted. A failure resolves `snapshotTaken`
 * too: a gauge must never keep a sweep waiting.
 */
export function countDueAsOfNow(pool: Pool, now: Date): { snapshotTaken: Promise<void>; count: Promise<number> } {
  let taken!: () => void
  const snapshotTaken = new Promise<void>((resolve) => (taken = resolve))
  const count = withTransaction(pool, async (tx) => {
    // A repeatable-read transaction's snapshot is taken by its first statement.
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY')
    await tx.query('SELECT 1')
    taken()
    return await countDue(tx, now, 'due')
  })
  void count.then(taken, taken)
  return { snapshotTaken, count }
}

/**
 * The schedule pg-boss holds for the sweep queue. Read from pg-boss's table rather than this
 * instance's options: another instance (or an older deploy) may have registered a different one.
 */
export async function registeredSchedule(db: Executor, options: Pick<ResolvedOptions, 'bossSchema' | 'queuePrefix'>): Promise<{ cron: string; timezone: string } | null> {
  // pg-boss not installed yet (migrate() alone): nothing registered.
  if (!(await bossTableInstalled(db, options.bossSchema, 'schedule'))) return null
  const { rows } = await db.query<{ cron: string; timezone: string }>(
    `SELECT cron, timezone FROM ${quoteIdent(options.bossSchema)}.schedule WHERE name = $1 AND key = 'default'`,
    [`${options.queuePrefix}.sweep`],
  )
  return rows[0] ?? null
}

/**
 * When the next scheduled sweep runs: by the schedule registered in the database (whichever
 * instance registered it), else by this instance's options if it registers one, else now.
 */
export async function nextSweepAt(db: Executor, options: ResolvedOptions, now: Date): Promise<Date> {
  const registered = await registeredSchedule(db, options)
  if (registered) return nextFireAt(registered, now)
  return options.schedule ? nextFireAt(options, now) : now
}

/**
 * Queued rows owned by a process job pg-boss has handed out (`taken`: its call in flight, or next
 * in line there; they show as `processing`), or by one that failed for good with their outcomes
 * unrecorded (`stranded`).
 */
async function jobRows(db: Executor, options: ResolvedOptions): Promise<{ taken: number; stranded: number }> {
  try {
    const { rows } = await db.query<{ taken: number; stranded: number }>(
      `SELECT count(*) FILTER (WHERE j.state = 'active')::int AS taken, count(*) FILTER (WHERE j.state = 'failed')::int AS stranded
         FROM ${quoteIdent(options.bossSchema)}.job j
        CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(j.data -> 'ids') = 'array' THEN j.data -> 'ids' END) AS e(id)
         JOIN subscription_processing sp ON sp.id = e.id::uuid AND sp.job_id = j.id AND sp.status = 'queued'
        WHERE j.name = $1 AND j.state IN ('active', 'failed')`,
      [queueNames(options.queuePrefix).process],
    )
    return { taken: rows[0]?.taken ?? 0, stranded: rows[0]?.stranded ?? 0 }
  } catch {
    return { taken: 0, stranded: 0 } // pg-boss not installed yet: nothing taken
  }
}

export async function getStatus(db: Executor, options: ResolvedOptions): Promise<SchedulerStatus> {
  const now = options.clock.now()
  const [registered, published] = await Promise.all([registeredSchedule(db, options), readSharedSettings(db, options.queuePrefix)])
  const schedule = {
    cron: registered?.cron ?? options.cron,
    timezone: registered?.timezone ?? options.timezone,
    registered: registered !== null,
    runAt: published?.runAt ?? options.runAt,
    autoEnroll: published?.autoEnroll ?? options.autoEnroll,
  }
  const [{ rows: byStatus }, { rows: [host] }, due, [lastRun], [lastSweep], unfinished, { taken, stranded }, limits] = await Promise.all([
    // Every row by status in one pass, with no join, then the rows of inactive host subscriptions
    // (counted as 'inactive' whatever their status), found from the host's side (few, as a rule)
    // each by its unique subscription key; every row has its host subscription (the foreign key).
    // One statement, so both see one snapshot. A join of the two tables hashed every row of both:
    // 378 ms at 1M rows against 138 (bench/RESULTS.md, bench/diagnose/status-cost.ts).
    // A 'processing' row is an older version's call in flight, under its claim's lease, or (no
    // lease) one the MVP left stuck: no instance holds that one, so it is no active work.
    db.query<{ status: string; inactive: boolean; n: number; paused: number; claimed: number }>(
      `SELECT status, false AS inactive, count(*)::int AS n,
              count(*) FILTER (WHERE status = 'paused' AND paused_reason = 'failures')::int AS paused,
              count(*) FILTER (WHERE status = 'processing' AND lease_expires_at IS NOT NULL)::int AS claimed
         FROM subscription_processing GROUP BY 1
       UNION ALL
       SELECT sp.status, true, count(*)::int, 0, 0
         FROM subscriptions s JOIN subscription_processing sp ON sp.subscription_id = s.id
        WHERE s.active IS NOT TRUE GROUP BY 1`,
    ),
    db.query<{ n: string }>(`SELECT count(*) AS n FROM subscriptions`),
    countDue(db, now, 'all'),
    listRuns(db, { limit: 1 }),
    listRuns(db, { limit: 1, triggers: SWEEP_TRIGGERS }),
    unfinishedRuns(db),
    jobRows(db, options),
    readCallLimits(db, options.queuePrefix),
  ])
  const callsPaused = await readCallsPause(db, options.queuePrefix)
  const counts = Object.fromEntries([...SUBSCRIPTION_STATUSES, 'inactive'].map((s) => [s, 0])) as SchedulerStatus['counts']
  for (const { status, n } of byStatus.filter((row) => !row.inactive)) counts[status] = n
  for (const { status, n } of byStatus.filter((row) => row.inactive)) {
    counts[status]! -= n
    counts.inactive += n
  }
  const sum = (column: 'n' | 'paused' | 'claimed') => byStatus.reduce((all, row) => all + (row.inactive ? 0 : row[column]), 0)
  const moved = Math.min(taken, counts.queued)
  counts.queued -= moved
  counts.processing += moved
  const total = sum('n')
  return {
    counts,
    total,
    // Rows reference subscriptions and are one per subscription: the difference is exact.
    unenrolled: Math.max(0, Number(host?.n ?? 0) - total),
    due,
    pausedForFailures: sum('paused'),
    lastRun: lastRun ?? null,
    lastSweep: lastSweep ?? null,
    unfinishedRuns: unfinished,
    nextFireAt: nextFireAt(schedule, now),
    schedule,
    queue: { waiting: Math.max(0, counts.queued - stranded), active: moved + sum('claimed'), stranded },
    limits,
    callsPaused,
  }
}
