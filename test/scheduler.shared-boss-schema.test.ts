/**
 * A host app that already runs pg-boss in the same database, in pg-boss's default schema, which
 * is the scheduler's default too. Sharing it at the same schema version works; an upgrade of
 * that app's schema at the scheduler's start is refused, with the ways out.
 */
import pg from 'pg'
import { getRollbackPlans, PgBoss } from 'pg-boss'
import { afterEach, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler, MigrationError } from '../src/index.js'
import type { SchedulerOptions } from '../src/index.js'
import { bossSchemaVersion } from '../src/runtime/shared-boss-schema.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createEmptyDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { runCli } from './support/cli-process.js'
import { HOST_SUBSCRIPTIONS_DDL } from './support/host-schema.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A database whose app runs pg-boss of its own: queues `emails` and `webhooks`, one job waiting. */
async function databaseWithAppQueues(): Promise<TestDatabase> {
  const db = await createEmptyDatabase()
  await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
  const app = new PgBoss({ connectionString: db.url, supervise: false, schedule: false })
  app.on('error', () => {})
  await app.start()
  await app.createQueue('emails')
  await app.createQueue('webhooks')
  await app.send('emails', { to: 'someone@example.com' })
  await app.stop({ graceful: false })
  return db
}

/** Takes pg-boss's schema back one version with pg-boss's own rollback: a real older schema. */
async function rollBackOneVersion(db: TestDatabase): Promise<number> {
  const version = bossSchemaVersion()!
  await db.pool.query(getRollbackPlans('pgboss', version))
  const { rows: [row] } = await db.pool.query<{ version: number }>(`SELECT version::int AS version FROM pgboss.version`)
  expect(row!.version).toBe(version - 1)
  return version - 1
}

function scheduler(db: TestDatabase, options: SchedulerOptions = {}) {
  const pool = new pg.Pool({ connectionString: db.url, max: 5 })
  pool.on('error', () => {})
  const s = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), logger: captureLogger(), pollingIntervalSeconds: 0.5, ...options })
  cleanups.push(async () => {
    await s.stop({ timeoutMs: 1_000 })
    await pool.end()
  })
  return s
}

async function appState(db: TestDatabase, schema = 'pgboss') {
  const { rows: [version] } = await db.pool.query<{ version: number }>(`SELECT version::int AS version FROM ${schema}.version`)
  const { rows } = await db.pool.query<{ name: string; state: string }>(`SELECT name, state::text FROM ${schema}.job WHERE name = 'emails'`)
  return { version: version!.version, emails: rows.map((r) => r.state) }
}

