/**
 * What a claim reads of its index when a worker outage has left many rows failed.
 * - A sweep: the failed rows wait out their retry delay (retry_at); their slots have come, so in
 *   slot order they lie inside every sweep's range. Walked and filtered out by each sweep, 100,000
 *   of them made each claim page 93 ms against 0.3 ms, and countDue() (every run start and rescue
 *   tick) a scan of the table. The due index sorts a failed row at its retry_at, so a sweep never
 *   reads them.
 * - retryFailed(): each page sorted every failed row, 630 ms a page with 100,000 of them. An index
 *   of the failed rows in slot order gives each page its rows at once.
 */
import { randomUUID } from 'node:crypto'
import { beforeAll, expect, test } from 'vitest'
import { firstCandidateSql, sweepPredicate } from '../src/sweep/claim-sql.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

const WAITING = 3000
const DUE = 5

const QUEUE = { bossSchema: 'pgboss', processQueue: 'subscription-scheduler.process' }

let db: TestDatabase
let now: Date

beforeAll(async () => {
  db = await createTestDatabase()
  // Failed an hour ago for slots of two hours ago, tried again in an hour; five rows due since
  // a minute ago, after them in slot order.
  const waiting = await seedSubscriptions(db.pool, { count: WAITING, status: 'failed', nextRunInSeconds: -7200 })
  await db.pool.query(`UPDATE subscription_processing SET retry_at = now() + interval '1 hour', error = 'HTTP 503' WHERE subscription_id = ANY($1)`, [waiting])
  await seedSubscriptions(db.pool, { count: DUE, nextRunInSeconds: -60 })
  await db.pool.query('ANALYZE subscriptions; ANALYZE subscription_processing')
  now = (await db.pool.query<{ now: Date }>('SELECT now()')).rows[0]!.now
})

interface PlanNode {
  'Index Name'?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Rows Removed by Filter'?: number
  Plans?: PlanNode[]
}

/**
 * How many entries of the index `name` (the due index unless said) `sql` read, kept or filtered
 * out, and that it used that index: on a table this small, a count is planned as a scan of the
 * table unless told not to (`indexOnly`).
 */
async function indexEntriesRead(sql: string, params: unknown[], indexOnly = false, name = 'subscription_processing_due_idx'): Promise<number> {
  const client = await db.pool.connect()
  let rows: { 'QUERY PLAN': [{ Plan: PlanNode }] }[]
  try {
    await client.query('BEGIN')
    if (indexOnly) await client.query('SET LOCAL enable_seqscan = off')
    rows = (await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params)).rows
  } finally {
    await client.query('ROLLBACK')
    client.release()
  }
  const nodes: PlanNode[] = []
  const walk = (node: PlanNode) => {
    nodes.push(node)
    node.Plans?.forEach(walk)
  }
  walk(rows[0]!['QUERY PLAN'][0].Plan)
  const scans = nodes.filter((n) => n['Index Name'] === name)
  expect(scans, `the statement reads ${name}`).not.toHaveLength(0)
  return scans.reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1), 0)
}

test("a sweep's first page reads the due rows, not the failed rows still waiting out their retry delay", async () => {
  const sql = firstCandidateSql('due', QUEUE)
  const params = [now, '-infinity', '00000000-0000-0000-0000-000000000000', 1000, 60, randomUUID(), [], 1000, null]
  const { rows } = await db.pool.query<{ subscription_id: string }>(sql, params)
  expect(rows).toHaveLength(1)
  expect(await indexEntriesRead(sql, params)).toBeLessThanOrEqual(DUE)
})

test('counting the due rows (every run start and rescue tick) reads only them', async () => {
  const sql = `SELECT count(*)::int AS n FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id
                WHERE s.active IS TRUE AND ${sweepPredicate('due')}`
  expect((await db.pool.query<{ n: number }>(sql, [now])).rows[0]!.n).toBe(DUE)
  expect(await indexEntriesRead(sql, [now], true)).toBeLessThanOrEqual(DUE)
  // An hour on, the waiting rows are due again, and counted.
  const later = new Date(now.getTime() + 3600_000)
  expect((await db.pool.query<{ n: number }>(sql, [later])).rows[0]!.n).toBe(DUE + WAITING)
})

test('a page of retryFailed() takes the oldest failed slots through the index of failed rows, not a sort of them all', async () => {
  const sql = firstCandidateSql('failed', QUEUE)
  const params = [now, '-infinity', '00000000-0000-0000-0000-000000000000', 1000, 60, randomUUID(), [], 1000, null]
  const { rows } = await db.pool.query<{ subscription_id: string }>(sql, params)
  expect(rows).toHaveLength(1)
  expect(await indexEntriesRead(sql, params, false, 'subscription_processing_failed_idx')).toBe(1)
})
