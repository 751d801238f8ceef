import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/node-postgres'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import { migrate } from '../src/db/migrate.js'
import { ConfigurationError, MigrationError, NotMigratedError } from '../src/errors.js'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createEmptyDatabase, ownPool } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL, SEED_PROCESSING_DDL } from './support/host-schema.js'

const DRIZZLE_FOLDER = fileURLToPath(new URL('../drizzle', import.meta.url))
const journal = JSON.parse(readFileSync(join(DRIZZLE_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] }
const JOURNAL_TABLE = 'subscription_scheduler.__drizzle_migrations'

const scratch = mkdtempSync(join(tmpdir(), 'pss-migrate-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** The journal as drizzle-orm compares it: hash and timestamp, in the order applied. */
async function journalRows(db: TestDatabase): Promise<{ hash: string; created_at: string }[]> {
  return (await db.pool.query(`SELECT hash, created_at::text FROM ${JOURNAL_TABLE} ORDER BY id`)).rows
}

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
    // Says it adopted the table, once: a second call has nothing to adopt.
    expect(await migrate(db.pool)).toMatchObject({ adopted: true, applied: expect.arrayContaining([expect.stringMatching(/^0000_/)]) })
    expect(await migrate(db.pool)).toMatchObject({ adopted: false, applied: [], restored: [], tookMs: 0 })
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

  test('refuses rows in no status the scheduler knows (NULL, or a word of the host\'s own), lists them, and changes nothing', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    // The MVP's table as some hosts made it: status nullable.
    await db.pool.query(SEED_PROCESSING_DDL.replace(/status VARCHAR\(50\) NOT NULL/, 'status VARCHAR(50)'))
    const { rows: subs } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), 'daily' FROM generate_series(1, 3) RETURNING id`)
    await db.pool.query(`INSERT INTO subscription_processing (subscription_id, status) VALUES ($1, NULL), ($2, 'done'), ($3, 'pending')`, subs.map((s) => s.id))
    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    const message = (error as Error).message
    expect(message).toMatch(/rows in no status the scheduler knows .* No row was changed\. Give them one \(UPDATE subscription_processing SET status = 'pending'/s)
    expect(message).toContain(`subscription_id ${subs[0]!.id}, status NULL`)
    expect(message).toContain(`subscription_id ${subs[1]!.id}, status "done"`)
    expect(message).not.toContain(subs[2]!.id)
    const { rows } = await db.pool.query(`SELECT to_regclass('subscription_scheduler.runs')::text AS runs`)
    expect(rows[0]).toEqual({ runs: null })
    // Given a status, the table is adopted.
    await db.pool.query(`UPDATE subscription_processing SET status = 'pending' WHERE status IS NULL OR status = 'done'`)
    expect(await migrate(db.pool)).toMatchObject({ adopted: true })
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

  test('every problem in the way is listed at once, each with its fix: one round of fixes, not one migrate() per problem', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await db.pool.query(SEED_PROCESSING_DDL.replaceAll('TIMESTAMP WITH TIME ZONE', 'TIMESTAMP'))
    const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
    await db.pool.query(`INSERT INTO subscription_processing (subscription_id) VALUES ($1), ($1)`, [rows[0]!.id])
    await db.pool.query(`INSERT INTO subscription_processing (subscription_id, status) VALUES ($1, 'archived')`, [rows[0]!.id])
    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    const message = (error as Error).message
    expect(message).toMatch(/^3 problems keep subscription_processing from being migrated, each with its fix below; no row was changed\. Fix them all, then run migrate again\.\n\n1\. /)
    expect(message).toMatch(/\n\n1\. subscription_processing keeps next_run_at, last_run_at, created_at, updated_at as timestamp without time zone/)
    expect(message).toMatch(new RegExp(`\\n\\n2\\. subscription_processing holds more than one row for the same subscription_id[^]*subscription_id ${rows[0]!.id}: rows `))
    expect(message).toMatch(/\n\n3\. subscription_processing has rows in no status the scheduler knows[^]*status "archived"/)
    // The same problems as data, for a deploy script that reports them one by one.
    const { problems } = error as MigrationError
    expect(problems).toHaveLength(3)
    expect(problems).toEqual([
      expect.stringMatching(/^subscription_processing keeps next_run_at, last_run_at, created_at, updated_at as timestamp without time zone/),
      expect.stringMatching(/^subscription_processing holds more than one row for the same subscription_id/),
      expect.stringMatching(/^subscription_processing has rows in no status the scheduler knows[^]*status "archived"$/),
    ])
    const { rows: count } = await db.pool.query(`SELECT count(*)::int AS n FROM subscription_processing`)
    expect(count[0].n).toBe(3)
  })

  describe('an MVP table whose foreign key to subscriptions differs from the design\'s', () => {
    /** The MVP DDL with its `REFERENCES subscriptions(id) ON DELETE CASCADE` changed to `references`. */
    async function variant(references: string) {
      const db = await createEmptyDatabase()
      await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
      await db.pool.query(SEED_PROCESSING_DDL.replace('REFERENCES subscriptions(id) ON DELETE CASCADE', references))
      return db
    }
    const cascades = async (db: TestDatabase) =>
      (await db.pool.query(`SELECT confdeltype FROM pg_constraint WHERE conrelid = 'subscription_processing'::regclass AND contype = 'f'`)).rows

    test.each([
      { how: 'without ON DELETE CASCADE', references: 'REFERENCES subscriptions(id)' },
      { how: 'with no foreign key at all', references: '' },
    ])('$how: migrate() gives it the cascading foreign key, so a deleted subscription takes its row along', async ({ references }) => {
      const db = await variant(references)
      const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id) SELECT gen_random_uuid() FROM generate_series(1, 3) RETURNING id`)
      await db.pool.query(`INSERT INTO subscription_processing (subscription_id) SELECT unnest($1::uuid[])`, [rows.map((r) => r.id)])
      await migrate(db.pool)
      expect(await cascades(db)).toEqual([{ confdeltype: 'c' }])
      await db.pool.query(`DELETE FROM subscriptions WHERE id = $1`, [rows[0]!.id])
      const { rows: left } = await db.pool.query(`SELECT subscription_id::text AS id FROM subscription_processing ORDER BY 1`)
      expect(left.map((r) => r.id)).toEqual(rows.slice(1).map((r) => r.id).sort())
    })

    test('timestamps without a time zone are named, with how to convert them, and nothing is changed', async () => {
      const db = await createEmptyDatabase()
      await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
      await db.pool.query(SEED_PROCESSING_DDL.replaceAll('TIMESTAMP WITH TIME ZONE', 'TIMESTAMP'))
      const error = await migrate(db.pool).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MigrationError)
      expect((error as Error).message).toMatch(/next_run_at, last_run_at, created_at, updated_at/)
      expect((error as Error).message).toContain('ALTER TABLE subscription_processing ALTER COLUMN next_run_at TYPE timestamptz USING next_run_at AT TIME ZONE')
      expect((error as Error).message).toMatch(/No row was changed/)
      const { rows } = await db.pool.query(`SELECT to_regclass('subscription_scheduler.runs')::text AS runs`)
      expect(rows[0]).toEqual({ runs: null })
    })

    test('rows that name no subscription are listed, and nothing is changed', async () => {
      const db = await variant('')
      const orphan = '00000000-0000-4000-8000-00000000000a'
      await db.pool.query(`INSERT INTO subscription_processing (subscription_id) VALUES ($1)`, [orphan])
      const error = await migrate(db.pool).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MigrationError)
      expect((error as Error).message).toContain(orphan)
      expect((error as Error).message).toMatch(/No row was changed/)
      expect(await cascades(db)).toEqual([])
      const { rows } = await db.pool.query(`SELECT to_regclass('subscription_scheduler.runs')::text AS runs, (SELECT count(*)::int FROM subscription_processing) AS n`)
      expect(rows[0]).toEqual({ runs: null, n: 1 })
    })

    test('a cascading key added NOT VALID is no guarantee: rows that name no subscription are listed; with none, the key is validated where it is', async () => {
      const db = await variant('')
      const orphan = '00000000-0000-4000-8000-00000000000b'
      await db.pool.query(`INSERT INTO subscription_processing (subscription_id) VALUES ($1)`, [orphan])
      // A big table's key is often added so, to skip the long scan; the rows already there are then never checked.
      const addKey = `ALTER TABLE subscription_processing ADD CONSTRAINT hosts_own_fk FOREIGN KEY (subscription_id) REFERENCES subscriptions(id) ON DELETE CASCADE NOT VALID`
      await db.pool.query(addKey)
      const error = await migrate(db.pool).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MigrationError)
      expect((error as Error).message).toContain(orphan)
      expect((error as Error).message).toMatch(/No row was changed/)
      await db.pool.query(`DELETE FROM subscription_processing`)
      const { restored } = await migrate(db.pool)
      expect(restored).toEqual(['Validated the foreign key hosts_own_fk, which was added NOT VALID: the rows already there had never been checked against subscriptions.'])
      const { rows } = await db.pool.query(`SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'subscription_processing'::regclass AND contype = 'f'`)
      expect(rows).toEqual([{ conname: 'hosts_own_fk', convalidated: true }])
      expect((await migrate(db.pool)).restored).toEqual([])
    })
  })

  test('a pg.Client, a connection string or a bad folder is refused before any connection, naming the fix', async () => {
    const db = await createEmptyDatabase()
    const client = new pg.Client({ connectionString: db.url })
    const refused = migrate(client as never)
    await expect(refused).rejects.toBeInstanceOf(ConfigurationError)
    await expect(refused).rejects.toThrow(/`pool`.*expected a pg\.Pool, got an object with query\(\) but not a pool \(a pg\.Client\?\)\. Pass `new pg\.Pool\(/)
    // Never connected, so nothing is left open to keep the process alive.
    expect((client as unknown as { _connected: boolean })._connected).toBe(false)
    await expect(migrate(db.url as never)).rejects.toThrow(/got a string \(a connection string\?\)\. Pass `new pg\.Pool\(\{ connectionString/)
    await expect(migrate(db.pool, { migrationsFolder: 42 as never })).rejects.toThrow(/`migrationsFolder`.*expected the path of a drizzle-kit migrations folder \(a string\).*got 42/)
    const { rows } = await db.pool.query(`SELECT to_regnamespace('subscription_scheduler')::text AS schema`)
    expect(rows[0].schema).toBeNull()
  })

  test('fails with an error naming the missing host subscriptions table', async () => {
    const db = await createEmptyDatabase()
    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as Error).message).toMatch(/`subscriptions` does not exist/)
  })

  test.each([
    ['without an active column', `CREATE TABLE subscriptions (id uuid PRIMARY KEY, user_id uuid, frequency text)`, /lacks the column `active`.*add it: `active boolean NOT NULL DEFAULT true`/s],
    ['without user_id and frequency', `CREATE TABLE subscriptions (id uuid PRIMARY KEY, active boolean)`, /lacks the columns `user_id`, `frequency`/],
    ['with a text id', `CREATE TABLE subscriptions (id text PRIMARY KEY, user_id uuid, frequency text, active boolean)`, /`subscriptions\.id` is text, and the scheduler's rows reference it as uuid: the scheduler needs `id uuid PRIMARY KEY`, or at least a uuid column named id with a unique index of its own \(a key of another type then goes by another name\)/],
    ['with a bigint id', `CREATE TABLE subscriptions (id bigint PRIMARY KEY, user_id uuid, frequency text, active boolean)`, /`subscriptions\.id` is bigint/],
    ['with a text active', `CREATE TABLE subscriptions (id uuid PRIMARY KEY, user_id uuid, frequency text, active text)`, /`subscriptions\.active` is text, not boolean/],
    ['whose id is not unique', `CREATE TABLE subscriptions (id uuid, user_id uuid, frequency text, active boolean)`, /`subscriptions\.id` has no unique index of its own.*UNIQUE \(id\)/s],
    ['as a view', `CREATE TABLE subs (id uuid PRIMARY KEY, user_id uuid, frequency text, active boolean); CREATE VIEW subscriptions AS SELECT * FROM subs`, /`subscriptions` is a view.*a table \(plain or partitioned\)/s],
  ])('refuses a host table %s, naming what to change, and creates nothing', async (_what, ddl, message) => {
    const db = await createEmptyDatabase()
    await db.pool.query(ddl)
    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as Error).message).toMatch(message)
    const { rows } = await db.pool.query(`SELECT to_regclass('subscription_processing')::text AS t, to_regnamespace('subscription_scheduler')::text AS s`)
    expect(rows[0]).toEqual({ t: null, s: null })
  })

  test('a host table whose id is unique but not its primary key, with extra columns and an enum frequency, is fine', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(`
      CREATE TYPE cadence AS ENUM ('daily', 'weekly');
      CREATE TABLE subscriptions (pk bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(), user_id bigint, frequency cadence, active boolean, plan text)`)
    await migrate(db.pool)
    expect((await db.pool.query(`SELECT to_regclass('subscription_processing')::text AS t`)).rows[0]).toEqual({ t: 'subscription_processing' })
  })

  test('a table dropped after its migration (a stray drizzle-kit push) is named, by migrate() and by the scheduler, not passed over', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await migrate(db.pool)
    await db.pool.query('DROP TABLE subscription_processing CASCADE')
    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as Error).message).toMatch(/records the scheduler's migrations as applied, but subscription_processing does not exist/)
    // A scheduler that started before the drop names it on its next run.
    const scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger: captureLogger(), migrate: false, schedule: false })
    await db.pool.query(SEED_PROCESSING_DDL)
    await scheduler.start()
    await db.pool.query('DROP TABLE subscription_processing CASCADE')
    try {
      await expect(scheduler.runNow()).rejects.toThrow(NotMigratedError)
    } finally {
      await scheduler.stop({ timeoutMs: 1000 })
    }
  })

  test("a subscription_processing made from the scheduler's own Drizzle tables (a host's drizzle-kit generate), not by its migrations, is named with where it came from and the fix; nothing is changed", async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await migrate(db.pool)
    // What such a migration leaves: the table as this version has it, and no journal of the scheduler's.
    await db.pool.query('DROP SCHEMA subscription_scheduler CASCADE')
    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as Error).message).toMatch(/failed and was rolled back: .* already exists\. subscription_processing already has what the scheduler's migrations add to it, but their journal is missing: .*a drizzle-kit migration of yours generated from a schema file that lists them .*then drop subscription_processing \(rename it aside first if it holds rows you want\) and migrate again\./s)
    expect((await db.pool.query(`SELECT to_regnamespace('subscription_scheduler')::text AS s`)).rows[0]).toEqual({ s: null })
    // As it says: dropped, migrated again.
    await db.pool.query('DROP TABLE subscription_processing')
    await expect(migrate(db.pool)).resolves.toMatchObject({ adopted: false })
  })

  test('a second installation in another schema of one database (a schema per test file) is told to use a database of its own, not to drop the first one\'s', async () => {
    const db = await createEmptyDatabase()
    const pools: pg.Pool[] = []
    const onPath = (schema: string) => {
      const pool = ownPool(db.url, 2, `-c search_path=${schema}`)
      pools.push(pool)
      return pool
    }
    try {
      for (const schema of ['file_a', 'file_b']) {
        await db.pool.query(`CREATE SCHEMA ${schema}`)
        await onPath(schema).query(HOST_SUBSCRIPTIONS_DDL)
      }
      await migrate(onPath('file_a'))
      const error = await migrate(onPath('file_b')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MigrationError)
      const message = (error as Error).message
      expect(message).toMatch(/subscription_processing is not in a schema of the connection's search_path \(file_b\) but in file_a/)
      expect(message).toMatch(/Another application \(another product, another test file\) needs a database of its own \(for tests, CREATE DATABASE … TEMPLATE/)
      // Pointing it at file_a is the fix for that installation's own application only: a trial's second product took it for its own.
      expect(message).toMatch(/pointed at file_a, it would sweep that installation's subscriptions and call its own worker with them\. Only if this is that installation's application/)
      expect(message).not.toMatch(/it was dropped|drop the schema/)
      // Started with migrate: false, it says the same, not that the table was dropped.
      const scheduler = createSubscriptionScheduler(onPath('file_b'), { workerClient: createFakeWorkerClient(), logger: captureLogger(), migrate: false, schedule: false })
      const notMigrated = await scheduler.start().catch((e: unknown) => e)
      expect(notMigrated).toBeInstanceOf(NotMigratedError)
      expect((notMigrated as Error).message).toMatch(/not in a schema of the connection's search_path \(file_b\) but in file_a/)
      await scheduler.stop({ timeoutMs: 1000 }).catch(() => {})
    } finally {
      await Promise.all(pools.map((p) => p.end()))
    }
  })

  test('a foreign key dropped after the migrations (a drizzle-kit push shown the table) is put back by the next migrate(), and start() says so', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    expect(await migrate(db.pool)).toMatchObject({ restored: [] })
    const foreignKeys = async () => (await db.pool.query<{ conname: string; cascades: boolean }>(
      `SELECT conname, confdeltype = 'c' AS cascades FROM pg_constraint WHERE conrelid = 'subscription_processing'::regclass AND contype = 'f'`,
    )).rows
    const [subscription] = (await db.pool.query<{ id: string }>('INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id', ['daily'])).rows
    await db.pool.query('INSERT INTO subscription_processing (subscription_id) VALUES ($1)', [subscription!.id])

    // What drizzle-kit push prints for a table exported to it.
    await db.pool.query('ALTER TABLE subscription_processing DROP CONSTRAINT subscription_processing_subscription_id_fkey')
    const { restored } = await migrate(db.pool)
    expect(restored).toEqual([expect.stringMatching(/^Restored the foreign key subscription_processing_subscription_id_fkey \(subscription_processing\.subscription_id → subscriptions\.id, ON DELETE CASCADE\): it had been dropped since/)])
    expect(await foreignKeys()).toEqual([{ conname: 'subscription_processing_subscription_id_fkey', cascades: true }])
    // It cascades again: a deleted subscription takes its row along.
    await db.pool.query('DELETE FROM subscriptions WHERE id = $1', [subscription!.id])
    expect((await db.pool.query('SELECT 1 FROM subscription_processing')).rowCount).toBe(0)

    // One that does not cascade is replaced; start() warns with what it did.
    await db.pool.query('ALTER TABLE subscription_processing DROP CONSTRAINT subscription_processing_subscription_id_fkey')
    await db.pool.query('ALTER TABLE subscription_processing ADD CONSTRAINT hosts_own_fk FOREIGN KEY (subscription_id) REFERENCES subscriptions(id)')
    const logger = captureLogger()
    const scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger, schedule: false })
    await scheduler.start()
    await scheduler.stop({ timeoutMs: 1000 })
    expect(logger.messages('warn').filter((m) => m.includes('the foreign key'))).toEqual([
      'Replaced the foreign key hosts_own_fk, which did not delete along (a deleted subscription would have kept its row, or failed to delete), with subscription_processing_subscription_id_fkey (subscription_processing.subscription_id → subscriptions.id, ON DELETE CASCADE).',
    ])
    expect(await foreignKeys()).toEqual([{ conname: 'subscription_processing_subscription_id_fkey', cascades: true }])

    // Rows that name no subscription, left while it was gone, are named first, and the fix the error gives works.
    await db.pool.query('ALTER TABLE subscription_processing DROP CONSTRAINT subscription_processing_subscription_id_fkey')
    await db.pool.query('INSERT INTO subscription_processing (subscription_id) VALUES (gen_random_uuid())')
    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    const fix = /\((DELETE FROM subscription_processing sp WHERE NOT EXISTS \(SELECT 1 FROM subscriptions s WHERE s\.id = sp\.subscription_id\))\)/.exec((error as Error).message)
    expect(fix).not.toBeNull()
    await db.pool.query(fix![1]!)
    expect((await migrate(db.pool)).restored).toHaveLength(1)
    expect(await foreignKeys()).toEqual([{ conname: 'subscription_processing_subscription_id_fkey', cascades: true }])

    // With migrate: false nothing puts it back: start() says so, and what to run.
    await db.pool.query('ALTER TABLE subscription_processing DROP CONSTRAINT subscription_processing_subscription_id_fkey')
    const unmigrating = captureLogger()
    const steady = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger: unmigrating, schedule: false, migrate: false })
    await steady.start()
    await steady.stop({ timeoutMs: 1000 })
    expect(unmigrating.messages('warn').filter((m) => m.includes('no validated foreign key to subscriptions'))).toEqual([
      expect.stringContaining("Run migrate (pg-subscription-scheduler migrate, as the tables' owner): it puts the key back."),
    ])
    expect(await foreignKeys()).toEqual([])
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

  test("writes the same journal rows as drizzle-orm's own migrator, and each sees the other's as applied", async () => {
    const [ours, theirs] = await Promise.all([createEmptyDatabase(), createEmptyDatabase()])
    await Promise.all([ours, theirs].map((db) => db.pool.query(HOST_SUBSCRIPTIONS_DDL)))
    await migrate(ours.pool)
    // What `drizzle-kit migrate` does, pointed at the library's folder and journal.
    await drizzleMigrate(drizzle(theirs.pool), { migrationsFolder: DRIZZLE_FOLDER, migrationsSchema: 'subscription_scheduler' })
    const expected = readMigrationFiles({ migrationsFolder: DRIZZLE_FOLDER }).map((m) => ({ hash: m.hash, created_at: String(m.folderMillis) }))
    expect(await journalRows(ours)).toEqual(expected)
    expect(await journalRows(theirs)).toEqual(expected)
    // Neither applies anything again on the other's database.
    await migrate(theirs.pool)
    await drizzleMigrate(drizzle(ours.pool), { migrationsFolder: DRIZZLE_FOLDER, migrationsSchema: 'subscription_scheduler' })
    expect(await journalRows(ours)).toEqual(expected)
    expect(await journalRows(theirs)).toEqual(expected)
  })

  test('applies a custom migrationsFolder from its own files: only what is newer than the journal', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await migrate(db.pool)
    // The library's folder plus one migration of the host's, as drizzle-kit would write it.
    const folder = join(scratch, 'custom')
    cpSync(DRIZZLE_FOLDER, folder, { recursive: true })
    const custom = JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8')) as { entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[] }
    const when = Math.max(...custom.entries.map((e) => e.when)) + 1
    custom.entries.push({ idx: custom.entries.length, version: '7', when, tag: '9999_extra', breakpoints: true })
    writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify(custom, null, 2))
    writeFileSync(join(folder, '9999_extra.sql'), 'CREATE TABLE extra_a (id int);\n--> statement-breakpoint\nCREATE TABLE extra_b (id int);\n')

    await migrate(db.pool, { migrationsFolder: folder })
    const { rows } = await db.pool.query(`SELECT to_regclass('extra_a')::text AS a, to_regclass('extra_b')::text AS b`)
    expect(rows[0]).toEqual({ a: 'extra_a', b: 'extra_b' })
    const last = readMigrationFiles({ migrationsFolder: folder }).at(-1)!
    expect((await journalRows(db)).at(-1)).toEqual({ hash: last.hash, created_at: String(when) })
    expect(await journalRows(db)).toHaveLength(journal.entries.length + 1)
  })

  test('upgrading to anchor_given: a row never run keeps an anchor its host gave (not taken from its start) as given; others are not', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    // The database as the version before migration 0021 left it.
    const before = join(scratch, 'before-anchor-given')
    cpSync(DRIZZLE_FOLDER, before, { recursive: true })
    const older = JSON.parse(readFileSync(join(before, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] }
    older.entries = older.entries.filter((e) => e.tag < '0021')
    writeFileSync(join(before, 'meta/_journal.json'), JSON.stringify(older, null, 2))
    await migrate(db.pool, { migrationsFolder: before })
    const { rows: ids } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), 'weekly' FROM generate_series(1, 4) RETURNING id`)
    const [given, fromStart, ran, none] = ids.map((r) => r.id)
    await db.pool.query(
      `INSERT INTO subscription_processing (subscription_id, anchor_at, starts_at, last_run_at) VALUES
         ($1, '2027-03-02T09:00Z', '2027-03-03T00:00Z', NULL), ($2, '2027-03-03T00:00Z', '2027-03-03T00:00Z', NULL),
         ($3, '2027-03-02T09:00Z', NULL, '2027-03-02T09:00Z'), ($4, NULL, NULL, NULL)`,
      [given, fromStart, ran, none],
    )
    await migrate(db.pool)
    const { rows } = await db.pool.query(`SELECT subscription_id::text AS id, anchor_given FROM subscription_processing`)
    expect(Object.fromEntries(rows.map((r) => [r.id, r.anchor_given]))).toEqual({ [given!]: true, [fromStart!]: false, [ran!]: false, [none!]: false })
  })

  test("a migration that fails is rolled back, and its MigrationError carries Postgres's detail", async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    const folder = join(scratch, 'failing')
    cpSync(DRIZZLE_FOLDER, folder, { recursive: true })
    const custom = JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8')) as { entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[] }
    custom.entries.push({ idx: custom.entries.length, version: '7', when: Math.max(...custom.entries.map((e) => e.when)) + 1, tag: '9999_bad', breakpoints: true })
    writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify(custom, null, 2))
    writeFileSync(join(folder, '9999_bad.sql'), 'CREATE TABLE bad_ref (subscription_id text REFERENCES subscriptions(id));\n')

    const error = await migrate(db.pool, { migrationsFolder: folder }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    // The detail, as PostgreSQL 15 and 18 word it: the columns and their types.
    expect((error as Error).message).toMatch(/failed and was rolled back: .*cannot be implemented Key columns "subscription_id" .*"id" .*incompatible types: text and uuid/)
    expect((await db.pool.query(`SELECT to_regclass('subscription_processing')::text AS t`)).rows[0]).toEqual({ t: null })
  })

  test("a database another build migrated, whose migration was rewritten before release, fails naming the migration this version does not have", async () => {
    // A build between releases had 0013 add one column; the released 0013 adds it and more, and
    // bears a later timestamp. An upgrade from that build failed with only "already exists".
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    const folder = join(scratch, 'prerelease')
    cpSync(DRIZZLE_FOLDER, folder, { recursive: true })
    const built = JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8')) as { entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[] }
    const released = built.entries.findIndex((e) => e.tag.startsWith('0013_'))
    const { when, tag: releasedTag } = built.entries[released]!
    built.entries.splice(released, built.entries.length, { idx: released, version: '7', when: when - 60_000, tag: '0013_prerelease', breakpoints: true })
    writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify(built, null, 2))
    writeFileSync(join(folder, '0013_prerelease.sql'), 'ALTER TABLE "subscription_scheduler"."call_rates" ADD COLUMN "per_second" double precision;\n')
    await migrate(db.pool, { migrationsFolder: folder })
    const before = await journalRows(db)

    const error = await migrate(db.pool).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    const message = (error as Error).message
    expect(message).toMatch(/failed and was rolled back: column "per_second" of relation "call_rates" already exists/)
    expect(message).toContain(`one this version does not have, applied between 0012_instances and ${releasedTag} (created_at ${when - 60_000})`)
    expect(message).toMatch(/Another build of pg-subscription-scheduler, whose migrations differ from this one's .* migrated this database/)
    expect(await journalRows(db)).toEqual(before)
  })

  test('a migrationsFolder without a journal is a MigrationError naming it, and the database is untouched', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    const missing = join(scratch, 'no-such-folder')
    const error = await migrate(db.pool, { migrationsFolder: missing }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as Error).message).toContain(join(missing, 'meta', '_journal.json'))
    const { rows } = await db.pool.query(`SELECT to_regclass('${JOURNAL_TABLE}')::text AS journal`)
    expect(rows[0].journal).toBeNull()
  })
})
