/**
 * A row's `starts_at` and `ends_at` bound the slots it is called for, also when the host writes
 * them by hand: an end set to cancel a subscription, a start later than the slot already due, a
 * row inserted with a start ahead and no next slot. A trial saw the worker called, and charged,
 * for each of these, and a row whose end came before its start called once and then ended.
 */
import { expect, test } from 'vitest'
import { computeNextRunAt } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { useStartedScheduler } from './support/schedulers.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const worker = createFakeWorkerClient()
const logger = captureLogger()

const shared = useStartedScheduler({ workerClient: worker, logger, timezone: 'UTC', runAt: '09:00', retry: { limit: 0 } })

const set = (id: string, assignments: string) => shared.db.pool.query(`UPDATE subscription_processing SET ${assignments} WHERE subscription_id = $1`, [id])

test('rows due outside their own starts_at/ends_at are not called: each moves to its first slot inside them, or ends, and counts skipped', async () => {
  const [inside, endedAgo, startsLater, newStartsLater, endBeforeStart, endsAtSlot] = await seedSubscriptions(shared.db.pool, { count: 6 }) as [string, string, string, string, string, string]
  const due = `now() - interval '1 hour'`
  await set(inside, `next_run_at = ${due}, starts_at = now() - interval '30 days', ends_at = now() + interval '30 days'`)
  await set(endedAgo, `next_run_at = ${due}, ends_at = now() - interval '10 days'`)
  await set(startsLater, `next_run_at = ${due}, starts_at = now() + interval '3 days'`)
  await set(newStartsLater, `next_run_at = NULL, starts_at = now() + interval '3 days'`)
  await set(endBeforeStart, `next_run_at = ${due}, starts_at = now() + interval '30 days', ends_at = now() + interval '1 day'`)
  // An end exactly at the slot keeps the slot.
  await set(endsAtSlot, `next_run_at = date_trunc('milliseconds', ${due}), ends_at = date_trunc('milliseconds', ${due})`)

  const summary = await shared.scheduler.runNow()

  expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([inside, endsAtSlot].sort())
  expect(summary).toMatchObject({ processed: 6, successful: 2, failed: 0, skipped: 4 })
  const rows = new Map((await rowsFor(shared.db.pool, [endedAgo, startsLater, newStartsLater, endBeforeStart, endsAtSlot])).map((r) => [r.sid as string, r]))
  for (const id of [endedAgo, endBeforeStart]) expect(rows.get(id)).toMatchObject({ status: 'ended', next_run_at: null, job_id: null, attempts: 0 })
  expect(rows.get(endsAtSlot)).toMatchObject({ status: 'ended', next_run_at: null })
  for (const id of [startsLater, newStartsLater]) {
    const row = rows.get(id)!
    // The first 09:00 at or after its start, not called yet, picked by the sweep then.
    const first = computeNextRunAt({ frequency: 'daily', timezone: 'UTC', runAt: '09:00', after: new Date(row.starts_at.getTime() - 1), now: row.starts_at })
    expect(row).toMatchObject({ status: 'pending', next_run_at: first, job_id: null, lease_expires_at: null, last_completed_for: null })
  }
  expect(logger.messages('info').filter((m) => /not calling 4 subscriptions whose slot lies outside its own starts_at\/ends_at/.test(m))).toHaveLength(1)

  // Nothing of them is left for the next run, which calls none of them.
  const next = await shared.scheduler.runNow()
  expect(next).toMatchObject({ processed: 0 })
  expect(worker.calls).toHaveLength(2)
})
