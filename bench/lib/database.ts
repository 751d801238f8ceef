/**
 * Where the benchmark's databases come from. One server per run (DATABASE_URL, or an embedded
 * PostgreSQL), one migrated template on it, and one fresh clone of that template per
 * measurement, dropped afterwards. Every measurement of a run therefore sees the same server,
 * the same schema and an unbloated table.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { PgBoss } from 'pg-boss'
import { startEmbeddedPostgres } from '../../src/cli/embedded/start.js'
import { migrate } from '../../src/db/migrate.js'
import { HOST_SUBSCRIPTIONS_DDL } from '../../test/support/host-schema.js'

/** The pg-boss schema the scheduler (and the fan-out baseline) use; installed in the template. */
export const BOSS_SCHEMA = 'pgboss'

export interface BenchServer {
  /** Superuser connection string of a maintenance database (`postgres`). */
  adminUrl: string
  /** How the server was obtained, for the report header. */
  description: string
  stop(): Promise<void>
}

export interface BenchDatabase {
  name: string
  url: string
  drop(): Promise<void>
}

export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

async function admin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export async function openServer(): Promise<BenchServer> {
  const fromEnv = process.env.DATABASE_URL
  if (fromEnv) {
    const version = await admin(fromEnv, async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v)
    return { adminUrl: fromEnv, description: `DATABASE_URL (PostgreSQL ${version})`, stop: async () => {} }
  }
  const embedded = await startEmbeddedPostgres()
  const version = await admin(embedded.url, async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v)
  return { adminUrl: embedded.url, description: `embedded PostgreSQL ${version}`, stop: () => embedded.stop() }
}

function freshName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
}

/**
 * The template every measurement clones: the host's `subscriptions` table, the library's
 * migrations, and pg-boss's schema (so no measurement pays for installing it).
 */
export async function createTemplate(server: BenchServer): Promise<BenchDatabase> {
  const name = freshName('pss_bench_tpl')
  await admin(server.adminUrl, (c) => c.query(`CREATE DATABASE ${name}`))
  const url = databaseUrl(server.adminUrl, name)
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  try {
    await pool.query(HOST_SUBSCRIPTIONS_DDL)
    await migrate(pool)
    const boss = new PgBoss({
      db: { executeSql: async (text, values) => await pool.query(text, values as unknown[] | undefined) },
      schema: BOSS_SCHEMA,
      supervise: false,
      schedule: false,
    })
    boss.on('error', () => {})
    await boss.start()
    await boss.stop({ graceful: false, close: false })
  } finally {
    await pool.end()
  }
  return { name, url, drop: () => dropDatabase(server.adminUrl, name) }
}

/** A fresh clone of the template, named `pss_bench_<random>`. Drop it when done. */
export async function cloneDatabase(server: BenchServer, template: BenchDatabase): Promise<BenchDatabase> {
  const name = freshName('pss_bench')
  // A template must have no other session; pg-boss may still be closing its last one.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin(server.adminUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template.name}`))
      break
    } catch (error) {
      if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  const url = databaseUrl(server.adminUrl, name)
  return { name, url, drop: () => dropDatabase(server.adminUrl, name) }
}

/** Clones a database, runs `fn` on it, and drops it whatever happens. */
export async function withDatabase<T>(
  server: BenchServer,
  template: BenchDatabase,
  fn: (db: BenchDatabase) => Promise<T>,
): Promise<T> {
  const db = await cloneDatabase(server, template)
  try {
    return await fn(db)
  } finally {
    await db.drop().catch((error: unknown) => console.error(`Could not drop ${db.name}: ${(error as Error).message}`))
  }
}