describe("an app's own pg-boss in the same schema", () => {
  test("older than this pg-boss's schema: start() refuses to upgrade it under the app, naming its queues and the ways out; nothing of the app's changes", async () => {
    const db = await databaseWithAppQueues()
    // As an app on an older pg-boss left it (pg-boss 11 and early 12 wrote version 26).
    await db.pool.query(`UPDATE pgboss.version SET version = 26`)
    const error = await scheduler(db).start().then(() => null, (e: unknown) => e as Error)
    expect(error).toBeInstanceOf(MigrationError)
    expect(error!.message).toBe(
      `pg-boss's schema "pgboss" holds queues of another app (emails, webhooks) and is at version 26; starting would upgrade it to ` +
        `version ${bossSchemaVersion()} under that app, whose pg-boss may not read it. Give the scheduler a schema of its own (the ` +
        "`bossSchema` option, such as 'pss_boss'), or upgrade that app's pg-boss first, or upgrade the schema when you choose, " +
        'with `pg-subscription-scheduler migrate`.',
    )
    expect(await appState(db)).toEqual({ version: 26, emails: ['created'] })
    // Refused before anything of the scheduler's was created.
    const { rows } = await db.pool.query(`SELECT to_regnamespace('subscription_scheduler')::text AS s, to_regclass('subscription_processing')::text AS t`)
    expect(rows[0]).toEqual({ s: null, t: null })
  })

  test('older than this pg-boss can upgrade (pg-boss 10\'s): start() names bossSchema as the way out, not an upgrade that cannot be made', async () => {
    const db = await databaseWithAppQueues()
    await db.pool.query(`UPDATE pgboss.version SET version = 24`)
    const error = await scheduler(db).start().then(() => null, (e: unknown) => e as Error)
    expect(error).toBeInstanceOf(MigrationError)
    expect(error!.message).toBe(
      `pg-boss's schema "pgboss" holds queues of another app (emails, webhooks) and is at version 24, older than this pg-boss ` +
        `(which installs version ${bossSchemaVersion()}) can upgrade. Give the scheduler a schema of its own (the \`bossSchema\` ` +
        "option, such as 'pss_boss').",
    )
    expect(await appState(db)).toEqual({ version: 24, emails: ['created'] })
  })

  test('with a schema of its own (bossSchema), the scheduler starts and works beside the older one, which stays as it was', async () => {
    const db = await databaseWithAppQueues()
    await db.pool.query(`UPDATE pgboss.version SET version = 26`)
    const s = scheduler(db, { bossSchema: 'pss_boss' })
    await s.start()
    await db.pool.query(`INSERT INTO subscriptions (user_id, frequency, active) SELECT gen_random_uuid(), 'daily', true FROM generate_series(1, 3)`)
    expect(await s.runNow()).toMatchObject({ successful: 3 })
    expect(await appState(db)).toEqual({ version: 26, emails: ['created'] })
  })

  test("at this pg-boss's version: the scheduler shares the schema, and the app's queues and jobs are left as they were", async () => {
    const db = await databaseWithAppQueues()
    const s = scheduler(db)
    await s.start()
    await db.pool.query(`INSERT INTO subscriptions (user_id, frequency, active) SELECT gen_random_uuid(), 'daily', true FROM generate_series(1, 3)`)
    expect(await s.runNow()).toMatchObject({ successful: 3 })
    expect(await appState(db)).toEqual({ version: bossSchemaVersion(), emails: ['created'] })
  })

  test('older than pg-boss can upgrade from: a MigrationError with pg-boss\'s reason and the bossSchema way out, not a bare assertion', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    const app = new PgBoss({ connectionString: db.url, supervise: false, schedule: false })
    app.on('error', () => {})
    await app.start()
    await app.stop({ graceful: false })
    // As pg-boss 10 left it: pg-boss 12 migrates from 25 on.
    await db.pool.query(`UPDATE pgboss.version SET version = 24`)
    const error = await scheduler(db).start().then(() => null, (e: unknown) => e as Error)
    expect(error).toBeInstanceOf(MigrationError)
    expect(error!.message).toMatch(/^pg-boss cannot start on its schema "pgboss": Cannot migrate pg-boss schema from version 24: .* If that schema is another app's, give the scheduler one of its own \(the `bossSchema` option, such as 'pss_boss'\)\.$/)
  })

  test("a real schema a version behind, shared: the CLI's migrate upgrades it when the operator chooses, and says whose queues it holds; start() then shares it", async () => {
    const db = await databaseWithAppQueues()
    const older = await rollBackOneVersion(db)
    const target = bossSchemaVersion()
    await expect(scheduler(db).start()).rejects.toThrow(`holds queues of another app (emails, webhooks) and is at version ${older}`)
    const result = await runCli(['migrate'], { DATABASE_URL: db.url })
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout).toContain(`Upgraded pg-boss's schema "pgboss" from version ${older} to ${target}; it holds queues of another app too (emails, webhooks), whose pg-boss must read version ${target}.`)
    const s = scheduler(db)
    await s.start()
    expect(await appState(db)).toEqual({ version: target, emails: ['created'] })
  })
})

describe("the scheduler's own pg-boss schema, a version behind (a previous release's)", () => {
  test('start() upgrades it, and says so', async () => {
    const db = await createEmptyDatabase()
    await db.pool.query(HOST_SUBSCRIPTIONS_DDL)
    const first = scheduler(db)
    await first.start()
    await first.stop({ timeoutMs: 1_000 })
    const older = await rollBackOneVersion(db)
    const logger = captureLogger()
    const s = scheduler(db, { logger })
    await s.start()
    expect(logger.messages('info')).toContain(`Upgraded pg-boss's schema "pgboss" from version ${older} to ${bossSchemaVersion()}.`)
    await db.pool.query(`INSERT INTO subscriptions (user_id, frequency, active) SELECT gen_random_uuid(), 'daily', true FROM generate_series(1, 2)`)
    expect(await s.runNow()).toMatchObject({ successful: 2 })
  })
})
