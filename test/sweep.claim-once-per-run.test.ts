/**
 * A sweep claims in pages, one transaction each, while the jobs of its first pages already run.
 * A row whose job settled it before the sweep's next page must not be claimed again by that
 * run: its slot is recorded, so the second job could record nothing, and the row stayed queued,
 * its run never finished. Seen with `runSubscription()`: a run of one subscription that claimed
 * it twice (claimed 2, successful 1) and waited for an hour's lease.
 */
import { randomUUID } from 'node:crypto'
import { expect, test } from 'vitest'
import { createRun } from '../src/records/runs.js'
import { claimSql, START_CURSOR } from '../src/sweep/claim-sql.js'
import type { ClaimKind, Cursor } from '../src/sweep/claim-sql.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

interface Claimed {
  id: string
  last_key: string
  last_id: string
}

/** One claim page of `kind` for `runId` after `cursor`, as the sweep makes it (`$9`: the ids). */
async function claim(db: TestDatabase, kind: ClaimKind, runId: string, cursor: Cursor, ids: string[] | null) {
  const { rows } = await db.pool.query<Claimed>(claimSql(kind, { bossSchema: 'pgboss', processQueue: 'claim-once.process' }), [new Date(), cursor.key, cursor.id, 10, 3600, runId, [randomUUID()], 10, ids])
  return rows
}

/** What a job's settle leaves: the slot recorded, the row free, its next slot ahead of the cursor. */
async function settle(db: TestDatabase, id: string, status: 'completed' | 'failed') {
  await db.pool.query(
    `UPDATE subscription_processing
        SET status = $2::text, job_id = NULL, lease_expires_at = NULL, next_run_at = now() + interval '1 day',
            last_completed_for = CASE WHEN $2::text = 'completed' THEN scheduled_for END
      WHERE id = $1`,
    [id, status],
  )
}

test('runSubscription: a row its run has settled is not claimed again by the next page of that run', async () => {
  const db = await createTestDatabase()
  const [subscription] = (await seedSubscriptions(db.pool, { count: 1 })) as [string]
  const runId = await createRun(db.pool, 'single', new Date())

  const first = await claim(db, 'single', runId, START_CURSOR, [subscription])
  expect(first).toHaveLength(1)
  await settle(db, first[0]!.id, 'completed')

  const cursor = { key: first[0]!.last_key, id: first[0]!.last_id }
  expect(await claim(db, 'single', runId, cursor, [subscription])).toEqual([])
  // Another run asked for it is another matter: it is called again.
  expect(await claim(db, 'single', await createRun(db.pool, 'single', new Date()), START_CURSOR, [subscription])).toHaveLength(1)
})

test('retryFailed: a row that failed again in its retry run is not claimed again by that run', async () => {
  const db = await createTestDatabase()
  await seedSubscriptions(db.pool, { count: 1, status: 'failed' })
  const runId = await createRun(db.pool, 'retry', new Date())

  const first = await claim(db, 'failed', runId, START_CURSOR, null)
  expect(first).toHaveLength(1)
  await settle(db, first[0]!.id, 'failed')

  const cursor = { key: first[0]!.last_key, id: first[0]!.last_id }
  expect(await claim(db, 'failed', runId, cursor, null)).toEqual([])
})
