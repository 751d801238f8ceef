/**
 * pg-boss runs on the host's own pool: no second pool, no extra service. This module builds the
 * instance and keeps the library's queues in step with the options.
 */
import { isDatabaseClock } from '../observe/database-clock.js'
import type { Pool } from 'pg'
import { PgBoss } from 'pg-boss'
import type { Db, Queue } from 'pg-boss'
import type { Logger } from '../observe/logger.js'
import { outageOf } from '../observe/outage.js'
import { isTransactionConflict, isTransientDbError } from '../db/transient.js'
import { isEndedPoolError, POOL_ENDED_WHILE_RUNNING } from '../db/pool-shape.js'
import { limitedLogOf, UNREACHABLE_DATABASE } from '../observe/limited-log.js'
import { describeError } from '../observe/describe-error.js'
import type { ResolvedOptions } from '../config/options.js'
import { listen } from './listener.js'
import type { JobQueue } from '../sweep/live-claims.js'

export interface QueueNames {
  /** One job per cron occurrence: run a sweep. */
  sweep: string
  /** Page jobs: one per page a sweep claims, and one per retry of a subscription. */
  process: string
  /** Subscriptions whose slot failed for good, and page jobs whose instance died too often. */
  dead: string
  /** Every minute or so: take back expired claims, prune history. */
  rescue: string
}

export function queueNames(prefix: string): QueueNames {
  return { sweep: `${prefix}.sweep`, process: `${prefix}.process`, dead: `${prefix}.dead`, rescue: `${prefix}.rescue` }
}

/** Where the jobs that own rows live, for these options (live-claims.ts). */
export function jobQueueOf(options: Pick<ResolvedOptions, 'bossSchema' | 'queuePrefix'>): JobQueue {
  return { bossSchema: options.bossSchema, processQueue: queueNames(options.queuePrefix).process }
}

/**
 * pg-boss's database seam, over a `pg.Pool` it does not own and never closes; with `logger`, it
 * can also listen for job notifications (listener.ts).
 */
