/**
 * The running part of a scheduler: pg-boss on the host's pool, its schedules and workers, and a
 * graceful stop. A start that fails halfway leaves nothing running.
 */
import { setMaxListeners } from 'node:events'
import type { Pool } from 'pg'
import { createBoss, ensureQueues, superviseAtStart } from './boss.js'
import { installBossSchema, startBoss } from './boss-install.js'
import { assertNoSharedUpgrade, describeUpgrade } from './shared-boss-schema.js'
import { createBreaker } from '../process/breaker.js'
import type { Breaker } from '../process/breaker.js'
import { createCallGate } from '../process/call-gate.js'
import { createShareOut } from '../process/share-out.js'
import type { EventBus } from '../observe/events.js'
import { configureLimits } from '../process/configure-limits.js'
import { createGlobalLimits } from '../process/global-limits.js'
import type { GlobalLimits } from '../process/global-limits.js'
import { ADOPTED_NOTE, migrate, migrationNote } from '../db/migrate.js'
import { isTransientDbError, poolErrorListener, writeRefusal } from '../db/transient.js'
import { assertIsoDates, assertOneOnSearchPath } from '../db/session-checks.js'
import { assertMigrated, describeUnknownMigrations, unknownMigrations } from '../db/missing-tables.js'
import { requireWorkerClient } from '../config/resolve-options.js'
import { flushLimitedLogs } from '../observe/limited-log.js'
import { keepClockInSync, onSchedulerClock } from '../observe/database-clock.js'
import { fakedTimersWarning } from '../observe/clock.js'
import { announceLostBackfills } from '../backfill/lost-backfills.js'
import { assertRuntimeGrants } from '../db/runtime-grants.js'
import type { ResolvedOptions } from '../config/options.js'
import { createRunStarter } from '../sweep/start-run.js'
import type { RunStarter } from '../sweep/start-run.js'
import { createTelemetry } from '../observe/telemetry.js'
import { startFleetMetrics } from './fleet-metrics.js'
import { cancelStatementsAfter } from '../db/cancel-after.js'
import type { FleetMetrics } from './fleet-metrics.js'
import { registerWorkers } from './workers.js'
import { shareSettings } from './shared-settings.js'
import { watchSettings } from './settings-watch.js'
import type { SettingsWatch } from './settings-watch.js'
import { startPresence } from './presence.js'
import { warnOtherSchedulers } from './other-installations.js'
import type { Presence } from './presence.js'
import type { ProcessorContext } from '../process/context.js'
import { reportGivenUp, stoppedLine, stoppingLine } from './stop-report.js'
import { isEndedPool, isEndedPoolError, POOL_ENDED_BEFORE_STOPPED } from '../db/pool-shape.js'
import { settleAndAnnounce } from '../process/process-page.js'
import { createSettleQueue } from '../process/settle-queue.js'
import { createStallWatch } from '../process/lock-stall.js'
import { createCallableReader, createPageReader } from '../process/page-rows.js'
import { assertCallsNotPaused } from '../records/calls-pause.js'
import type { BackfillRange } from '../backfill/backfill-range.js'
import { startBackfill } from '../backfill/start-backfill.js'
import { createPendingSettles } from '../records/wait-for-run.js'
import { watchForSchedule } from './schedule-watch.js'
import { hasHostForeignKey, MISSING_FOREIGN_KEY } from '../db/host-foreign-key.js'
import { watchUnworkedRuns } from './unworked-runs.js'
import { startLine } from './start-line.js'
import type { ScheduleWatch } from './schedule-watch.js'
import pkg from '../../package.json' with { type: 'json' }

export interface Engine extends Pick<RunStarter, 'startRun' | 'startSingleRun'> {
  readonly stopping: boolean
  /** This instance's circuit breaker, if it has one. */
  readonly breaker: Breaker | null
  /** This instance's id in the instances table. */
  readonly instanceId: string
  /** Aborted as soon as a stop begins. */
  readonly haltSignal: AbortSignal
  /** Aborted once a stop has let this instance's calls finish (or cancelled them) and settled them. */
  readonly stoppedSignal: AbortSignal
  /** Resolves once this instance's settles in flight have announced what they recorded. */
  settledHere(): Promise<void>
  /** Starts a backfill of one subscription's slots in a range, as a run of its own. */
  startBackfill(subscriptionId: string, range: BackfillRange): Promise<{ runId: string }>
  stop(timeoutMs: number): Promise<void>
}

