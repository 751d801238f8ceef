/**
 * MVP tables written by hand rather than from the MVP's DDL, as a helper's trial of the tarball
 * met them: columns with no defaults (ids made in application code, a status with none), and
 * constraints that the scheduler's own writes would break. Each is adopted so that enrolment and
 * sweeps work, or refused before anything changes, naming the statement that fixes it.
 */
import { describe, expect, test } from 'vitest'
import { migrate } from '../src/db/migrate.js'
import { TABLES } from '../src/db/names.js'
import { MigrationError } from '../src/errors.js'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createEmptyDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL, SEED_PROCESSING_DDL } from './support/host-schema.js'

/** The MVP's nine columns with `edit` applied to its DDL, and the host's subscriptions: `ids` with a row, `missing` without. */
async function mvpTable(edit: (ddl: string) => string): Promise<{ db: TestDatabase; ids: string[]; missing: string[] }> {
  const db = await createEmptyDatabase()
  await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
  await db.pool.query(edit(SEED_PROCESSING_DDL))
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), 'daily' FROM generate_series(1, 4) RETURNING id`)
  const ids = rows.slice(0, 2).map((r) => r.id)
  await db.pool.query(
    `INSERT INTO subscription_processing (id, subscription_id, status, next_run_at, metadata, created_at, updated_at)
     SELECT gen_random_uuid(), id, 'pending', now() - interval '1 hour', '{}', now(), now() FROM unnest($1::uuid[]) AS id`,
    [ids],
  )
  return { db, ids, missing: rows.slice(2).map((r) => r.id) }
}

/** Starts a scheduler, runs once, and gives back who the worker was called for and the run's summary. */
async function runOnce(db: TestDatabase) {
  const worker = createFakeWorkerClient()
  const scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger: captureLogger() })
  await scheduler.start()
  try {
    const summary = await scheduler.runNow()
    return { summary, called: worker.calls.map((c) => c.subscriptionId).sort(), scheduler }
  } finally {
    await scheduler.stop()
  }
}

const defaultOf = async (db: TestDatabase, column: string) =>
  (await db.pool.query<{ d: string | null }>(
    `SELECT pg_get_expr(d.adbin, d.adrelid) AS d FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = 'subscription_processing'::regclass AND a.attname = $1`,
    [column],
  )).rows[0]?.d ?? null

describe('an adopted MVP table', () => {
  test('with no column defaults: enrolment still makes due rows, and a sweep calls every subscription', async () => {
    const { db, ids, missing } = await mvpTable((ddl) =>
      ddl
        .replace('PRIMARY KEY DEFAULT gen_random_uuid()', 'PRIMARY KEY')
        .replace("NOT NULL DEFAULT 'pending'", '')
        .replace("DEFAULT '{}'", '')
        .replaceAll('DEFAULT NOW()', ''),
    )
    const { summary, called } = await runOnce(db)
    expect(called).toEqual([...ids, ...missing].sort())
    expect(summary).toMatchObject({ processed: 4, successful: 4, failed: 0 })
    const { rows } = await db.pool.query(`SELECT status, count(*)::int AS n FROM subscription_processing GROUP BY status`)
    expect(rows).toEqual([{ status: 'completed', n: 4 }])
    expect(await defaultOf(db, 'status')).toBe("'pending'::character varying")
  })

  test("a default of the host's own is kept", async () => {
    const { db } = await mvpTable((ddl) => ddl.replace('DEFAULT gen_random_uuid()', 'DEFAULT md5(random()::text)::uuid'))
    await migrate(db.pool)
    expect(await defaultOf(db, 'id')).toBe('(md5((random())::text))::uuid')
  })

  test('with a CHECK on its statuses, NOT NULL where the scheduler writes none, or a column of its own that enrolment cannot fill: refused, each named with its fix, nothing changed; fixed, adopted', async () => {
    const { db, ids, missing } = await mvpTable((ddl) =>
      ddl
        .replace("NOT NULL DEFAULT 'pending'", "NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'completed', 'failed'))")
        .replace('last_run_at TIMESTAMP WITH TIME ZONE', 'last_run_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()')
        // A column of the host's own, which every row of its own fills, and enrolment would not.
        .replace('error TEXT,', "error TEXT, region text NOT NULL DEFAULT 'eu',"),
    )
    await db.pool.query(`ALTER TABLE subscription_processing ALTER COLUMN region DROP DEFAULT`)
    const refused = await migrate(db.pool).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(MigrationError)
    const message = (refused as Error).message
    expect(message).toContain("constraints the scheduler's own writes would break")
    expect(message).toContain('ALTER TABLE subscription_processing DROP CONSTRAINT "subscription_processing_status_check"')
    expect(message).toContain('ALTER TABLE subscription_processing ALTER COLUMN "last_run_at" DROP NOT NULL')
    expect(message).toContain('region (text) is NOT NULL with no default, and enrolment\'s insert gives it no value: ALTER TABLE subscription_processing ALTER COLUMN "region" SET DEFAULT <a value>, or DROP NOT NULL')
    const { rows: untouched } = await db.pool.query(`SELECT to_regnamespace('subscription_scheduler')::text AS schema`)
    expect(untouched).toEqual([{ schema: null }])

    // The statements it printed are the fix.
    for (const statement of message.split('\n').filter((line) => line.includes('ALTER TABLE')).map((line) => line.slice(line.indexOf('ALTER TABLE')))) {
      await db.pool.query(statement.replace('<a value>', "'eu'").replace(/, or DROP NOT NULL$/, ''))
    }
    const { summary, called } = await runOnce(db)
    expect(called).toEqual([...ids, ...missing].sort())
    expect(summary).toMatchObject({ processed: 4, successful: 4 })
  })

  test("with a status of an enum type defaulting to a status of the host's own, and NOT NULL on error: refused, each named with its one fix, nothing changed; fixed, the subscriptions enrolled after it are called", async () => {
    // A trial's DEFAULT 'waiting' was kept: every subscription enrolled after adoption stayed 'waiting', never swept, in silence.
    const { db, ids, missing } = await mvpTable((ddl) =>
      `CREATE TYPE sp_status AS ENUM ('pending', 'processing', 'completed', 'failed', 'waiting'); ` +
      ddl.replace("status VARCHAR(50) NOT NULL DEFAULT 'pending'", "status sp_status NOT NULL DEFAULT 'waiting'"),
    )
    await db.pool.query(`UPDATE subscription_processing SET error = ''; ALTER TABLE subscription_processing ALTER COLUMN error SET NOT NULL`)
    const refused = await migrate(db.pool).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(MigrationError)
    const message = (refused as Error).message
    expect(message).toContain(`status defaults to 'waiting'::sp_status, so that a subscription enrolled would start in it, where no sweep takes it: ALTER TABLE subscription_processing ALTER COLUMN status SET DEFAULT 'pending'`)
    expect(message).toContain('status is sp_status, which cannot hold every status the scheduler writes: ALTER TABLE subscription_processing ALTER COLUMN status DROP DEFAULT, ALTER COLUMN status TYPE varchar(50) USING status::text')
    // Only the fix that works: a default would leave error NOT NULL, which a success clears.
    expect(message).toContain('ALTER TABLE subscription_processing ALTER COLUMN "error" DROP NOT NULL')
    expect(message).not.toContain('"error" SET DEFAULT')
    const { rows: untouched } = await db.pool.query(`SELECT to_regnamespace('subscription_scheduler')::text AS schema`)
    expect(untouched).toEqual([{ schema: null }])

    for (const statement of message.split('\n').filter((line) => line.includes('ALTER TABLE')).map((line) => line.slice(line.indexOf('ALTER TABLE')))) {
      await db.pool.query(statement)
    }
    await db.pool.query(`UPDATE subscription_processing SET error = NULL`)
    const { summary, called } = await runOnce(db)
    expect(called).toEqual([...ids, ...missing].sort())
    expect(summary).toMatchObject({ processed: 4, successful: 4 })
  })

  test('with rows stuck in processing, their slot ahead (no call in flight): upcoming() lists that slot, and skip and reschedule change them', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await db.pool.query(SEED_PROCESSING_DDL)
    const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), 'monthly' FROM generate_series(1, 2) RETURNING id`)
    const [skipped, anchored] = rows.map((r) => r.id) as [string, string]
    const slot = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 2 * 86_400_000)
    await db.pool.query(`INSERT INTO subscription_processing (subscription_id, status, next_run_at) SELECT unnest($1::uuid[]), 'processing', $2`, [[skipped, anchored], slot])
    await migrate(db.pool)
    const scheduler = createSubscriptionScheduler(db.pool, { logger: captureLogger(), migrate: false })

    // Nothing holds it: no call is in flight, whatever its status says.
    expect(await scheduler.getSubscription(skipped)).toMatchObject({ status: 'processing', inFlight: false })
    // The rescue calls it for that slot once it has come: the preview starts there.
    expect((await scheduler.upcoming(skipped, { count: 2 }))[0]).toEqual(slot)
    expect(await scheduler.skipNext(skipped)).toMatchObject({ skipped: slot })
    expect(await scheduler.getSubscription(skipped)).toMatchObject({ status: 'pending', nextRunAt: (await scheduler.upcoming(skipped, { count: 1 }))[0] })

    // The README's fix for a monthly row the MVP's setMonth(+1) drifted: an anchor on its day.
    const { nextRunAt } = await scheduler.reschedule(anchored, { anchor: new Date('2026-01-31T09:00:00Z') })
    expect(nextRunAt?.toISOString()).toMatch(/^\d{4}-\d\d-(28|29|30|31)T09:00:00\.000Z$/)
    expect(await scheduler.getSubscription(anchored)).toMatchObject({ status: 'pending', nextRunAt })
  })
  test("completed rows with no next_run_at, which no sweep would ever take: refused at adoption, named with both fixes, nothing changed; fixed, adopted and called", async () => {
    const { db, ids } = await mvpTable((ddl) => ddl)
    await db.pool.query(`UPDATE subscription_processing SET status = 'completed', next_run_at = NULL WHERE subscription_id = $1`, [ids[0]])
    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as Error).message).toMatch(/^subscription_processing has rows 'completed' with no next_run_at, which no sweep would ever pick \(nor did the original design's\)\. No row was changed\. Give them a next run \(UPDATE subscription_processing SET next_run_at = now\(\) WHERE status = 'completed' AND next_run_at IS NULL makes them due at the next sweep\), or end them/)
    expect((error as Error).message).toContain(`subscription_id ${ids[0]}`)
    expect((await db.pool.query(`SELECT to_regclass($1)::text AS journal`, [TABLES.migrations])).rows[0].journal).toBeNull()
    await db.pool.query(`UPDATE subscription_processing SET next_run_at = now() WHERE status = 'completed' AND next_run_at IS NULL`)
    const { called } = await runOnce(db)
    expect(called).toContain(ids[0])
  })
})
