/**
 * `createSubscriptionScheduler(pool, options)`: the object a host holds. It resolves the
 * options, and delegates the running parts (pg-boss, workers, sweeps) to the engine and the
 * queries to their modules.
 */
import type { Pool } from 'pg'
import { enrollMissing } from './sweep/auto-enroll.js'
import { assertUuid, enroll, enrollingFirst } from './records/enroll.js'
import { enrollMany } from './records/enroll-many.js'
import { callsControls } from './runtime/calls-controls.js'
import { createEngine } from './runtime/engine.js'
import type { Engine } from './runtime/engine.js'
import { createEventBus } from './observe/events.js'
import { listFailures } from './records/failures.js'
import { assertEnrolled, getSubscription, listFailing } from './records/subscriptions.js'
import { jobQueueOf, queueNames } from './runtime/boss.js'
import { afterIdOf, listedStatusOf, listSubscriptions, userIdOf } from './records/subscription-list.js'
import { scheduleControls } from './runtime/controls.js'
import { assertRunnable, readScheduleRow, refusedRun } from './records/schedule-row.js'
import { checkBackfillRange } from './backfill/backfill-range.js'
import { resolveOptions } from './config/resolve-options.js'
import type { SchedulerOptions } from './config/options.js'
import { getRun } from './records/runs.js'
import { checkTriggers, listRuns } from './records/run-list.js'
import { listInstances } from './records/instances.js'
import { waitForRun } from './records/wait-for-run.js'
import { eraseSubscriptions } from './records/erase.js'
import type { RunSummary } from './records/runs.js'
import type { BackfillOptions, RunNowOptions, RunStarted, SubscriptionScheduler } from './types.js'
import { getStatus } from './records/status.js'
import type { SweepScope } from './sweep/sweep.js'
import { SCHEDULED_SWEEP } from './sweep/sweep.js'
import { ConfigurationError, NotStartedError } from './errors.js'
import { shown } from './error-text.js'
import { booleanOf, failureIdOf, limitOf, methodOptions, waitOf } from './config/method-options.js'
import { explainingMissingTables } from './db/missing-tables.js'
import { saidIfUnreachable } from './db/connection-hint.js'
import { explainingPrivileges } from './db/privileges.js'
import { assertPool } from './db/pool-shape.js'
import { CLOSED } from './process/breaker.js'
import { rememberClock } from './observe/clock.js'
import { rememberLogger } from './observe/logger.js'
import { checkClockOnce } from './observe/database-clock.js'
import type { RunTrigger } from './db/names.js'

/**
 * A scheduler over `pool` (the host's node-postgres pool): it does nothing until `start()`, which
 * migrates its tables (unless `migrate: false`), registers the sweep's cron schedule in pg-boss,
 * and works the subscriptions that come due, calling the worker for each. Every option is checked
 * here: a misspelt or malformed one throws a `ConfigurationError` naming it and the fix.
 *
 * @example
 * const scheduler = createSubscriptionScheduler(pool, { workerUrl: 'http://worker:8080' })
 * await scheduler.start()
 */
