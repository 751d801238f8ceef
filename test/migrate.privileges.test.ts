/**
 * Least privilege: the owner migrates (the CLI's `migrate`, as a deploy step), and the
 * application connects as a role with only the grants the README's "Database privileges" section
 * lists. That role starts the scheduler with the default `migrate: true` (nothing is pending, so
 * nothing needs CREATE) and runs it. A role missing a privilege gets an error that names it and
 * the fix, not a raw `permission denied`.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler, migrate, MigrationError } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { runCli } from './support/cli-process.js'
import { createEmptyDatabase, ownPool } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL } from './support/host-schema.js'
import { runtimeGrants, urlAs as urlOf } from './support/roles.js'
import { seedSubscriptions } from './support/seed.js'

/** Roles belong to the server, not the database: each run makes its own, and drops them. */
const suffix = randomBytes(4).toString('hex')
const APP = `pss_app_${suffix}`
const BARE = `pss_bare_${suffix}`
const TOKEN = 'privileges-test-token-0123456789abcdef'
let db: TestDatabase

function urlAs(role: string, on = db): string {
  return urlOf(on.url, role, 'app-password')
}

/** A database of its own, migrated by the owner (tables and pg-boss), with `grants` given to the application's role. */
async function ownerMigrated(grants: string[] = runtimeGrants(BARE)): Promise<TestDatabase> {
  const own = await createEmptyDatabase()
  await own.pool.query(HOST_SUBSCRIPTIONS_DDL)
  await migrate(own.pool, { bossSchema: 'pgboss' })
  for (const grant of grants) await own.pool.query(grant)
  return own
}

beforeAll(async () => {
  db = await createEmptyDatabase()
  await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
  for (const role of [APP, BARE]) await db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'app-password'`)
  // Neither may create anything in the database (PostgreSQL 15 and later give PUBLIC no CREATE on public).
  await db.pool.query(`REVOKE CREATE ON DATABASE ${db.name} FROM PUBLIC`)
  await db.pool.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`)
})

afterAll(async () => {
  await db.pool.query(`DROP OWNED BY ${APP}, ${BARE}`).catch(() => {})
  await db.pool.query(`DROP ROLE IF EXISTS ${APP}`).catch(() => {})
  await db.pool.query(`DROP ROLE IF EXISTS ${BARE}`).catch(() => {})
})

