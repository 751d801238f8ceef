/**
 * The scheduler's instances as they report themselves: each started instance writes its row,
 * touches it every {@link INSTANCE_REPORT_MS} while it runs, and marks it stopped when `stop()`
 * ends. An instance killed cannot say so: its row goes silent, which the database's own clock
 * tells (never a host's, whose clock may be off). Rows stopped or silent for a day are pruned.
 */
import type { BreakerHealth } from '../process/breaker.js'
import type { Executor } from '../db/executor.js'
import type { CallLoad } from '../process/call-gate.js'
import { TABLES } from '../db/names.js'

const INSTANCES = TABLES.instances

/** How often a running instance touches its row. */
export const INSTANCE_REPORT_MS = 15_000
/** An instance whose row has not been touched for this long is silent: killed, frozen, or cut off from the database. */
export const SILENT_AFTER_SECONDS = 60
/**
 * Calls an instance reported are counted while its report is this fresh: a busy instance reports
 * at least every {@link INSTANCE_REPORT_MS}, so a killed one's calls drop out after two missed
 * reports, not at the minute it takes to be called silent.
 */
export const CALLS_FRESH_SECONDS = (2 * INSTANCE_REPORT_MS) / 1000
/** SQL: an instance row that is running, neither stopped nor silent. */
export const RUNNING_INSTANCE = `(stopped_at IS NULL AND seen_at >= now() - make_interval(secs => ${SILENT_AFTER_SECONDS}))`
/** SQL: a running instance whose report of its calls is fresh enough to count them ({@link CALLS_FRESH_SECONDS}). */
export const CALLS_COUNTED = `(${RUNNING_INSTANCE} AND seen_at >= now() - make_interval(secs => ${CALLS_FRESH_SECONDS}))`

/** One instance, as `listInstances()` returns it. */
export interface InstanceInfo {
  instanceId: string
  /** Its host name and process id. */
  host: string
  pid: number
  /** The package version it runs. */
  version: string
  /** It registers the cron schedule (`schedule` option). */
  schedules: boolean
  /** It calls the worker (`work` option), `concurrency` calls at once at most. */
  works: boolean
  concurrency: number
  /**
   * Its `maxConcurrentCalls` and `maxCallsPerSecond` options (shared by every instance, set by the
   * last to start); null when unset, or for an instance of a version from before they were reported.
   */
  maxConcurrentCalls: number | null
  maxCallsPerSecond: number | null
  /**
   * Its worker calls at its last report (within 5 s of a change; within a second once call slots
   * free up with nothing waiting, for a busy peer's share-out): in flight, and ready but held
   * back (waiting for one of its `concurrency` slots, a permit of `maxConcurrentCalls`, or its turn
   * under `maxCallsPerSecond`). None (zeros) once it has stopped; a silent one keeps its last
   * report. Null for an instance that calls no worker, or runs an older version.
   */
  calls: CallLoad | null
  /**
   * `running`: reported within the last minute; `stopped`: its `stop()` finished; `silent`: no
   * report for a minute, and no stop (killed, or cut off from the database).
   */
  state: 'running' | 'stopped' | 'silent'
  /** Its circuit breaker at its last report; null without one. */
  breaker: BreakerHealth | null
  startedAt: Date
  /** Its last report. */
  seenAt: Date
  stoppedAt: Date | null
}

/**
 * Which scheduler's instances: its queue prefix and pg-boss schema. An instance under another
 * `bossSchema` works the queues of that schema, none of this one's jobs. Rows an older version
 * wrote name no schema, and are counted in every one.
 */
export interface InstanceScope {
  queuePrefix: string
  bossSchema: string
}

/** SQL: a row of the scope given as $1 (queue prefix) and $2 (pg-boss schema). */
const IN_SCOPE = '(scope = $1 AND (boss_schema = $2 OR boss_schema IS NULL))'

/** What an instance says of itself in each report. */
export type InstanceIdentity = { id: string } & InstanceScope & Pick<
  InstanceInfo,
  'host' | 'pid' | 'version' | 'schedules' | 'works' | 'concurrency' | 'maxConcurrentCalls' | 'maxCallsPerSecond'
>

/** What changes from one report to the next. */
export interface InstanceReport {
  breaker: BreakerHealth | null
  calls: CallLoad | null
}

/**
 * Writes the row, or touches it, with the breaker and calls as they stand: a row pruned meanwhile
 * (an instance cut off from the database for a day) is written again; a row marked stopped is
 * left as it is (a report still in flight when `stop()` marked it).
 */