export function poolAdapter(pool: Pool, logger?: Logger): Db {
  return {
    executeSql: async (text, values) => await pool.query(text, values as unknown[] | undefined),
    poolCounts: () => ({ max: pool.options.max ?? 10, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    ...(logger ? { listen: (channel: string, onNotification: (payload: string) => void, onReconnect: () => void) => listen(pool, logger, channel, onNotification, onReconnect) } : {}),
  }
}

/**
 * pg-boss checks heartbeats on its monitor pass, every minute by default: a dead instance's jobs
 * would wait that long to be given to another. Hosts can still set their own.
 */
const MONITOR_SECONDS = 10

export function createBoss(pool: Pool, options: ResolvedOptions): PgBoss {
  const boss = new PgBoss({
    db: poolAdapter(pool, options.logger),
    schema: options.bossSchema,
    // A page enqueued by one instance wakes the process workers of all (the queue's `notify`).
    useListenNotify: true,
    application_name: 'pg-subscription-scheduler',
    superviseIntervalSeconds: MONITOR_SECONDS,
    monitorIntervalSeconds: MONITOR_SECONDS,
    // Its cron goes by the host's clock corrected by its own reading of the database's (every
    // 10 minutes by default): after a step of the host's clock, it fired at the wrong times, or
    // not at all, for that long. Read as often as the scheduler reads it (database-clock.ts).
    clockMonitorIntervalSeconds: 60,
    ...options.pgBoss,
  })
  forwardBossEvents(boss, options)
  return boss
}

/**
 * One monitor pass over the scheduler's queues as the instance starts, not a supervise interval
 * later: jobs whose instance died (their heartbeat lapsed) go back to the queue at once, for this
 * instance and the others. A process that lives less than an interval (a triggered one-shot run,
 * a replica that crash-loops) never reached pg-boss's first pass, and a trial's killed one-shot
 * left its jobs active, and its 184 subscriptions uncalled, through every short run after it.
 * In the background: `start()` does not wait for it, and pg-boss's `stop()` does.
 */
export function superviseAtStart(boss: PgBoss, queues: QueueNames, logger: Logger): void {
  void (async () => {
    for (const name of [queues.process, queues.sweep]) await boss.supervise(name, { reindex: false })
  })().catch((error: unknown) => {
    logger.warn(`The start's look for jobs that instances which died left behind failed (${describeError(error)}); pg-boss's own pass looks again within ${MONITOR_SECONDS} s.`)
  })
}

/**
 * pg-boss reports connection loss and maintenance failures as events; an unhandled 'error' event
 * would crash the host, so they become log lines, and pg-boss keeps retrying. While the database
 * is out of reach each of its loops reports every poll (hundreds of lines a minute): those are
 * warnings, limited as the scheduler's own failed attempts are.
 */
export function forwardBossEvents(boss: Pick<PgBoss, 'on'>, options: Pick<ResolvedOptions, 'logger' | 'clock'>): void {
  // A pool the host ended: each of pg-boss's loops says so at every poll, which says nothing of why.
  let saidEnded = false
  boss.on('error', (error) => {
    if (isEndedPoolError(error)) {
      if (!saidEnded) options.logger.error(POOL_ENDED_WHILE_RUNNING)
      saidEnded = true
      return
    }
    if (!isTransientDbError(error)) return options.logger.error(`pg-boss: ${error.message}`)
    outageOf(options).unreachable(error)
    limitedLogOf(options, UNREACHABLE_DATABASE).warn(`pg-boss: ${error.message}`)
  })
  boss.on('warning', (warning) => {
    // Said better by the scheduler's own check (by how much, which way), and no longer true of it
    // ("will not break scheduling"): its default clock is corrected to the database's.
    if (isDatabaseClock(options.clock) && /clock skew/i.test(warning.message)) return
    options.logger.warn(`pg-boss: ${warning.message}`)
  })
}

/**
 * Creates the queues, or brings existing ones in line with the options: `createQueue` never
 * changes a queue that exists, so settings that may change go through `updateQueue`.
 */
export async function ensureQueues(boss: PgBoss, options: ResolvedOptions): Promise<QueueNames> {
  const names = queueNames(options.queuePrefix)
  await upsertQueue(boss, {
    name: names.dead,
    policy: 'standard',
    retentionSeconds: 30 * 86_400,
    // A worker outage dead-letters thousands of subscriptions at once; the failures table and
    // listFailing() say so. pg-boss's default (10,000 waiting jobs) warned about them on every
    // instance every minute, for the 30 days they are kept.
    warningQueueSize: 10_000_000,
  })
  await upsertQueue(boss, {
    name: names.process,
    // Every job carries a key of its own (page-job.ts); `exclusive` is what earlier versions
    // created, and a queue's policy cannot change.
    policy: 'exclusive',
    deadLetter: names.dead,
    // A job is retried only when its instance died or stopped: a row's failed call is settled
    // by the job itself (a retry job of its own, with backoff). Jobs set their own timings.
    retryLimit: 10,
    retryDelay: 1,
    retryBackoff: false,
    expireInSeconds: options.jobExpirySeconds,
    heartbeatSeconds: options.heartbeatSeconds,
    deleteAfterSeconds: 86_400,
    // The morning herd is this queue's normal shape, not an incident: pg-boss's default (10,000
    // waiting jobs) warned every minute of every big run. The due-backlog gauge tracks it instead.
    warningQueueSize: 10_000_000,
    // Each insert of runnable jobs notifies every instance's listener (boss.ts, listener.ts), so
    // the peers of a sweeping instance start on its pages at once rather than at their next poll.
    notify: true,
  })
  await upsertQueue(boss, {
    name: names.sweep,
    // One sweep at a time per database; a cron fire while one runs waits for it. A sweep whose
    // instance died is given to another within a heartbeat or two.
    policy: 'singleton',
    retryLimit: 2,
    retryDelay: 1,
    expireInSeconds: 3600,
    heartbeatSeconds: options.heartbeatSeconds,
    deleteAfterSeconds: 7 * 86_400,
  })
  await upsertQueue(boss, {
    name: names.rescue,
    // At most one queued or running: a slow pass makes the next ticks collapse into one.
    policy: 'exclusive',
    retryLimit: 0,
    expireInSeconds: 600,
    deleteAfterSeconds: 3600,
  })
  return names
}

/** Tries of a queue's upsert that a serialization failure cut short. */
const UPSERT_TRIES = 5

/**
 * Creates or updates one queue. On a database whose default isolation is SERIALIZABLE, pg-boss's
 * single statements run under it, and an update of the queue's row that meets another instance's
 * (its monitor pass, its own start) fails with a serialization failure (40001) where READ
 * COMMITTED would have waited: tried again, a few times.
 */
async function upsertQueue(boss: PgBoss, queue: Queue): Promise<void> {
  for (let tries = 1; ; tries += 1) {
    try {
      return await upsertQueueOnce(boss, queue)
    } catch (error) {
      if (tries >= UPSERT_TRIES || !isTransactionConflict(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, 20 * tries * (0.5 + Math.random())))
    }
  }
}

async function upsertQueueOnce(boss: PgBoss, queue: Queue): Promise<void> {
  const existing = await boss.getQueue(queue.name)
  if (!existing) {
    try {
      await boss.createQueue(queue.name, queue)
      return
    } catch (error) {
      // Another instance created it first: fall through and update it instead.
      if (!(await boss.getQueue(queue.name))) throw error
    }
  }
  const { name: _name, policy: _policy, partition: _partition, ...updatable } = queue
  await boss.updateQueue(queue.name, updatable)
}
