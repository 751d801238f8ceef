/**
 * A sweep's closing writes during a stop, the database out of reach: they retry until stop()'s
 * deadline, then leave the run open for a rescue, as a dead instance's sweep is, and say so.
 */
import pg from 'pg'
import { afterAll, expect, test } from 'vitest'
import { createRun } from '../src/records/runs.js'
import { createRefusedClaims } from '../src/sweep/refused-claims.js'
import { closeSweep } from '../src/sweep/sweep-end.js'
import { captureLogger } from '../src/testing.js'
import { startDbProxy } from './chaos/db-proxy.js'
import type { DbProxy } from './chaos/db-proxy.js'
import { createTestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'

let proxy: DbProxy | undefined
afterAll(async () => await proxy?.close())

test("a sweep that cannot be closed by stop()'s deadline leaves its run open for a rescue, and says so, instead of retrying on", async () => {
  const db = await createTestDatabase()
  const runId = await createRun(db.pool, 'manual', new Date())
  proxy = await startDbProxy(db.url)
  const pool = new pg.Pool({ connectionString: proxy.url, max: 2 })
  pool.on('error', () => {})
  const logger = captureLogger()
  const deadline = new AbortController()
  proxy.goDark()
  const ctx = { pool, logger, clock: { now: () => new Date() }, closeBy: deadline.signal }
  const closing = closeSweep(ctx, { runId, now: new Date(), claimed: 10, failure: undefined, refused: createRefusedClaims(runId, logger) })
  await pollUntil(() => (logger.messages('warn').some((m) => m.startsWith(`Database unavailable while closing the sweep of run ${runId}`)) ? true : null), {
    timeoutMs: 10_000,
    what: 'the close retrying through the outage',
  })
  deadline.abort()
  await closing
  expect(logger.messages('warn').filter((m) => m.startsWith(`Run ${runId}: `))).toEqual([
    expect.stringMatching(/^Run \S+: its sweep enqueued 10 subscriptions, but the database was out of reach until stop\(\)'s deadline \(.+\), so it could not be closed: a rescue pass closes the run once its sweep has been silent for interruptedSweepAfterSeconds\.$/),
  ])
  expect(logger.messages('info').filter((m) => /enqueued/.test(m))).toEqual([])
  await pool.end()
  const { rows: [run] } = await db.pool.query(`SELECT sweep_finished_at FROM subscription_scheduler.runs WHERE id = $1`, [runId])
  expect(run.sweep_finished_at).toBeNull()
})
