/**
 * Schedulers made for a test and stopped after it, whatever happened; a harness for the files
 * whose tests share one database: emptied before each test, with a fresh captured logger; and one
 * scheduler started for a whole file.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { createSubscriptionScheduler } from '../../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../../src/index.js'
import { captureLogger } from '../../src/testing.js'
import type { CapturedLogger } from '../../src/testing.js'
import { createTestDatabase } from './database.js'
import type { TestDatabase } from './database.js'

/** Options every test scheduler takes unless it says otherwise: the template is migrated, and polls are short. */
export const TEST_DEFAULTS = { migrate: false, pollingIntervalSeconds: 0.5 } as const satisfies SchedulerOptions

/** Registers an afterEach that stops every scheduler `track` was given during the test. */
export function stopAfterEach({ timeoutMs = 2000 } = {}): <T extends SubscriptionScheduler>(scheduler: T) => T {
  const started: SubscriptionScheduler[] = []
  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop({ timeoutMs })
  })
  return (scheduler) => {
    started.push(scheduler)
    return scheduler
  }
}

export interface SchedulerHarness {
  /** The file's database, set once its beforeAll has run. */
  readonly db: TestDatabase
  /** This test's logger: every scheduler made by `scheduler()` logs to it. */
  readonly logger: CapturedLogger
  /** A scheduler on the file's database, with {@link TEST_DEFAULTS} and this test's logger; stopped after the test. */
  scheduler(options?: SchedulerOptions): SubscriptionScheduler
}

/** A database of the file's own, whose subscriptions are deleted before each test. */
export function useSchedulerHarness({ stopTimeoutMs = 1000 } = {}): SchedulerHarness {
  let db: TestDatabase | undefined
  let logger = captureLogger()
  const track = stopAfterEach({ timeoutMs: stopTimeoutMs })
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  beforeEach(async () => {
    await harness.db.pool.query(`DELETE FROM subscription_processing`)
    await harness.db.pool.query(`DELETE FROM subscriptions`)
    await harness.db.pool.query(`DELETE FROM subscription_scheduler.calls_pause`)
    logger = captureLogger()
  })
  const harness: SchedulerHarness = {
    get db() {
      if (!db) throw new Error('The test database is made in beforeAll: use harness.db inside a test or a hook.')
      return db
    },
    get logger() {
      return logger
    },
    scheduler: (options = {}) => track(createSubscriptionScheduler(harness.db.pool, { logger, ...TEST_DEFAULTS, ...options })),
  }
  return harness
}

export interface StartedScheduler {
  /** The file's database, set once its beforeAll has run. */
  readonly db: TestDatabase
  /** The file's scheduler, started in beforeAll and stopped in afterAll. */
  readonly scheduler: SubscriptionScheduler
}

/**
 * One scheduler for the whole file, on a database of the file's own: made with {@link TEST_DEFAULTS}
 * and a captured logger under `options`, and started, in beforeAll; stopped in afterAll. For the
 * files whose tests share one running scheduler, each making rows of its own: unlike
 * {@link useSchedulerHarness}, nothing is emptied between tests.
 */
export function useStartedScheduler(options: SchedulerOptions, { stopTimeoutMs = 2000 } = {}): StartedScheduler {
  let db: TestDatabase | undefined
  let scheduler: SubscriptionScheduler | undefined
  beforeAll(async () => {
    db = await createTestDatabase()
    scheduler = createSubscriptionScheduler(db.pool, { logger: captureLogger(), ...TEST_DEFAULTS, ...options })
    await scheduler.start()
  })
  afterAll(async () => {
    await scheduler?.stop({ timeoutMs: stopTimeoutMs })
  })
  return {
    get db() {
      if (!db) throw new Error('The test database is made in beforeAll: read .db inside a test or a hook.')
      return db
    },
    get scheduler() {
      if (!scheduler) throw new Error('The scheduler is made in beforeAll: read .scheduler inside a test or a hook.')
      return scheduler
    },
  }
}