export function createSubscriptionScheduler(pool: Pool, options: SchedulerOptions = {}): SubscriptionScheduler {
  const resolved = resolveOptions(options)
  assertPool(pool)
  const events = createEventBus(resolved.logger)
  let engine: Engine | undefined
  let starting: Promise<void> | undefined
  // Every stop() made while one is draining shares it, so each resolves only once calls settled.
  let stopping: Promise<void> | undefined
  // The runs callers wait for: a stop() resolves only once each has resolved or rejected.
  const waiting = new Set<Promise<RunSummary>>()

  // A method that reads "now" goes by the database's clock even without start() (the CLI's do).
  const clockChecked = () => checkClockOnce(pool, resolved.clock, resolved.logger)

  // A run this instance finishes is read at once, not at the next poll.
  const finishedHere = (listener: (run: RunSummary) => void) => events.on('run:finished', listener)

  function running(method: string): Engine {
    if (engine?.stopping) {
      throw new NotStartedError(method, 'this instance is stopping (stop() was called), so it takes no new work. Ask an instance still running, or start() this one again once stop() has resolved.')
    }
    if (!engine) throw new NotStartedError(method)
    return engine
  }

  /**
   * Waits for `runId` to finish. A stop() meanwhile lets this instance's calls finish first (a
   * run they complete resolves the wait), then gives up the wait, and says so: a program awaiting
   * the run is not ended while its calls are still draining.
   */
  function awaitRun(current: Engine, method: string, runId: string): Promise<RunSummary> {
    const waited = waitOrGiveUp(current, method, runId)
    waiting.add(waited)
    const forget = () => void waiting.delete(waited)
    waited.then(forget, forget)
    return waited
  }

  async function waitOrGiveUp(current: Engine, method: string, runId: string): Promise<RunSummary> {
    try {
      return await waitForRun(pool, runId, { signal: current.stoppedSignal, finishedHere, settledHere: () => current.settledHere() })
    } catch (error) {
      if (!current.stoppedSignal.aborted) throw error
      // The drain's last settle may have finished it.
      const run = await getRun(pool, runId).catch(() => undefined)
      if (run?.finishedAt) return run
      throw new NotStartedError(method, `stop() was called while it waited for run ${runId}. The run goes on, on the instances still running (or at the next start); read it with scheduler.getRun('${runId}').`, runId)
    }
  }

  async function run(method: string, trigger: RunTrigger, scope: SweepScope, wait: boolean | undefined): Promise<RunSummary | RunStarted> {
    const current = running(method)
    return await explainingMissingTables(pool, async () => {
      const { runId, swept } = await current.startRun(trigger, scope)
      if (wait === false) return { runId }
      await swept
      return await awaitRun(current, method, runId)
    })
  }

  const scheduler: SubscriptionScheduler = {
    async start() {
      if (stopping) await stopping
      if (engine) return
      starting ??= saidIfUnreachable(resolved.logger, () => explainingPrivileges(pool, () => createEngine(pool, resolved, events), resolved.bossSchema))
        .then((created) => {
          engine = created
        })
        .finally(() => {
          starting = undefined
        })
      await starting
    },

    async stop(given) {
      const { timeoutMs = 30_000 } = methodOptions('stop', given, ['timeoutMs'])
      if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
        throw new ConfigurationError('timeoutMs', `stop() takes { timeoutMs }, a number of milliseconds >= 0, got ${shown(timeoutMs)}.`)
      }
      if (starting) await starting.catch(() => {})
      if (stopping) return await stopping
      const current = engine
      if (!current) return
      stopping = current
        .stop(timeoutMs)
        .then(async () => {
          // A host that exits once stop() resolves has seen its waiting runNow() settle: each
          // wait, then a turn of the event loop for the callers' own handlers.
          await Promise.allSettled([...waiting])
          await new Promise((resolve) => setImmediate(resolve))
        })
        .finally(() => {
          if (engine === current) engine = undefined
          stopping = undefined
        })
      await stopping
    },

    runNow: (async (o?: RunNowOptions) => await run('runNow', 'manual', SCHEDULED_SWEEP, waitOf(methodOptions('runNow', o, ['wait'])))) as SubscriptionScheduler['runNow'],

    retryFailed: (async (given?: { subscriptionIds?: string[] | undefined; wait?: boolean | undefined }) => {
      const o = methodOptions('retryFailed', given, ['subscriptionIds', 'wait'])
      const wait = waitOf(o)
      const ids = o.subscriptionIds
      if (ids !== undefined) {
        if (!Array.isArray(ids)) throw new ConfigurationError('subscriptionIds', `expected an array of UUIDs (or undefined for every failed subscription), got ${shown(ids)}.`)
        ids.forEach((id, i) => assertUuid(`subscriptionIds[${i}]`, id))
        await explainingMissingTables(pool, () => assertEnrolled(pool, ids))
      }
      return await run('retryFailed', 'retry', { kinds: ['failed'], subscriptionIds: ids ?? null }, wait)
    }) as SubscriptionScheduler['retryFailed'],

    runSubscription: (async (subscriptionId: string, given?: RunNowOptions) => {
      assertUuid('subscriptionId', subscriptionId)
      const wait = waitOf(methodOptions('runSubscription', given, ['wait']))
      // NotFoundError for an unknown one; a paused, ended or inactive one is refused with its reason.
      const row = await explainingMissingTables(pool, () => enrollingFirst(pool, resolved, subscriptionId, () => readScheduleRow(pool, subscriptionId, false)))
      assertRunnable(row, resolved.clock.now())
      const current = running('runSubscription')
      return await explainingMissingTables(pool, async () => {
        // The claim takes a row no job pg-boss holds, lease or not. Not claimed: busy (a call in
        // flight, or asked twice at once), or paused, ended or made inactive since; no run is recorded.
        const runId = await current.startSingleRun(subscriptionId)
        if (!runId) throw refusedRun(await readScheduleRow(pool, subscriptionId, false), resolved.clock.now())
        if (wait === false) return { runId }
        return await awaitRun(current, 'runSubscription', runId)
      })
    }) as SubscriptionScheduler['runSubscription'],

    ...scheduleControls(pool, resolved, clockChecked),
    ...callsControls(pool, resolved, clockChecked),
    enroll: async (subscriptionId, enrollOptions) => {
      await clockChecked()
      return await explainingMissingTables(pool, () => enroll(pool, resolved, subscriptionId, enrollOptions))
    },
    enrollMany: async (entries, manyOptions) => {
      await clockChecked()
      return await explainingMissingTables(pool, () => enrollMany(pool, resolved, entries, manyOptions))
    },
    backfill: (async (subscriptionId: string, o: BackfillOptions) => {
      assertUuid('subscriptionId', subscriptionId)
      const range = checkBackfillRange(o)
      const current = running('backfill')
      const { runId } = await explainingMissingTables(pool, () => enrollingFirst(pool, resolved, subscriptionId, () => current.startBackfill(subscriptionId, range)))
      if (o.wait === false) return { runId }
      return await awaitRun(current, 'backfill', runId)
    }) as SubscriptionScheduler['backfill'],
    enrollMissing: () => explainingMissingTables(pool, () => enrollMissing(pool)),

    getSubscription: async (subscriptionId, o) => {
      const given = methodOptions('getSubscription', o, ['errors', 'history'])
      const errors = limitOf(given.errors, 10, 'errors', 0)
      const history = limitOf(given.history, 20, 'history', 0)
      return await explainingMissingTables(pool, () => getSubscription(pool, resolved, subscriptionId, errors, history))
    },
    getStatus: async () => {
      await clockChecked()
      return await explainingMissingTables(pool, () => getStatus(pool, resolved))
    },
    listInstances: () => explainingMissingTables(pool, () => listInstances(pool, resolved)),
    erase: (subscriptionIds) => explainingMissingTables(pool, () => eraseSubscriptions(pool, { bossSchema: resolved.bossSchema, deadQueue: queueNames(resolved.queuePrefix).dead }, subscriptionIds)),
    listRuns: async (given) => {
      const o = methodOptions('listRuns', given, ['limit', 'before', 'trigger', 'unfinished', 'subscriptionId'])
      if (o.before !== undefined) assertUuid('before', o.before)
      if (o.subscriptionId !== undefined) assertUuid('subscriptionId', o.subscriptionId)
      const unfinished = booleanOf(o.unfinished, 'unfinished', 'only runs not finished yet')
      const page = { limit: limitOf(o.limit, 20), before: o.before, triggers: checkTriggers(o.trigger), unfinished, subscriptionId: o.subscriptionId }
      return await explainingMissingTables(pool, () => listRuns(pool, page))
    },
    getRun: (runId) => {
      assertUuid('runId', runId)
      return explainingMissingTables(pool, () => getRun(pool, runId))
    },
    listFailures: async (given) => {
      const o = methodOptions('listFailures', given, ['limit', 'runId', 'before', 'final'])
      const { runId } = o
      if (runId !== undefined) assertUuid('runId', runId)
      const page = { limit: limitOf(o.limit, 20), runId, before: failureIdOf(o.before), final: booleanOf(o.final, 'final', 'only attempts that gave their slot up; false: only those a retry followed') }
      return explainingMissingTables(pool, async () => {
        const failures = await listFailures(pool, page)
        // None for a run: an unknown run id (a typo, or pruned) says so rather than "no failures".
        if (failures.length === 0 && runId !== undefined) await getRun(pool, runId)
        return failures
      })
    },
    listFailing: async (o) => {
      const limit = limitOf(methodOptions('listFailing', o, ['limit']).limit, 20)
      return await explainingMissingTables(pool, () => listFailing(pool, limit))
    },
    listSubscriptions: async (given) => {
      const o = methodOptions('listSubscriptions', given, ['status', 'userId', 'limit', 'after'])
      const page = { limit: limitOf(o.limit, 50), status: listedStatusOf(o.status), userId: userIdOf(o.userId), after: afterIdOf(o.after) }
      return await explainingMissingTables(pool, () => listSubscriptions(pool, page, jobQueueOf(resolved)))
    },
    health: () => ({
      state: starting ? 'starting' : stopping ? 'stopping' : engine ? 'running' : 'stopped',
      breaker: engine?.breaker?.health() ?? (resolved.circuitBreaker ? CLOSED : null),
      instanceId: engine?.instanceId ?? null,
    }),
    on: (event, listener) => events.on(event, listener),
  }
  // The admin handler's sessions go by it: a sign-in on one replica holds on another whose host clock differs.
  rememberClock(scheduler, resolved.clock, clockChecked)
  // And its unexpected errors go where the scheduler's lines go, unless it is given a logger of its own.
  rememberLogger(scheduler, resolved.logger)
  return scheduler
}