describe('a role that may not create', () => {
  test("migrating as it is refused naming the user, the database and the fix; the owner's `migrate` (tables and pg-boss) then lets it start and run with the default migrate: true", async () => {
    const app = ownPool(urlAs(APP), 5)
    try {
      const refused = migrate(app)
      await expect(refused).rejects.toBeInstanceOf(MigrationError)
      await expect(refused).rejects.toThrow(new RegExp(`the database user "${APP}" may not do what migrating needs here \\(permission denied for database ${db.name}\\)\\. Run the migrations as the owner of the database.*migrate: false.*Or let this user create: GRANT CREATE ON DATABASE`, 's'))

      // The deploy step, as the owner: the scheduler's tables and pg-boss's schema.
      const cli = await runCli(['migrate'], { DATABASE_URL: db.url })
      expect(cli.code, cli.stderr).toBe(0)
      for (const grant of runtimeGrants(APP)) await db.pool.query(grant)

      const ids = await seedSubscriptions(db.pool, { count: 5 })
      const worker = createFakeWorkerClient()
      const s = createSubscriptionScheduler(app, { workerClient: worker, pollingIntervalSeconds: 0.5 })
      await s.start()
      try {
        expect(await s.runNow()).toMatchObject({ processed: 5, successful: 5 })
        expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
        // The host's own delete, by this user: the row goes along, with no DELETE granted on it.
        await db.pool.query(`GRANT DELETE ON subscriptions TO ${APP}`)
        await app.query(`DELETE FROM subscriptions WHERE id = $1`, [ids[0]])
        const { rows: left } = await db.pool.query(`SELECT 1 FROM subscription_processing WHERE subscription_id = $1`, [ids[0]])
        expect(left).toEqual([])
      } finally {
        await s.stop({ timeoutMs: 5000 })
      }

      // A migration left to apply (an upgrade) alters the owner's tables: the fix is the owner's
      // migrate, not CREATE on the database, which would not give this user those tables.
      const journal = 'subscription_scheduler.__drizzle_migrations'
      // The last one alters the owner's table (a migration that creates a table is refused for
      // want of CREATE on the schema instead: not the case under test).
      const { rows: last } = await db.pool.query(`DELETE FROM ${journal} WHERE id IN (SELECT id FROM ${journal} ORDER BY id DESC LIMIT 1) RETURNING hash, created_at`)
      try {
        const upgrade = await migrate(app).catch((error: Error) => error)
        expect(upgrade).toBeInstanceOf(MigrationError)
        expect((upgrade as Error).message).toMatch(/\(must be owner of (table|relation|index) \w+\)\. Run the migrations as the owner of the database and of the scheduler's tables/)
        expect((upgrade as Error).message).not.toContain('GRANT CREATE')
        // Named, for the DBA who decides whether to run it.
        expect((upgrade as Error).message).toMatch(/^Migrating the scheduler's tables \(applying \d{4}_\w+\) failed: /)
      } finally {
        for (const entry of last.sort((x, y) => Number(x.created_at) - Number(y.created_at))) {
          await db.pool.query(`INSERT INTO ${journal} (hash, created_at) VALUES ($1, $2)`, [entry.hash, entry.created_at])
        }
      }
    } finally {
      await app.end()
    }
  })

  test("a role with no grant, started on a database not migrated yet, is told to have the owner migrate first, then what to grant", async () => {
    // A trial's first error asked only for the grants on the host's tables; its second, after
    // those, for the owner's migrate.
    const fresh = await createEmptyDatabase()
    await fresh.pool.query(HOST_SUBSCRIPTIONS_DDL)
    const app = ownPool(urlAs(BARE, fresh), 2)
    try {
      const refused = createSubscriptionScheduler(app, { workerClient: createFakeWorkerClient() }).start()
      await expect(refused).rejects.toBeInstanceOf(MigrationError)
      await expect(refused).rejects.toThrow(new RegExp(`^The database user ${BARE} lacks 1 privilege .*\\n {2}GRANT SELECT ON subscriptions TO ${BARE};\\nThe scheduler's tables are not in this database yet, and this user may not create them: run the migrations as the owner first \\(pg-subscription-scheduler migrate\\), then grant the README's list`, 's'))
    } finally {
      await app.end()
    }
  })

  test("a role started where the owner migrated the tables but not pg-boss's schema is told to install that first: the README's grants name it, and fail until it exists", async () => {
    const fresh = await createEmptyDatabase()
    await fresh.pool.query(HOST_SUBSCRIPTIONS_DDL)
    await migrate(fresh.pool) // the owner's, without bossSchema: the scheduler's tables only
    // What of the README's grants runs without pg-boss's schema: those that do not name it.
    for (const grant of runtimeGrants(BARE).filter((g) => !g.includes('pgboss'))) await fresh.pool.query(grant)
    const app = ownPool(urlAs(BARE, fresh), 2)
    try {
      const refused = createSubscriptionScheduler(app, { workerClient: createFakeWorkerClient() }).start()
      await expect(refused).rejects.toBeInstanceOf(MigrationError)
      await expect(refused).rejects.toThrow(new RegExp(`^pg-boss's schema pgboss is not in this database yet, and this user may not create it: install it first, as the owner \\(pg-subscription-scheduler migrate, or migrate\\(pool, \\{ bossSchema: 'pgboss' \\}\\); .*The README's grants name that schema, and fail as a whole until it exists\\. Then: The database user ${BARE} lacks \\d+ privileges`, 's'))
    } finally {
      await app.end()
    }
  })

  test('a role missing one of the grants is refused at start(), not at its first sweep or settle, with the GRANTs it lacks', async () => {
    await migrate(db.pool)
    for (const grant of runtimeGrants(BARE)) await db.pool.query(grant)
    await db.pool.query(`REVOKE USAGE, SELECT ON ALL SEQUENCES IN SCHEMA subscription_scheduler FROM ${BARE}`)
    await db.pool.query(`REVOKE SELECT ON subscriptions FROM ${BARE}`)
    // A schema's USAGE is named too, with the rest: it does not stop the check before it lists them.
    await db.pool.query(`REVOKE USAGE ON SCHEMA pgboss FROM ${BARE}`)
    // The journal is only read at run time: its writes and its sequence are not asked for.
    await db.pool.query(`REVOKE INSERT, UPDATE, DELETE ON subscription_scheduler.__drizzle_migrations FROM ${BARE}`)
    const bare = ownPool(urlAs(BARE), 5)
    try {
      for (const migrateOption of [true, false]) {
        const s = createSubscriptionScheduler(bare, { workerClient: createFakeWorkerClient(), migrate: migrateOption })
        const refused = s.start()
        await expect(refused).rejects.toBeInstanceOf(MigrationError)
        const message = await refused.catch((error: Error) => error.message)
        expect(message).toMatch(new RegExp(`^The database user "?${BARE}"? lacks \\d+ privileges a running scheduler needs`))
        expect(message).toContain(`GRANT USAGE, SELECT ON SEQUENCE subscription_scheduler.history_id_seq TO ${BARE};`)
        expect(message).toContain(`GRANT SELECT ON subscriptions TO ${BARE};`)
        expect(message).toContain(`GRANT USAGE ON SCHEMA pgboss TO ${BARE};`)
        expect(message).not.toMatch(/subscription_processing|__drizzle_migrations/)
        expect(s.health().state).toBe('stopped')
      }
    } finally {
      await bare.end()
      await db.pool.query(`REVOKE ALL ON ALL TABLES IN SCHEMA subscription_scheduler, pgboss FROM ${BARE}`)
      await db.pool.query(`REVOKE ALL ON subscription_processing FROM ${BARE}`)
      await db.pool.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA subscription_scheduler, pgboss FROM ${BARE}`)
      await db.pool.query(`REVOKE USAGE ON SCHEMA subscription_scheduler, pgboss FROM ${BARE}`)
    }
  })

  test("a pg-boss schema of its own (bossSchema) that this role may not create: the error names the CLI's migrate with SUBSCRIPTION_BOSS_SCHEMA, which then installs it", async () => {
    await migrate(db.pool)
    const schema = `jobs_${suffix}`
    for (const grant of runtimeGrants(APP)) await db.pool.query(grant)
    const app = ownPool(urlAs(APP), 5)
    try {
      const options = { workerClient: createFakeWorkerClient(), bossSchema: schema, migrate: false, pollingIntervalSeconds: 0.5 }
      const refused = await createSubscriptionScheduler(app, options).start().catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(MigrationError)
      expect((refused as Error).message).toMatch(new RegExp(
        `^Installing pg-boss's schema "${schema}" failed: the database user "${APP}" may not create it \\(permission denied for database ${db.name}\\)\\. ` +
          `Install it as the owner of the database: \`SUBSCRIPTION_BOSS_SCHEMA=${schema} pg-subscription-scheduler migrate\` as a deploy step, ` +
          `or migrate\\(pool, \\{ bossSchema: '${schema}' \\}\\) on a pool of the owner`,
      ))
      // What it says, as the owner: then this role, granted that schema, starts.
      const cli = await runCli(['migrate'], { DATABASE_URL: db.url, SUBSCRIPTION_BOSS_SCHEMA: schema })
      expect(cli.code, cli.stderr).toBe(0)
      expect(cli.stdout).toContain(`pg-boss's schema (${schema}) is ready`)
      for (const grant of runtimeGrants(APP)) await db.pool.query(grant.replaceAll('pgboss', schema))
      const s = createSubscriptionScheduler(app, options)
      await s.start()
      await s.stop({ timeoutMs: 2000 })
    } finally {
      await app.end()
    }
  })

  test("migrate(pool, { bossSchema }) as the owner installs pg-boss's schema too, as the CLI's migrate does: a bundle with no CLI, then this role starts", async () => {
    const schema = `bundled_${suffix}`
    await migrate(db.pool, { bossSchema: schema })
    const { rows } = await db.pool.query<{ name: string | null }>(`SELECT to_regclass($1) AS name`, [`${schema}.version`])
    expect(rows[0]?.name).not.toBeNull()
    for (const grant of runtimeGrants(APP)) await db.pool.query(grant.replaceAll('pgboss', schema))
    const app = ownPool(urlAs(APP), 5)
    try {
      const s = createSubscriptionScheduler(app, { workerClient: createFakeWorkerClient(), bossSchema: schema, migrate: false, pollingIntervalSeconds: 0.5 })
      await s.start()
      await s.stop({ timeoutMs: 2000 })
    } finally {
      await app.end()
    }
    await expect(migrate(db.pool, { bossSchema: 'pg_boss' })).rejects.toThrow(/Invalid option `bossSchema`: "pg_boss" is reserved by Postgres/)
  })

  test('a role without the runtime grants, started with migrate: false, is told which grants it lacks', async () => {
    await migrate(db.pool) // by the owner: what the role lacks is its grants, not the tables
    const bare = ownPool(urlAs(BARE), 5)
    try {
      const s = createSubscriptionScheduler(bare, { workerClient: createFakeWorkerClient(), migrate: false })
      const refused = s.start()
      await expect(refused).rejects.toBeInstanceOf(MigrationError)
      await expect(refused).rejects.toThrow(new RegExp(`^The database user ${BARE} lacks \\d+ privileges a running scheduler needs.*README's "Database privileges".*GRANT USAGE ON SCHEMA subscription_scheduler TO ${BARE};.*GRANT SELECT, INSERT, UPDATE ON subscription_processing TO ${BARE};`, 's'))
    } finally {
      await bare.end()
    }
  })
})

