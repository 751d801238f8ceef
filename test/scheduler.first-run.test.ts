import { expect, test } from 'vitest'
import { createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { useStartedScheduler } from './support/schedulers.js'
import { rowsFor } from './support/seed.js'

// 03:00 on Tuesday 2027-05-11 in Tokyo: before that day's 09:00 slot.
const clock = createManualClock('2027-05-10T18:00:00.000Z')
const worker = createFakeWorkerClient()

const shared = useStartedScheduler({ workerClient: worker, clock })

async function subscribe(frequency: string): Promise<string> {
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`, [frequency])
  await shared.scheduler.enroll(rows[0]!.id, { timezone: 'Asia/Tokyo' })
  return rows[0]!.id
}

test('a subscription first processed off-slot is not processed again later that local day', async () => {
  const ids = { daily: await subscribe('daily'), weekly: await subscribe('weekly'), monthly: await subscribe('monthly') }
  const summary = await shared.scheduler.runNow()
  expect(summary).toMatchObject({ processed: 3, successful: 3 })
  const rows = await rowsFor(shared.db.pool, Object.values(ids))
  const next = (id: string) => rows.find((r) => r.sid === id)!.next_run_at.toISOString()
  // The first run is the 11th's (local); the next is 09:00 Tokyo on the following period's day.
  expect(next(ids.daily)).toBe('2027-05-12T00:00:00.000Z')
  expect(next(ids.weekly)).toBe('2027-05-18T00:00:00.000Z')
  expect(next(ids.monthly)).toBe('2027-06-11T00:00:00.000Z')
  // Its anchor is the first slot: weekly keeps Tuesday, monthly the 11th.
  for (const row of rows) expect(row.anchor_at.toISOString()).toBe('2027-05-10T18:00:00.000Z')
})

test('a subscription processed on demand before its slot spends that day\'s slot', async () => {
  const id = await subscribe('daily')
  await shared.scheduler.runNow()
  clock.set('2027-05-11T23:00:00.000Z') // 08:00 on the 12th in Tokyo; its slot is 09:00
  const [before] = await rowsFor(shared.db.pool, [id])
  expect(before.next_run_at.toISOString()).toBe('2027-05-12T00:00:00.000Z')
  const summary = await shared.scheduler.runSubscription(id)
  expect(summary).toMatchObject({ processed: 1, successful: 1 })
  const [after] = await rowsFor(shared.db.pool, [id])
  expect(after.next_run_at.toISOString()).toBe('2027-05-13T00:00:00.000Z')
})

test('a subscription processed on demand twice at one instant records its slot once; the second run skips it and finishes', async () => {
  // The clock has not moved between the two calls (a frozen test clock): both take the same slot.
  // The second success can record nothing; it used to leave the row queued, its run unfinished
  // (this test then times out), and the lease's rescue called the worker for the same slot
  // again, every lease.
  const id = await subscribe('daily')
  expect(await shared.scheduler.runSubscription(id)).toMatchObject({ processed: 1, successful: 1, skipped: 0 })
  const [first] = await rowsFor(shared.db.pool, [id])

  const again = await shared.scheduler.runSubscription(id)
  expect(again).toMatchObject({ processed: 1, successful: 0, skipped: 1, failed: 0 })
  expect(again.finishedAt).not.toBeNull()

  const [after] = await rowsFor(shared.db.pool, [id])
  expect(after).toMatchObject({ status: 'completed', job_id: null, lease_expires_at: null, attempts: first.attempts })
  expect(after.next_run_at.toISOString()).toBe(first.next_run_at.toISOString())
  expect(after.last_completed_for.toISOString()).toBe(first.last_completed_for.toISOString())
}, 20_000)

test('a backfill over days that runs off their slots spent calls each under the key the worker saw then, not a second one', async () => {
  // A trial's worker, deduping on the key as told, charged a new subscription's first day twice:
  // its first run (at the sweep's instant) and the backfill's call of that day's 09:00 slot.
  clock.set('2027-06-01T18:00:00.000Z') // 03:00 on the 2nd in Tokyo
  const id = await subscribe('daily')
  await shared.scheduler.runNow() // the 2nd, off its slot: its key is this instant
  clock.set('2027-06-03T00:00:00.000Z') // 09:00 on the 3rd: on its slot
  await shared.scheduler.runNow()
  clock.set('2027-06-04T00:00:00.000Z') // the 4th
  await shared.scheduler.runNow()
  clock.set('2027-06-04T22:00:00.000Z') // 07:00 on the 5th, on demand: spends the 5th's slot
  await shared.scheduler.runSubscription(id)
  clock.set('2027-06-06T03:00:00.000Z') // noon on the 6th
  const seen = new Set(worker.callsFor(id).map((call) => call.scheduledFor))
  expect(seen).toEqual(new Set(['2027-06-01T18:00:00.000Z', '2027-06-03T00:00:00.000Z', '2027-06-04T00:00:00.000Z', '2027-06-04T22:00:00.000Z']))

  const before = worker.callsFor(id).length
  const summary = await shared.scheduler.backfill(id, { from: new Date('2027-06-01T15:00:00.000Z'), to: new Date('2027-06-06T01:00:00.000Z') })
  expect(summary).toMatchObject({ processed: 5, successful: 5 })
  const backfilled = worker.callsFor(id).slice(before)
  // The 2nd and the 5th under their runs' keys; the 3rd and 4th under their slots'; the 6th, never called, under its own.
  expect(backfilled.map((call) => call.scheduledFor)).toEqual([
    '2027-06-01T18:00:00.000Z', '2027-06-03T00:00:00.000Z', '2027-06-04T00:00:00.000Z', '2027-06-04T22:00:00.000Z', '2027-06-06T00:00:00.000Z',
  ])
  expect(backfilled.map((call) => call.idempotencyKey)).toEqual(backfilled.map((call) => `${id}:${call.scheduledFor}`))

  // Its runs of its own name it, and are listed by it: a finance trial could not tell whose a run on demand was.
  const own = await shared.scheduler.listRuns({ subscriptionId: id })
  expect(own.map((run) => [run.trigger, run.subscriptionId])).toEqual([['backfill', id], ['single', id]])
  expect(own[0]!.runId).toBe(summary.runId)
  const sweeps = await shared.scheduler.listRuns({ trigger: 'manual', limit: 3 })
  expect(sweeps.map((run) => run.subscriptionId)).toEqual([null, null, null])
  await expect(shared.scheduler.listRuns({ subscriptionId: 'nope' })).rejects.toThrow(/`subscriptionId`/)
}, 20_000)
