/**
 * Two schedulers on one database (another queuePrefix, another bossSchema) sweep the same
 * subscription_processing table and call each other's subscriptions: an instance that starts
 * beside one says so, naming it. A trial ran two jobs on one database under two prefixes; another
 * trial's test files, each with its own prefix on one database, lost their subscriptions to each
 * other's sweeps, silently.
 */
import { hostname } from 'node:os'
import { expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SchedulerOptions } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { stopAfterEach, TEST_DEFAULTS } from './support/schedulers.js'

const track = stopAfterEach()

test("an instance started beside another scheduler's names it and says why one database holds one installation; beside its own, it says nothing", async () => {
  const db = await createTestDatabase()
  const start = async (options: SchedulerOptions) => {
    const logger = captureLogger()
    const s = track(createSubscriptionScheduler(db.pool, { ...TEST_DEFAULTS, workerClient: createFakeWorkerClient(), logger, ...options }))
    await s.start()
    return { s, warned: logger.messages('warn').filter((m) => /^(Instances of another scheduler|Another scheduler ran)/.test(m)) }
  }
  const digests = await start({ queuePrefix: 'digests' })
  expect(digests.warned).toEqual([])
  const replica = await start({ queuePrefix: 'digests' })
  expect(replica.warned).toEqual([])

  const syncs = await start({ queuePrefix: 'syncs' })
  const me = `${hostname()}:${process.pid}`
  expect(syncs.warned).toEqual([
    `Instances of another scheduler run on this database: queuePrefix 'digests' (${me}, ${me}). A queuePrefix or bossSchema names queues, not data: ` +
      "every scheduler on a database sweeps the same subscription_processing table, so each calls its own worker with the other's due " +
      'subscriptions. One database holds one installation: give each job a database of its own, or give every instance the same queuePrefix and bossSchema.',
  ])

  // Once the other has stopped, it is still said for a day: a trial's second prefix started while
  // the first was down for a deploy, and took its subscriptions with nothing said.
  await syncs.s.stop()
  await replica.s.stop()
  await digests.s.stop()
  const alone = await start({ queuePrefix: 'syncs' })
  expect(alone.warned).toHaveLength(1)
  expect(alone.warned[0]).toMatch(/^Another scheduler ran on this database within the last day, none of its instances running now: queuePrefix 'digests' \(last seen \d{4}-\d\d-\d\dT[\d:.]+Z\)\. If it starts again, a queuePrefix or bossSchema names queues, not data: .* \(If this queuePrefix or bossSchema replaces that one, nothing is wrong: this is said for a day after its last instance stopped\.\)$/)

  // A day after its last report, nothing is said.
  await alone.s.stop()
  await db.pool.query(`UPDATE subscription_scheduler.instances SET seen_at = now() - interval '25 hours', stopped_at = now() - interval '25 hours' WHERE scope = 'digests'`)
  expect((await start({ queuePrefix: 'syncs' })).warned).toEqual([])
})
