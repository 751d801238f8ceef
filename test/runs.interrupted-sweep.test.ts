import { expect, test } from 'vitest'
import { closeSilentSweeps } from '../src/runs.js'
import { createTestDatabase } from './support/database.js'

test('a run whose sweep went silent is closed, keeps its counts, and finishes once what it enqueued settled', async () => {
  const db = await createTestDatabase()
  const { rows } = await db.pool.query<{ id: string; label: string }>(
    `INSERT INTO subscription_scheduler.runs (trigger, started_at, sweep_heartbeat_at, claimed, successful, failed)
     VALUES ('cron', now() - interval '1 hour', now() - interval '10 minutes', 40, 38, 2),
            ('cron', now() - interval '1 hour', now() - interval '10 minutes', 40, 30, 0),
            ('manual', now() - interval '1 hour', now() - interval '5 seconds', 40, 40, 0)
     RETURNING id, trigger AS label`,
  )
  const [settled, outstanding, alive] = rows
  const closed = await closeSilentSweeps(db.pool, new Date(), 300)
  expect(closed.map((r) => r.runId).sort()).toEqual([settled!.id, outstanding!.id].sort())
  const byId = new Map(closed.map((r) => [r.runId, r]))
  // All 40 it enqueued have settled: it finishes now.
  expect(byId.get(settled!.id)).toMatchObject({ processed: 40, successful: 38, failed: 2, finishedAt: expect.any(Date), error: expect.stringMatching(/interrupted/) })
  // 10 still in flight: closed, but finishes only when they settle.
  expect(byId.get(outstanding!.id)).toMatchObject({ finishedAt: null, sweepFinishedAt: expect.any(Date) })
  // A sweep that claimed a page seconds ago is alive: left alone.
  const { rows: [still] } = await db.pool.query(`SELECT sweep_finished_at FROM subscription_scheduler.runs WHERE id = $1`, [alive!.id])
  expect(still.sweep_finished_at).toBeNull()
})
