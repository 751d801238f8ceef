/**
 * The view stop() puts over the host's pool for its sweeps, its metrics and its settles: once its
 * signal has aborted, a statement of its own still running at two looks (a quarter second apart)
 * is cancelled, as a statement waiting on a lock never fails by itself. A short statement after
 * the abort goes through, and the host's own statements on the same pool are never touched.
 */
import pg from 'pg'
import { afterAll, describe, expect, onTestFinished, test } from 'vitest'
import { cancelStatementsAfter } from '../src/db/cancel-after.js'
import { withTransaction } from '../src/db/executor.js'
import { createTestDatabase } from './support/database.js'
import { pgbouncerUnavailable, startBouncer } from './support/pgbouncer.js'
import type { Bouncer } from './support/pgbouncer.js'
import { waitingForLocks } from './support/reliability-support.js'

const bouncers: Bouncer[] = []
afterAll(async () => await Promise.all(bouncers.map((b) => b.close())))

async function lockedTable(db: { pool: pg.Pool }) {
  await db.pool.query('CREATE TABLE locked (id int)')
  const locker = await db.pool.connect()
  onTestFinished(() => locker.release(true))
  await locker.query('BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE')
  return locker
}

async function viewCancelsWaitingStatements(url: string, db: { pool: pg.Pool }): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  onTestFinished(async () => await pool.end())
  const stop = new AbortController()
  const view = cancelStatementsAfter(pool, stop.signal)
  const locker = await lockedTable(db)
  // One through the view's query(), one in a transaction of the view's, one of the host's own.
  const viewQuery = view.query('SELECT count(*) FROM locked').then(() => 'ran', (error: Error) => error.message)
  const viewTransaction = withTransaction(view, async (client) => await client.query('SELECT count(*) FROM locked')).then(() => 'ran', (error: Error) => error.message)
  const hostQuery = pool.query('SELECT count(*) FROM locked').then(() => 'ran', (error: Error) => error.message)
  await waitingForLocks(db.pool, 3, 'the three statements waiting on the lock')
  // Before the abort, nothing is cancelled, however long it waits.
  expect(await Promise.race([viewQuery, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 700))])).toBe('still waiting')

  stop.abort()
  expect(await viewQuery).toMatch(/canceling statement due to user request/)
  expect(await viewTransaction).toMatch(/canceling statement due to user request/)
  // A short statement after the abort goes through; the host's own still waits for its lock.
  expect((await view.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  expect(await Promise.race([hostQuery, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 700))])).toBe('still waiting')
  await locker.query('COMMIT')
  expect(await hostQuery).toBe('ran')
  // Every client went back to the pool, none lost to the view.
  await expect.poll(() => pool.totalCount - pool.idleCount, { timeout: 5_000 }).toBe(0)
}

test('once its signal aborts, statements of the view still waiting on a lock are cancelled; a short one after goes through; the host\'s own are not touched', async () => {
  const db = await createTestDatabase()
  await viewCancelsWaitingStatements(db.url, db)
})

test('the view reads through to the pool: an ended pool reads as ended through it', async () => {
  const db = await createTestDatabase()
  const pool = new pg.Pool({ connectionString: db.url, max: 2 })
  const view = cancelStatementsAfter(pool, new AbortController().signal)
  expect((await view.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  await pool.end()
  expect(view.ended).toBe(true)
  await expect(view.query('SELECT 1')).rejects.toThrow(/Cannot use a pool after calling end on the pool/)
})

const unavailable = pgbouncerUnavailable()

describe.skipIf(unavailable !== undefined)(`behind PgBouncer in transaction mode${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  test('the cancel reaches the statement through PgBouncer', async () => {
    const db = await createTestDatabase()
    const bouncer = await startBouncer(db.url)
    bouncers.push(bouncer)
    await viewCancelsWaitingStatements(bouncer.url, db)
  })
})
