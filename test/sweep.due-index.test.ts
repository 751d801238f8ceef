/**
 * What a sweep reads of the due index. Rows failed during a worker outage wait out their retry
 * delay (retry_at); their slots have come, so in slot order they lie inside every sweep's range.
 * Walked and filtered out by each sweep, 100,000 of them made an empty runNow() 56–75 ms against
 * 15–27 ms: a million would cost half a second a sweep, and countDue() as much at every run start
 * and rescue tick. The index sorts a failed row at its retry_at, so a sweep never reads them.
 */
import { randomUUID } from 'node:crypto'
import { beforeAll, expect, test } from 'vitest'
import { firstCandidateSql, sweepPredicate } from '../src/sweep/claim-sql.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

const WAITING = 3000
const DUE = 5

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
 * How many index entries of subscription_processing_due_idx `sql` read (kept or filtered out),
 * and that it used that index: on a table this small, a count is planned as a scan of the table
 * unless told not to (`indexOnly`).
 */
async function dueIndexEntriesRead(sql: string, params: unknown[], indexOnly = false): Promise<number> {
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
  const scans = nodes.filter((n) => n['Index Name'] === 'subscription_processing_due_idx')
  expect(scans, 'the statement reads the due index').not.toHaveLength(0)
  return scans.reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1), 0)
}

test("a sweep's first page reads the due rows, not the failed rows still waiting out their retry delay", async () => {
  const sql = firstCandidateSql('due', { bossSchema: 'pgboss', processQueue: 'subscription-scheduler.process' })
  const params = [now, '-infinity', '00000000-0000-0000-0000-000000000000', 1000, 60, randomUUID(), [], 1000, null]
  const { rows } = await db.pool.query<{ subscription_id: string }>(sql, params)
  expect(rows).toHaveLength(1)
  expect(await dueIndexEntriesRead(sql, params)).toBeLessThanOrEqual(DUE)
})

test('counting the due rows (every run start and rescue tick) reads only them', async () => {
  const sql = `SELECT count(*)::int AS n FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id
                WHERE s.active IS TRUE AND ${sweepPredicate('due')}`
  expect((await db.pool.query<{ n: number }>(sql, [now])).rows[0]!.n).toBe(DUE)
  expect(await dueIndexEntriesRead(sql, [now], true)).toBeLessThanOrEqual(DUE)
  // An hour on, the waiting rows are due again, and counted.
  const later = new Date(now.getTime() + 3600_000)
  expect((await db.pool.query<{ n: number }>(sql, [later])).rows[0]!.n).toBe(DUE + WAITING)
})
