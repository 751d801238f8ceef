/**
 * `createSubscriptionScheduler(pool, options)`: the object a host holds. It resolves the
 * options, and delegates the running parts (pg-boss, workers, sweeps) to the engine and the
 * queries to their modules.
 */
import type { Pool } from 'pg'
import { enrollMissing } from './sweep/auto-enroll.js'
import { assertUuid, enroll } from './records/enroll.js'
import { createEngine } from './runtime/engine.js'
import type { Engine } from './runtime/engine.js'
import { createEventBus } from './observe/events.js'
import { listFailures } from './records/failures.js'
import { getSubscription, listFailing, pause, resume } from './records/subscriptions.js'
import { resolveOptions } from './config/resolve-options.js'
import type { SchedulerOptions } from './config/options.js'
import { getRun, listRuns, waitForRun } from './records/runs.js'
import type { RunSummary } from './records/runs.js'
import type { RunNowOptions, RunStarted, SubscriptionScheduler } from './types.js'
import { getStatus } from './records/status.js'
import type { SweepScope } from './sweep/sweep.js'
import { SCHEDULED_SWEEP } from './sweep/sweep.js'
import { ConfigurationError, NotStartedError } from './errors.js'
import { explainingMissingTables } from './db/missing-tables.js'
import type { RunTrigger } from './db/names.js'

function limitOf(options: { limit?: number } | undefined, fallback: number): number {
  const limit = options?.limit ?? fallback
  return Number.isInteger(limit) && limit > 0 ? Math.min(limit, 1000) : fallback
}

/** A `pg.Pool` by shape: the scheduler runs statements at once and checks clients out. */
function assertPool(pool: unknown): asserts pool is Pool {
  const candidate = pool as Partial<Pool> | null | undefined
  if (typeof candidate?.query === 'function' && typeof candidate.connect === 'function' && typeof candidate.totalCount === 'number') return
  const got = pool === null || pool === undefined ? String(pool)
    : typeof candidate?.query === 'function' ? 'an object with query() but not a pool (a pg.Client?)'
      : typeof pool
  throw new ConfigurationError('pool', `expected a pg.Pool, got ${got}. Pass \`new pg.Pool({ connectionString: process.env.DATABASE_URL })\` (the scheduler never closes it).`)
}

/**
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

  function running(method: string): Engine {
    if (!engine || engine.stopping) throw new NotStartedError(method)
    return engine
  }

  async function run(method: string, trigger: RunTrigger, scope: SweepScope, wait: boolean | undefined): Promise<RunSummary | RunStarted> {
    const current = running(method)
    const { runId, swept } = await current.startRun(trigger, scope)
    if (wait === false) return { runId }
    await swept
    return await waitForRun(pool, runId, { signal: current.haltSignal })
  }

  const scheduler: SubscriptionScheduler = {
    async start() {
      if (stopping) await stopping
      if (engine) return
      starting ??= createEngine(pool, resolved, events)
        .then((created) => {
          engine = created
        })
        .finally(() => {
          starting = undefined
        })
      await starting
    },

    async stop({ timeoutMs = 30_000 } = {}) {
      if (starting) await starting.catch(() => {})
      if (stopping) return await stopping
      const current = engine
      if (!current) return
      stopping = current.stop(timeoutMs).finally(() => {
        if (engine === current) engine = undefined
        stopping = undefined
      })
      await stopping
    },

    runNow: ((o: RunNowOptions = {}) => run('runNow', 'manual', SCHEDULED_SWEEP, o.wait)) as SubscriptionScheduler['runNow'],

    retryFailed: ((o: { subscriptionIds?: string[]; wait?: boolean } = {}) => {
      if (o.subscriptionIds !== undefined) {
        if (!Array.isArray(o.subscriptionIds)) throw new TypeError('retryFailed({ subscriptionIds }) expects an array of UUIDs.')
        o.subscriptionIds.forEach((id, i) => assertUuid(`subscriptionIds[${i}]`, id))
      }
      return run('retryFailed', 'retry', { kinds: ['failed'], subscriptionIds: o.subscriptionIds ?? null }, o.wait)
    }) as SubscriptionScheduler['retryFailed'],

    runSubscription: (async (subscriptionId: string, o: RunNowOptions = {}) => {
      assertUuid('subscriptionId', subscriptionId)
      await explainingMissingTables(() => getSubscription(pool, subscriptionId, 0)) // NotFoundError for an unknown one
      return await run('runSubscription', 'single', { kinds: ['single'], subscriptionIds: [subscriptionId] }, o.wait)
    }) as SubscriptionScheduler['runSubscription'],

    pause: (subscriptionId) => explainingMissingTables(() => pause(pool, subscriptionId, resolved.clock.now())),
    resume: (subscriptionId) => explainingMissingTables(() => resume(pool, subscriptionId, resolved.clock.now())),
    enroll: (subscriptionId, enrollOptions) => explainingMissingTables(() => enroll(pool, subscriptionId, enrollOptions)),
    enrollMissing: () => explainingMissingTables(() => enrollMissing(pool)),
    getSubscription: (subscriptionId, o) => explainingMissingTables(() => getSubscription(pool, subscriptionId, limitOf({ limit: o?.errors }, 10))),
    getStatus: () => explainingMissingTables(() => getStatus(pool, resolved)),
    listRuns: (o) => explainingMissingTables(() => listRuns(pool, limitOf(o, 20))),
    getRun: (runId) => {
      assertUuid('runId', runId)
      return explainingMissingTables(() => getRun(pool, runId))
    },
    listFailures: (o) => {
      if (o?.runId !== undefined) assertUuid('runId', o.runId)
      return explainingMissingTables(() => listFailures(pool, { limit: limitOf(o, 20), runId: o?.runId }))
    },
    listFailing: (o) => explainingMissingTables(() => listFailing(pool, limitOf(o, 20))),
    on: (event, listener) => events.on(event, listener),
  }
  return scheduler
}
