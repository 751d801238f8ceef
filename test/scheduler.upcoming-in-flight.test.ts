/**
 * The next runs of a subscription whose slot waits for its retry: the slot being processed spends
 * its local day, as the settle will have it, so the preview lists none later that day. A trial's
 * support engineer read a monthly subscription, its first run waiting out a 429, as due again at
 * 09:00 that same day ("charged twice today"), which the scheduler never does.
 */
import { expect, test } from 'vitest'
import { RetryableError } from '../src/index.js'
import { createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { pollUntil } from './support/reliability-support.js'
import { useStartedScheduler } from './support/schedulers.js'

// 03:00 UTC, before the scheduler's 09:00.
const clock = createManualClock('2027-08-10T03:00:00.000Z')
const worker = createFakeWorkerClient()
const shared = useStartedScheduler({ workerClient: worker, clock, retry: { limit: 2, delaySeconds: 60, maxDelaySeconds: 60 } })

test("a first run waiting for its retry: the next runs start after its day, the settle's next slot", async () => {
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'monthly') RETURNING id`)
  const id = rows[0]!.id
  worker.on(id, { fail: new RetryableError('429 Too Many Requests', { status: 429, retryAfterMs: 60_000 }) })

  await shared.scheduler.runNow({ wait: false })
  await pollUntil(async () => ((await shared.scheduler.getSubscription(id).catch(() => null))?.attempts === 1 || undefined), { timeoutMs: 20_000, what: 'the first attempt recorded, its retry waiting' })

  expect(await shared.scheduler.upcoming(id, { count: 2 })).toEqual([new Date('2027-09-10T09:00:00.000Z'), new Date('2027-10-10T09:00:00.000Z')])
})

test('a slot waiting out its retry says when that retry is due (retryAt), as the failed ones do', async () => {
  // A trial's 429 with Retry-After left "next run: none" and retryAt null everywhere while it waited.
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'monthly') RETURNING id`)
  const id = rows[0]!.id
  worker.on(id, { fail: new RetryableError('429 Too Many Requests', { status: 429, retryAfterMs: 60_000 }) })

  await shared.scheduler.runNow({ wait: false })
  const waiting = await pollUntil(async () => {
    const details = await shared.scheduler.getSubscription(id).catch(() => null)
    return details?.attempts === 1 ? details : undefined
  }, { timeoutMs: 20_000, what: 'the first attempt recorded, its retry waiting' })

  expect(waiting).toMatchObject({ status: 'queued', inFlight: true })
  // About a minute from now, by the database's clock that pg-boss waits on.
  expect(waiting.retryAt!.getTime()).toBeGreaterThan(Date.now() + 30_000)
  expect(waiting.retryAt!.getTime()).toBeLessThan(Date.now() + 90_000)
})