/** The worker client of an instance that does not work: it never calls one. */
const NO_WORKER = {
  process: () => Promise.reject(new Error('This scheduler was created with work: false; it calls no worker.')),
}

/** How long a stop waits for jobs that gave up to end (a statement may still be on its way). */
const GIVE_UP_WAIT_MS = 5_000

async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([work, new Promise((resolve) => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}

/** How often a stop looks whether the host has ended its pool meanwhile. */
const POOL_LOOK_MS = 250

/**
 * `work`, or, once the host has ended the pool (before stop() or during it), at most
 * {@link GIVE_UP_WAIT_MS} more of it: a statement waiting for a connection of an ended pool waits
 * for ever (pg-pool), and with it pg-boss's stop, the instance's last report, the metrics' read.
 */
async function untilPoolGone(pool: Pool, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const gone = new Promise<void>((resolve) => {
    const look = () => (isEndedPool(pool) ? void setTimeout(resolve, GIVE_UP_WAIT_MS).unref() : void (timer = setTimeout(look, POOL_LOOK_MS)))
    look()
  })
  await Promise.race([work, gone])
  clearTimeout(timer)
}

export async function createEngine(pool: Pool, options: ResolvedOptions, events: EventBus): Promise<Engine> {
  // An instance that does not work calls no worker, and needs none.
  const workerClient = options.work ? requireWorkerClient(options) : (options.workerClient ?? NO_WORKER)
  const { logger } = options
  const faked = fakedTimersWarning()
  if (faked) logger.warn(faked)
  // First: a missing USAGE on a schema would stop the next steps with a bare `permission denied`,
  // and hide every other grant missing. What does not exist yet (a bare database) asks for none.
  await assertRuntimeGrants(pool, options.bossSchema)
  await assertIsoDates(pool)
  // Before anything is created: a start refused for another app's pg-boss leaves no trace.
  const bossBefore = await assertNoSharedUpgrade(pool, options.bossSchema)
  if (options.migrate) {
    const { applied, adopted, restored, waitedMs, tookMs } = await migrate(pool)
    if (adopted) logger.info(ADOPTED_NOTE)
    for (const note of restored) logger.warn(note)
    const note = migrationNote({ applied, waitedMs, tookMs })
    if (note) logger.info(note)
  } else {
    await assertOneOnSearchPath(pool)
    await assertMigrated(pool)
    // migrate() would put it back; with migrate: false, whoever migrates must be told.
    if (!(await hasHostForeignKey(pool))) logger.warn(MISSING_FOREIGN_KEY)
  }
  const unknown = await unknownMigrations(pool)
  if (unknown > 0) {
    logger.warn(
      `The scheduler's tables hold ${describeUnknownMigrations(unknown)}. This instance runs, but ignores what that version ` +
        'added (settings it stores per subscription, say): expected while a rolling deploy replaces old instances; otherwise ' +
        'upgrade this one.',
    )
  }
  await installBossSchema(pool, options.bossSchema)
  // An idle client's error would crash a host that listens for none; we log it instead.
  const onPoolError = poolErrorListener(logger)
  pool.on('error', onPoolError)
  const boss = createBoss(pool, options)
  // Two stages of stopping: `halt` stops sweeps and waits at once; `cancel` aborts the worker
  // calls still in flight when the stop's deadline passes.
  const halt = new AbortController()
  const cancel = new AbortController()
  // Each job held and each fetch loop waiting listens on them: more than Node's 10 is expected.
  setMaxListeners(0, halt.signal, cancel.signal)
  const giveUp = new AbortController()
  const stopped = new AbortController()
  const telemetry = createTelemetry(options.queuePrefix)
  let runs: RunStarter
  let processor: ProcessorContext
  // Settles until announced: a wait that read its run finished waits for them.
  const settles = createPendingSettles()
  let presence: Presence
  // Set once it has started: a start that fails after it marks the instance stopped.
  let presenceStarted: Presence | undefined
  let fleetMetrics: FleetMetrics = { async stop() {} }
  let scheduleWatch: ScheduleWatch = { stop() {} }
  let settingsWatch: SettingsWatch = { stop() {} }
  // For an instance that calls no worker: says so when nothing that works would call its runs.
  const unworked = watchUnworkedRuns(pool, options)
  // The process worker's id, once registered: a sweep wakes it for every page it enqueues.
  let processWorker: string | undefined
  const wakeWorker = () => {
    if (processWorker) boss.notifyWorker(processWorker)
  }
  // Stops the clock's checks against the database's (none for a clock given by the host).
  let stopClock = () => {}
  // The shared call limits, once created: their permits' leases are renewed until stop().
  let global: GlobalLimits | null = null
  try {
    // First: every "now" from here on (the first sweep's, a lease's) is the database's time.
    stopClock = await keepClockInSync(pool, options.clock, logger)
    await startBoss(boss, options.bossSchema)
    const upgraded = describeUpgrade(options.bossSchema, bossBefore)
    if (upgraded) logger.info(upgraded)
    const queues = await ensureQueues(boss, options)
    runs = createRunStarter({ pool, boss, options, events, telemetry, processQueue: queues.process, rescueQueue: queues.rescue, halt: halt.signal, stopDeadline: cancel.signal, wakeWorker, onEnqueued: unworked.enqueued })
    const limits = { maxConcurrentCalls: options.maxConcurrentCalls, maxCallsPerSecond: options.maxCallsPerSecond }
    await configureLimits(pool, options.queuePrefix, limits, logger, { callsWorker: options.work })
    global = createGlobalLimits(pool, { scope: options.queuePrefix, limits, holdSeconds: options.permitHoldSeconds, logger })
    const gate = createCallGate(options.concurrency, global, logger)
    const breaker = options.circuitBreaker ? createBreaker(options.circuitBreaker, { logger, events, telemetry, shown: (ms) => onSchedulerClock(options.clock, ms) }) : null
    // What works the jobs goes through a view of the pool: a statement of it still waiting (on a
    // host's lock) once the stop has given up on its job is cancelled, as the host ends its pool
    // once stop() resolves.
    const working = cancelStatementsAfter(pool, giveUp.signal)
    const shareOut = createShareOut({ pool: working, options, gate, breaker, haltSignal: halt.signal })
    processor = {
      pool: working, boss, processQueue: queues.process, deadQueue: queues.dead, options, workerClient, events, telemetry,
      haltSignal: halt.signal, cancelSignal: cancel.signal, giveUpSignal: giveUp.signal, inHand: new Set(), givenUp: { jobs: 0, subscriptions: 0, reason: null }, unanswered: { calls: 0 }, gate, shareOut, breaker,
      settles,
      stallWatch: createStallWatch(pool, logger, { signal: giveUp.signal }),
      settleQueue: createSettleQueue((outcomes) => settles.track(settleAndAnnounce(processor, { outcomes })), {
        // Not once a stop has given up (nothing is written after it), nor for an outage or an ended
        // pool, nor past its hold of a refusal of every row alike (writeRefusal): no row is at
        // fault, none would be recorded alone.
        splits: (error) => !giveUp.signal.aborted && !isTransientDbError(error) && !isEndedPoolError(error) && writeRefusal(error) === undefined,
        busy: () => {
          const load = gate.load()
          return load.inFlight + load.waiting > 0
        },
        onSplit: (n, error) => logger.warn(`Recording ${n} outcome${n === 1 ? '' : 's'} together failed (${(error as Error).message ?? String(error)}); recording them one at a time, so that only a row that cannot be recorded fails (a success refused on its own row is recorded as a failed attempt, retried as any other).`),
      }),
      pages: createPageReader(working, options.queuePrefix),
      callable: createCallableReader(working, options.queuePrefix),
    }
    const settingsInForce = await shareSettings(pool, options)
    scheduleWatch = await watchForSchedule(pool, options)
    settingsWatch = watchSettings(pool, options, settingsInForce)
    presence = presenceStarted = await startPresence(pool, options, processor, pkg.version)
    await warnOtherSchedulers(pool, options.queuePrefix, options.bossSchema, logger)
    // Last of what may fail: a start that fails has taken no job and called no worker. Workers
    // registered earlier called 16 subscriptions of a start that then failed (too many clients),
    // whose outcomes it never recorded, and another instance called them again.
    processWorker = await registerWorkers({ boss, queues, options, runs, processor })
    superviseAtStart(boss, queues, logger)
    // A read still waiting (on a host's lock) once stop() has begun is cancelled: the stop waits for it.
    fleetMetrics = startFleetMetrics(cancelStatementsAfter(pool, halt.signal), options, events, telemetry)
    shareOut.start(presence.id)
  } catch (error) {
    await presenceStarted?.stop().catch(() => {})
    scheduleWatch.stop()
    settingsWatch.stop()
    unworked.stop()
    await boss.stop({ graceful: false, close: false }).catch(() => {})
    stopClock()
    await fleetMetrics.stop()
    global?.close()
    pool.off('error', onPoolError)
    throw error
  }
  logger.info(startLine(options, pkg))

  let stopping = false
  return {
    get stopping() {
      return stopping
    },
    breaker: processor.breaker,
    instanceId: presence.id,
    haltSignal: halt.signal,
    stoppedSignal: stopped.signal,
    startRun: (trigger, scope) => runs.startRun(trigger, scope),
    startSingleRun: (subscriptionId) => runs.startSingleRun(subscriptionId),
    settledHere: () => settles.drained(),
    async startBackfill(subscriptionId, range) {
      await assertCallsNotPaused(pool, options.queuePrefix, `backfill subscription ${subscriptionId}`)
      const { runId, startedAt, finished, closed } = await startBackfill({ pool, boss, processQueue: processor.processQueue, options }, subscriptionId, range)
      announceLostBackfills(closed, logger, events)
      events.emit('run:started', { runId, trigger: 'backfill', startedAt })
      telemetry.runStarted('backfill')
      if (finished) events.emit('run:finished', finished)
      else void unworked.enqueued(runId, 1)
      wakeWorker()
      return { runId }
    },
    async stop(timeoutMs) {
      if (stopping) return
      stopping = true
      halt.abort()
      scheduleWatch.stop()
      settingsWatch.stop()
      unworked.stop()
      // Calls not yet made are handed to other jobs at once; past the deadline, calls in flight
      // are cancelled and settle as retries, so no subscription is lost.
      const began = Date.now()
      const calling = processor.gate.load().inFlight
      const first = stoppingLine(calling, timeoutMs)
      if (first) logger.info(first)
      let cut = 0
      const deadline = setTimeout(() => ((cut = processor.gate.load().inFlight), cancel.abort()), timeoutMs)
      try {
        await untilPoolGone(pool, Promise.allSettled([...runs.inFlight]))
        await untilPoolGone(pool, boss.stop({ graceful: true, timeout: timeoutMs + 5_000, close: false }))
        // pg-boss stops waiting at its timeout; a job still recording through a database outage
        // gives up now (pg-boss has failed it: it comes back), so that none uses the pool after.
        giveUp.abort()
        await within(Promise.allSettled([...processor.inHand]), GIVE_UP_WAIT_MS)
        reportGivenUp(processor.givenUp, logger)
        await untilPoolGone(pool, presence.stop())
      } finally {
        clearTimeout(deadline)
        await untilPoolGone(pool, fleetMetrics.stop())
        stopClock()
        global?.close()
        cancel.abort()
        giveUp.abort()
        pool.off('error', onPoolError)
        stopped.abort()
      }
      flushLimitedLogs(logger)
      if (isEndedPool(pool)) logger.warn(POOL_ENDED_BEFORE_STOPPED)
      logger.info(stoppedLine(Date.now() - began, calling, cut, timeoutMs, processor.unanswered.calls, processor.givenUp.jobs > 0))
    },
  }
}
