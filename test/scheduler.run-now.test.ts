import { describe, expect, test } from 'vitest'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { useStartedScheduler } from './support/schedulers.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const worker = createFakeWorkerClient()
const logger = captureLogger()

const shared = useStartedScheduler({ workerClient: worker, logger, concurrency: 32, retry: { limit: 0 } })

describe('runNow', () => {
  test('processes 2,000 due subscriptions exactly once each, and records status, last and next run', async () => {
    worker.reset()
    const ids = await seedSubscriptions(shared.db.pool, { count: 2000 })
    const before = Date.now()
    const summary = await shared.scheduler.runNow()
    expect(summary).toMatchObject({ processed: 2000, successful: 2000, failed: 0 })
    expect(summary.runId).toMatch(/^[0-9a-f-]{36}$/)
    // A run waited for has finished: its end and duration are typed as there (no null to rule out).
    const took: number = summary.durationMs
    const ended: Date = summary.finishedAt
    expect(took).toBe(ended.getTime() - summary.startedAt.getTime())
    const called = worker.calls.map((c) => c.subscriptionId)
    expect(called.length).toBe(2000)
    expect(new Set(called)).toEqual(new Set(ids))
    const rows = await rowsFor(shared.db.pool, ids)
    for (const row of rows) {
      expect(row.status).toBe('completed')
      expect(row.error).toBeNull()
      expect(row.last_run_at.getTime()).toBeGreaterThanOrEqual(before - 1000)
      expect(row.next_run_at.getTime()).toBeGreaterThan(Date.now())
      expect(row.next_run_at.toISOString()).toMatch(/T09:00:00.000Z$/)
    }
    // A second run finds nothing due: nothing is processed twice.
    const again = await shared.scheduler.runNow()
    expect(again).toMatchObject({ processed: 0, successful: 0, failed: 0 })
    expect(worker.calls.length).toBe(2000)
  })

  test("the lateness percentiles never pass the run's largest lateness, however wide its bucket", async () => {
    worker.reset()
    // Every slot 13 s past: all in the 10–30 s bucket, whose interpolation alone read 20 s and 29 s.
    await seedSubscriptions(shared.db.pool, { count: 20, nextRunInSeconds: -13 })
    const summary = await shared.scheduler.runNow()
    expect(summary.processed).toBe(20)
    const { rows: [run] } = await shared.db.pool.query<{ lateness_max_ms: number }>(`SELECT lateness_max_ms FROM subscription_scheduler.runs WHERE id = $1`, [summary.runId])
    expect(run!.lateness_max_ms).toBeGreaterThanOrEqual(13_000)
    expect(summary.latenessP95Ms).toBe(run!.lateness_max_ms)
    expect(summary.latenessP50Ms).toBeLessThanOrEqual(run!.lateness_max_ms)
    expect(summary.latenessP50Ms).toBeGreaterThanOrEqual(10_000)
  })

  test('sends each call the subscription, user, slot, attempt and a stable idempotency key', async () => {
    worker.reset()
    const [id] = await seedSubscriptions(shared.db.pool, { count: 1, nextRunInSeconds: -60 })
    await shared.scheduler.runNow()
    const [call] = worker.callsFor(id!)
    const [row] = await rowsFor(shared.db.pool, [id!])
    const { rows: users } = await shared.db.pool.query(`SELECT user_id::text FROM subscriptions WHERE id = $1`, [id])
    expect(call).toEqual({
      subscriptionId: id,
      userId: users[0].user_id,
      processingId: row.id,
      scheduledFor: row.scheduled_for.toISOString(),
      attempt: 1,
      idempotencyKey: `${id}:${row.scheduled_for.toISOString()}`,
    })
  })

  test('leaves inactive and not-yet-due rows untouched', async () => {
    worker.reset()
    const inactive = await seedSubscriptions(shared.db.pool, { count: 5, active: false })
    const future = await seedSubscriptions(shared.db.pool, { count: 5, nextRunInSeconds: 3600 })
    const before = await rowsFor(shared.db.pool, [...inactive, ...future])
    const summary = await shared.scheduler.runNow()
    expect(summary.processed).toBe(0)
    expect(worker.calls).toEqual([])
    expect(await rowsFor(shared.db.pool, [...inactive, ...future])).toEqual(before)
  })

  test("selects rows in each of the MVP's statuses exactly as its query did", async () => {
    worker.reset()
    const cases = [
      { status: 'pending', nextRunInSeconds: null, picked: true },
      { status: 'pending', nextRunInSeconds: -60, picked: true },
      { status: 'pending', nextRunInSeconds: 3600, picked: false },
      { status: 'failed', nextRunInSeconds: null, picked: true },
      { status: 'failed', nextRunInSeconds: -60, picked: true },
      { status: 'failed', nextRunInSeconds: 3600, picked: false },
      { status: 'completed', nextRunInSeconds: null, picked: false },
      { status: 'completed', nextRunInSeconds: -60, picked: true },
      { status: 'completed', nextRunInSeconds: 3600, picked: false },
    ] as const
    const seeded = []
    for (const c of cases) seeded.push({ ...c, id: (await seedSubscriptions(shared.db.pool, { count: 1, status: c.status, nextRunInSeconds: c.nextRunInSeconds }))[0]! })
    const summary = await shared.scheduler.runNow()
    expect(summary.processed).toBe(cases.filter((c) => c.picked).length)
    for (const c of seeded) {
      expect({ ...c, called: worker.callsFor(c.id).length }).toEqual({ ...c, called: c.picked ? 1 : 0 })
    }
  })

  test("records the worker's failure on the row and in the summary", async () => {
    worker.reset()
    const [bad, good] = await seedSubscriptions(shared.db.pool, { count: 2 })
    worker.on(bad!, { fail: new Error('worker exploded') })
    const summary = await shared.scheduler.runNow()
    expect(summary).toMatchObject({ processed: 2, successful: 1, failed: 1 })
    const rows = await rowsFor(shared.db.pool, [bad!, good!])
    const badRow = rows.find((r) => r.sid === bad)
    expect(badRow).toMatchObject({ status: 'failed', error: 'worker exploded', consecutive_failures: 1 })
    expect(rows.find((r) => r.sid === good)).toMatchObject({ status: 'completed', error: null })
    expect(logger.messages('warn').some((m) => m.includes(bad!) && m.includes('worker exploded'))).toBe(true)
  })

  test('returns at once with a run id when asked not to wait', async () => {
    worker.reset()
    await seedSubscriptions(shared.db.pool, { count: 3 })
    const { runId } = await shared.scheduler.runNow({ wait: false })
    expect(runId).toMatch(/^[0-9a-f-]{36}$/)
    await worker.waitForCalls(3)
  })
})
