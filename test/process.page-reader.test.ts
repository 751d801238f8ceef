/**
 * What a page job reads when it starts: of the rows it was given, those it still owns and may
 * call, with what their calls need as the host has them now; those it owns but may not call
 * (paused, inactive, deleted), to let go of as skipped; and nothing of rows another job owns.
 * The jobs of one fetch start together, and their reads are one statement.
 */
import { randomUUID } from 'node:crypto'
import { expect, test } from 'vitest'
import type { Executor } from '../src/db/executor.js'
import { createCallableReader, createPageReader } from '../src/process/page-rows.js'
import { countingExecutor, createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

/** The queue prefix the readers look for a pause of calls under: the default one. */
const SCOPE = 'subscription-scheduler'

/** Six rows claimed by two jobs, three each; returns their processing ids in job order. */
async function claimedByTwoJobs() {
  const db = await createTestDatabase()
  const subscriptions = await seedSubscriptions(db.pool, { count: 6, userId: 'random' })
  const jobs = [randomUUID(), randomUUID()]
  const { rows } = await db.pool.query<{ id: string; sid: string }>(
    `UPDATE subscription_processing sp SET status = 'queued', scheduled_for = date_trunc('milliseconds', now()),
            job_id = ($2::uuid[])[1 + (array_position($1::uuid[], sp.subscription_id) - 1) / 3]
      WHERE sp.subscription_id = ANY($1::uuid[])
     RETURNING sp.id::text, sp.subscription_id::text AS sid`,
    [subscriptions, jobs],
  )
  const ids = subscriptions.map((sid) => rows.find((r) => r.sid === sid)!.id)
  // Counts the statements the readers send.
  const { executor: counted, statements } = countingExecutor(db.pool)
  return { db, subscriptions, ids, jobs: jobs as [string, string], statements, counted }
}

test('the jobs of one fetch read their rows in one statement, each getting only what it owns', async () => {
  const { db, subscriptions, ids, jobs, statements, counted } = await claimedByTwoJobs()
  // Since the claim: the host moved one subscription to another user, paused one, deactivated
  // one and deleted one; and the second job is asked about a row the first one owns.
  const { rows: [moved] } = await db.pool.query<{ user_id: string }>(`UPDATE subscriptions SET user_id = gen_random_uuid() WHERE id = $1 RETURNING user_id::text`, [subscriptions[0]])
  await db.pool.query(`UPDATE subscription_processing SET status = 'paused', paused_reason = 'manual' WHERE id = $1`, [ids[1]])
  await db.pool.query(`UPDATE subscriptions SET active = false WHERE id = $1`, [subscriptions[3]])
  await db.pool.query(`DELETE FROM subscriptions WHERE id = $1`, [subscriptions[4]])

  const reader = createPageReader(counted, SCOPE)
  const [first, second] = await Promise.all([reader.read(jobs[0], ids.slice(0, 3)), reader.read(jobs[1], [ids[0]!, ...ids.slice(3)])])

  expect(statements).toHaveLength(1)
  expect(first.callable.map((r) => r.id)).toEqual([ids[0], ids[2]])
  expect(first.callable[0]).toMatchObject({ subscription_id: subscriptions[0], user_id: moved!.user_id, frequency: 'daily', attempts: 0 })
  expect(first.leftovers).toEqual([ids[1]])
  expect(second.callable.map((r) => r.id)).toEqual([ids[5]])
  expect(second.leftovers.sort()).toEqual([ids[3], ids[4]].sort())
})

test('while calls are paused fleet-wide, a job owns its rows but may call none: each is let go of, and a waiting row is not callable', async () => {
  const { db, ids, jobs, counted } = await claimedByTwoJobs()
  await db.pool.query(`INSERT INTO subscription_scheduler.calls_pause (scope, paused_at) VALUES ($1, now())`, [SCOPE])
  const page = await createPageReader(counted, SCOPE).read(jobs[0], ids.slice(0, 3))
  expect(page).toEqual({ callable: [], leftovers: ids.slice(0, 3) })
  expect(await createCallableReader(counted, SCOPE).read(jobs[1], ids.slice(3))).toEqual(new Map())
  // Another scheduler's pause (another queue prefix) holds nothing of this one.
  expect((await createPageReader(counted, 'another-scheduler').read(jobs[0], ids.slice(0, 3))).callable).toHaveLength(3)
})

test('reads asked for in different turns are separate statements, and a read that fails rejects its requests', async () => {
  const { db, ids, jobs, statements, counted } = await claimedByTwoJobs()
  const reader = createPageReader(counted, SCOPE)
  const first = await reader.read(jobs[0], ids.slice(0, 3))
  const second = await reader.read(jobs[1], ids.slice(3))
  expect(statements).toHaveLength(2)
  expect([first.callable.length, second.callable.length]).toEqual([3, 3])

  const broken: Executor = { query: (() => Promise.reject(new Error('connection lost'))) as unknown as Executor['query'] }
  const failing = createCallableReader(broken, SCOPE)
  await expect(failing.read(jobs[0], ids.slice(0, 3))).rejects.toThrow('connection lost')
  const callable = createCallableReader(counted, SCOPE)
  const again = await callable.read(jobs[1], ids.slice(3))
  expect([...again.keys()]).toEqual(ids.slice(3))
  // Each with its subscription's user as it is now.
  const { rows: users } = await db.pool.query<{ id: string; user_id: string }>(`SELECT sp.id::text, s.user_id::text FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id WHERE sp.id = ANY($1::uuid[])`, [ids.slice(3)])
  for (const { id, user_id } of users) expect(again.get(id)).toBe(user_id)
})

/** The plan of `statement` with `ids` as its `$1` (and the scope as its `$2`), one line per node. */
async function planOf(db: TestDatabase, statement: string, ids: string[]): Promise<string> {
  const { rows } = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`, [ids, SCOPE])
  return rows.map((r) => r['QUERY PLAN']).join('\n')
}

test('a read of a thousand rows finds each subscription by its key, never by scanning the host\'s table', async () => {
  // Planned as a hash join, a read of 1,024 rows scanned all 100k subscriptions of the bench's
  // table (20 ms against 8), and would scan all of a host's millions: a fetch's jobs read
  // together, and a slow worker's rows in hand are read again every 250 ms.
  const db = await createTestDatabase()
  await seedSubscriptions(db.pool, { count: 20_000 })
  const job = randomUUID()
  const { rows } = await db.pool.query<{ id: string }>(
    `UPDATE subscription_processing SET status = 'queued', job_id = $1
      WHERE id IN (SELECT id FROM subscription_processing ORDER BY id LIMIT 1024) RETURNING id::text`,
    [job],
  )
  await db.pool.query('ANALYZE subscriptions; ANALYZE subscription_processing')
  const ids = rows.map((r) => r.id)

  const { executor, statements } = countingExecutor(db.pool)
  expect((await createPageReader(executor, SCOPE).read(job, ids)).callable).toHaveLength(1024)
  expect((await createCallableReader(executor, SCOPE).read(job, ids)).size).toBe(1024)
  expect(statements).toHaveLength(2)
  for (const statement of statements) expect(await planOf(db, statement, ids)).not.toMatch(/Seq Scan on subscriptions /)
})