describe('a second application on a database another one has installed, under roles of their own', () => {
  test('its migrate and its start are told the database holds another installation and to use one of its own, not to be granted the other one\'s tables', async () => {
    // A trial's DBA met a bare "permission denied for schema subscription_scheduler", then a list
    // of grants on the first application's run history and failures.
    const shared = await createEmptyDatabase()
    for (const [role, schema] of [[APP, 'first_app'], [BARE, 'second_app']] as const) {
      await shared.pool.query(`GRANT CREATE ON DATABASE ${shared.name} TO ${role}`)
      await shared.pool.query(`CREATE SCHEMA ${schema} AUTHORIZATION ${role}`)
      await shared.pool.query(`ALTER ROLE ${role} IN DATABASE ${shared.name} SET search_path = ${schema}`)
    }
    const first = ownPool(urlAs(APP, shared), 2)
    const second = ownPool(urlAs(BARE, shared), 2)
    try {
      await first.query(HOST_SUBSCRIPTIONS_DDL)
      await migrate(first, { bossSchema: 'first_jobs' })
      await second.query(HOST_SUBSCRIPTIONS_DDL)
      const another = new RegExp(`^This database holds another installation of the scheduler: its schema subscription_scheduler belongs to the role "${APP}", which the database user "${BARE}" may not use.*give this application a database of its own`, 's')
      const migrating = migrate(second, { bossSchema: 'second_jobs' })
      await expect(migrating).rejects.toBeInstanceOf(MigrationError)
      await expect(migrating).rejects.toThrow(another)
      for (const migrateOption of [true, false]) {
        const started = createSubscriptionScheduler(second, { workerClient: createFakeWorkerClient(), bossSchema: 'second_jobs', queuePrefix: 'second', migrate: migrateOption }).start()
        await expect(started).rejects.toThrow(another)
      }
    } finally {
      await Promise.all([first.end(), second.end()])
      await shared.pool.query(`DROP SCHEMA first_app, second_app, subscription_scheduler, first_jobs CASCADE`)
    }
  })
})