export async function reportInstance(db: Executor, me: InstanceIdentity, report: InstanceReport): Promise<void> {
  await db.query(
    `INSERT INTO ${INSTANCES} (id, scope, boss_schema, host, pid, version, schedules, works, concurrency, max_concurrent_calls, max_calls_per_second, breaker, calls)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (id) DO UPDATE SET seen_at = now(), breaker = EXCLUDED.breaker, calls = EXCLUDED.calls
     WHERE ${INSTANCES}.stopped_at IS NULL`,
    [me.id, me.queuePrefix, me.bossSchema, me.host, me.pid, me.version, me.schedules, me.works, me.concurrency, me.maxConcurrentCalls, me.maxCallsPerSecond, report.breaker, report.calls],
  )
}

export async function markInstanceStopped(db: Executor, id: string): Promise<void> {
  // A stopped instance calls nobody: its breaker, open or not, is no longer one to show, and the
  // calls of its last report (made while it stopped) are none now. Null stays null: it called no worker.
  await db.query(
    `UPDATE ${INSTANCES} SET seen_at = now(), stopped_at = now(), breaker = NULL,
       calls = CASE WHEN calls IS NULL THEN NULL ELSE jsonb_build_object('inFlight', 0, 'waiting', 0) END
     WHERE id = $1`,
    [id],
  )
}

/** A row as read: the identity's columns, its times, its breaker as stored (JSON), and its state. */
type InstanceRow = Omit<InstanceIdentity, keyof InstanceScope | 'maxConcurrentCalls' | 'maxCallsPerSecond'> & Pick<InstanceInfo, 'state' | 'calls'> & {
  max_concurrent_calls: number | null
  max_calls_per_second: number | null
  breaker: { state: BreakerHealth['state']; openSince: string | null; until: string | null } | null
  started_at: Date
  seen_at: Date
  stopped_at: Date | null
}

const date = (iso: string | null) => (iso === null ? null : new Date(iso))

/** The instances of the scheduler `scope`: running ones first, then the latest started. */
export async function listInstances(db: Executor, scope: InstanceScope): Promise<InstanceInfo[]> {
  const { rows } = await db.query<InstanceRow>(
    `SELECT *, CASE WHEN stopped_at IS NOT NULL THEN 'stopped' WHEN ${RUNNING_INSTANCE} THEN 'running' ELSE 'silent' END AS state
       FROM ${INSTANCES} WHERE ${IN_SCOPE}
      ORDER BY ${RUNNING_INSTANCE} DESC, started_at DESC, id LIMIT 1000`,
    [scope.queuePrefix, scope.bossSchema],
  )
  return rows.map((row) => ({
    instanceId: row.id, host: row.host, pid: row.pid, version: row.version,
    schedules: row.schedules, works: row.works, concurrency: row.concurrency,
    maxConcurrentCalls: row.max_concurrent_calls, maxCallsPerSecond: row.max_calls_per_second, calls: row.calls, state: row.state,
    breaker: row.breaker && { state: row.breaker.state, openSince: date(row.breaker.openSince), until: date(row.breaker.until) },
    startedAt: row.started_at, seenAt: row.seen_at, stoppedAt: row.stopped_at,
  }))
}

/**
 * Whether an instance of the scheduler `scope` that calls the worker (`work: true`) has reported
 * within `withinSeconds` without stopping: a running one reports every 15 s at most.
 */
export async function someInstanceWorks(db: Executor, scope: InstanceScope, withinSeconds: number): Promise<boolean> {
  const { rows } = await db.query<{ some: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${INSTANCES} WHERE ${IN_SCOPE} AND works AND stopped_at IS NULL AND seen_at >= now() - make_interval(secs => $3)) AS some`,
    [scope.queuePrefix, scope.bossSchema, withinSeconds],
  )
  return rows[0]?.some === true
}

/**
 * Call slots free on the other running instances of `scope` that have no call waiting, by their
 * last reports (fresh ones), their circuit breakers closed: what they can call at once.
 */
export async function spareCallSlots(db: Executor, scope: InstanceScope, exceptId: string): Promise<number> {
  const { rows } = await db.query<{ spare: number }>(
    `SELECT coalesce(sum(greatest(0, concurrency - (calls ->> 'inFlight')::int)), 0)::int AS spare
       FROM ${INSTANCES}
      WHERE ${IN_SCOPE} AND id <> $3 AND works AND ${CALLS_COUNTED}
        AND (calls ->> 'waiting')::int = 0 AND (breaker IS NULL OR breaker ->> 'state' = 'closed')`,
    [scope.queuePrefix, scope.bossSchema, exceptId],
  )
  return rows[0]?.spare ?? 0
}

/** Deletes the rows of instances stopped or silent for a day. */
export async function pruneInstances(db: Executor): Promise<void> {
  await db.query(`DELETE FROM ${INSTANCES} WHERE seen_at < now() - interval '1 day'`)
}
