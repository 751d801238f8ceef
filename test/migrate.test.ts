import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { migrate } from '../src/migrate.js'
import { MigrationError } from '../src/errors.js'
import { createEmptyDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL, SEED_PROCESSING_DDL } from './support/host-schema.js'

const journal = JSON.parse(readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] }

const SEED_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const

async function seedDatabase() {
  const db = await createEmptyDatabase()
  await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
  await db.pool.query(SEED_PROCESSING_DDL)
  return db
}

describe('migrate', () => {
  test('creates the tables on an empty database that has the host subscriptions table', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await migrate(db.pool)
    const { rows } = await db.pool.query(
      `SELECT to_regclass('subscription_processing')::text AS p, to_regclass('subscription_scheduler.runs')::text AS r,
              to_regclass('subscription_scheduler.__drizzle_migrations')::text AS m, to_regclass('drizzle.__drizzle_migrations')::text AS host`,
    )
    expect(rows[0]).toEqual({ p: 'subscription_processing', r: 'subscription_scheduler.runs', m: 'subscription_scheduler.__drizzle_migrations', host: null })
  })

  test('adopts a table created with the MVP DDL in place, keeping every row in every status', async () => {
    const db = await seedDatabase()
    const { rows: subs } = await db.pool.query<{ id: string }>(
      `INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), 'daily' FROM generate_series(1, 40) RETURNING id`,
    )
    const before = await db.pool.query(
      `INSERT INTO subscription_processing (subscription_id, status, next_run_at, last_run_at, error, metadata)
       SELECT id, (ARRAY['pending','processing','completed','failed'])[1 + (n % 4)],
              now() - (n || ' hours')::interval, CASE WHEN n % 2 = 0 THEN now() END,
              CASE WHEN n % 4 = 3 THEN 'boom ' || n END, jsonb_build_object('n', n)
         FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)
       RETURNING *`,
      [subs.map((s) => s.id)],
    )
    await migrate(db.pool)
    const { rows: after } = await db.pool.query(
      `SELECT id, subscription_id, status, next_run_at, last_run_at, error, metadata, created_at, updated_at FROM subscription_processing ORDER BY id`,
    )
    const sortById = (rows: { id: string }[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id))
    expect(after).toEqual(sortById(before.rows))
    expect(new Set(after.map((r) => r.status))).toEqual(new Set(SEED_STATUSES))
    const { rows: cols } = await db.pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'subscription_processing'`,
    )
    expect(cols.map((c) => c.column_name)).toEqual(expect.arrayContaining(['timezone', 'scheduled_for', 'lease_expires_at', 'attempts']))
  })

  test('refuses duplicate subscription_id rows, lists them, and deletes nothing', async () => {
    const db = await seedDatabase()
    const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
    const sub = rows[0]!.id
    await db.pool.query(`INSERT INTO subscription_processing (subscription_id) VALUES ($1), ($1)`, [sub])
    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as Error).message).toContain(sub)
    expect((error as Error).message).toMatch(/No row was changed/)
    const { rows: count } = await db.pool.query(`SELECT count(*)::int AS n FROM subscription_processing`)
    expect(count[0].n).toBe(2)
  })

  test('fails with an error naming the missing host subscriptions table', async () => {
    const db = await createEmptyDatabase()
    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as Error).message).toMatch(/`subscriptions` does not exist/)
  })

  test('is safe when many instances start at once, and idempotent afterwards', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await Promise.all(Array.from({ length: 5 }, () => migrate(db.pool)))
    await migrate(db.pool)
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.__drizzle_migrations`)
    // Each shipped migration applied exactly once.
    expect(rows[0].n).toBe(journal.entries.length)
  })
})
