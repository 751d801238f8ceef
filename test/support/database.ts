/**
 * Each test file gets a database of its own, cloned from the migrated template, and dropped
 * afterwards. Cloning takes milliseconds; migrating each time would not.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, inject } from 'vitest'
import type { Executor } from '../../src/db/executor.js'
import { databaseUrl } from './urls.js'

export interface TestDatabase {
  name: string
  url: string
  pool: pg.Pool
}

/**
 * Databases this file created, dropped once it is done. One hook registered when the module
 * loads: vitest ignores an afterAll() registered inside a beforeAll(), where most files create
 * their database.
 */
const created: { name: string; pool: pg.Pool }[] = []
afterAll(async () => {
  for (const { name, pool } of created.splice(0)) {
    // A file may have ended its pool itself.
    if (!pool.ended) await pool.end()
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  }
})

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Creates an empty database (no template): for migration tests that start from nothing. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  return await createDatabase(null)
}

/** Clones the migrated template: host `subscriptions`, scheduler tables and pg-boss schema. */
export async function createTestDatabase(): Promise<TestDatabase> {
  return await createDatabase(inject('pgTemplate'))
}

async function createDatabase(template: string | null): Promise<TestDatabase> {
  const name = `pss_test_${randomBytes(6).toString('hex')}`
  await admin((c) => c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`))
  const url = databaseUrl(inject('pgAdminUrl'), name)
  const pool = ownPool(url, 20)
  created.push({ name, pool })
  return { name, url, pool }
}

/**
 * A pool of its own on `url` (a test database), as a separate process would have. `pool.end()`
 * resolves before its connections have closed, so the drop of the database at the file's end
 * can still cut one; the pool's idle clients then report it, and nothing is listening for that.
 */
export function ownPool(url: string, max = 10, sessionOptions?: string): pg.Pool {
  // Idle connections close after a second, not pg's ten: a file that makes a database per test
  // keeps every one's pool until it ends, and three files at once came near the server's 100.
  // `sessionOptions` are a role's settings as a host's connections carry them ('-c lock_timeout=100').
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 1_000, ...(sessionOptions ? { options: sessionOptions } : {}) })
  pool.on('error', () => {})
  return pool
}

/** An executor on `pool` that keeps the text of every statement it sends and counts their answers, for tests that count them. */
export function countingExecutor(pool: pg.Pool): { executor: Executor; statements: string[]; answered: () => number } {
  const statements: string[] = []
  let answers = 0
  const query = (text: string, params?: unknown[]) => (statements.push(text), pool.query(text, params).finally(() => answers++))
  const executor: Executor = { query: query as Executor['query'] }
  return { executor, statements, answered: () => answers }
}