describe('a grant revoked after start()', () => {
  test("the admin API answers 500 DATABASE_PRIVILEGE and logs the refusal with the fix; the CLI's error carries the hint", async () => {
    // A trial's DBA revoked a grant while the application ran: 500 INTERNAL, and a stack trace.
    const own = await ownerMigrated()
    const [id] = await seedSubscriptions(own.pool, { count: 1 })
    await own.pool.query(`REVOKE SELECT ON subscription_scheduler.history FROM ${BARE}`)
    const app = ownPool(urlAs(BARE, own), 2)
    const logger = captureLogger()
    try {
      const handler = createAdminHandler(createSubscriptionScheduler(app, { workerClient: createFakeWorkerClient(), logger, migrate: false }), { authorize: bearerToken(TOKEN), logger })
      const response = await handler.fetch(new Request(`http://admin.test/subscriptions/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } }))
      expect(response.status).toBe(500)
      expect(await response.json()).toEqual({ error: { code: 'DATABASE_PRIVILEGE', message: 'The database user lacks a privilege this request needs; the server log names it.' } })
      expect(logger.messages('error')).toEqual([`Admin request failed: the database user lacks a privilege (permission denied for table history): grant it what the README's "Database privileges" section lists.`])

      const shown = await runCli(['show', id!], { DATABASE_URL: urlAs(BARE, own) })
      expect(shown.code).toBe(1)
      expect(shown.stderr).toContain('permission denied for table history')
      expect(shown.stderr).toContain(`hint: the database user lacks a privilege: grant it what the README's "Database privileges" section lists, then run the command again.`)
    } finally {
      await app.end()
    }
  })
})

describe('a database whose CONNECT was revoked from PUBLIC', () => {
  test('a role with every grant but CONNECT is told to be granted CONNECT, not table privileges', async () => {
    // A trial's hardened database: the error asked for table grants, naming pgboss for a bossSchema of its own.
    const own = await ownerMigrated()
    await own.pool.query(`REVOKE CONNECT ON DATABASE ${own.name} FROM PUBLIC`)
    const app = ownPool(urlAs(BARE, own), 2)
    try {
      const refused = createSubscriptionScheduler(app, { workerClient: createFakeWorkerClient(), migrate: false }).start()
      await expect(refused).rejects.toBeInstanceOf(MigrationError)
      await expect(refused).rejects.toThrow(`may not connect to the database "${own.name}" (permission denied for database "${own.name}"): CONNECT on it was revoked from PUBLIC, and not granted to this user. As its owner: GRANT CONNECT ON DATABASE "${own.name}" TO <this user>`)
    } finally {
      await app.end()
    }
  })
})

describe("the host's table read through column grants", () => {
  test('a role given SELECT only on the columns the scheduler reads (its others hide a card token) starts, enrols, runs, and answers reads and controls', async () => {
    // A trial's DBA hid a column from the application: start() asked for SELECT on the whole table.
    const own = await ownerMigrated(runtimeGrants(BARE).filter((g) => !g.startsWith('GRANT SELECT ON subscriptions')))
    await own.pool.query(`ALTER TABLE subscriptions ADD COLUMN card_token text`)
    await own.pool.query(`GRANT SELECT (id, user_id, frequency, active) ON subscriptions TO ${BARE}`)
    const ids = await seedSubscriptions(own.pool, { count: 4 })
    const app = ownPool(urlAs(BARE, own), 5)
    const worker = createFakeWorkerClient()
    const s = createSubscriptionScheduler(app, { workerClient: worker, pollingIntervalSeconds: 0.5 })
    try {
      await s.start()
      expect(await s.runNow()).toMatchObject({ processed: 4, successful: 4 })
      expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
      await expect(app.query('SELECT card_token FROM subscriptions')).rejects.toThrow(/permission denied/)
      expect((await s.getStatus()).counts.completed).toBe(4)
      expect(await s.listSubscriptions({ userId: worker.calls[0]!.userId })).toHaveLength(1)
      await s.pause(ids[0]!)
      await s.resume(ids[0]!)
      expect(await s.runSubscription(ids[1]!)).toMatchObject({ processed: 1, successful: 1 })
      const { rows: [added] } = await own.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, card_token) VALUES (gen_random_uuid(), 'tok_secret') RETURNING id`)
      expect(await s.enrollMissing()).toBe(1)
      expect((await s.getSubscription(added!.id)).status).toBe('pending')
    } finally {
      await s.stop({ timeoutMs: 5000 })
      await app.end()
    }
  })
})

describe("the host's tables in a schema of their own", () => {
  test("a role not given USAGE on that schema is told that GRANT, not that the table does not exist; a search_path that leaves the schema out is told to put it there", async () => {
    const other = await createEmptyDatabase()
    const owner = await other.pool.connect()
    try {
      await owner.query('CREATE SCHEMA app')
      await owner.query('SET search_path = app')
      await owner.query(HOST_SUBSCRIPTIONS_DDL)
    } finally {
      owner.release(true)
    }
    // The owner's connections keep the default search_path ("$user", public).
    await expect(migrate(other.pool)).rejects.toThrow(/The host table `subscriptions` does not exist.*there is one in the schema app, which is not on the connection's search_path \("\$user", public\): put it there \(ALTER ROLE/s)

    await other.pool.query(`ALTER ROLE ${BARE} IN DATABASE ${other.name} SET search_path = app`)
    const bare = ownPool(urlAs(BARE, other), 2)
    try {
      const grant = new RegExp(`there is one in the schema app, which the user ${BARE} may not use: as its owner, GRANT USAGE ON SCHEMA app TO ${BARE} \\(and GRANT SELECT ON app\\.subscriptions TO ${BARE}\\)`)
      await expect(migrate(bare)).rejects.toThrow(grant)
      // Started with migrate: false (the owner migrates), the same answer.
      const s = createSubscriptionScheduler(bare, { workerClient: createFakeWorkerClient(), migrate: false })
      await expect(s.start()).rejects.toThrow(grant)
    } finally {
      await bare.end()
    }
  })
})
