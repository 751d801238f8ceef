/**
 * The package as a user gets it: `npm pack`, installed into a fresh project next to `pg` and
 * `drizzle-orm`, then imported from ESM and required from CJS, type-checked under both module
 * resolutions users configure, and run end to end on an empty database, where start() and
 * migrate() must find the SQL inside the installed package. Then once more in a project without
 * `drizzle-orm`, which only the ./schema entry point needs.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ensureBuilt, repoRoot } from '../scripts/ensure-build.js'
import { createEmptyDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL } from './support/host-schema.js'

/** Node 24 from the repository: require() of the ESM-only pg-boss needs Node >= 22.12. */
const NODE = existsSync(join(repoRoot, 'node_modules/.bin/node')) ? join(repoRoot, 'node_modules/.bin/node') : process.execPath
const TSC = join(repoRoot, 'node_modules/typescript/bin/tsc')

let dir: string
let tarball: string
let project: string

interface Result {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command to completion; never throws on a non-zero exit, so the test can show why. */
async function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Result> {
  // The repository's Node first on PATH: npm (and its scripts) then run on it, not the system's.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(VITEST|NODE_OPTIONS$|DATABASE_URL$)/.test(key)))
  env.PATH = [join(repoRoot, 'node_modules/.bin'), process.env.PATH].join(delimiter)
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd: options.cwd,
      env: { ...env, ...options.env, NO_COLOR: '1' },
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 16 * 1024 * 1024,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}\n${e.message}` }
  }
}

const show = (r: Result) => `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

function write(files: Record<string, string>, into = project): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(into, name), text)
}

/** Same versions as the repository's lockfile, so the install is served from the npm cache. */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
}

/** A fresh project in `dir/name` with the packed tarball and `dependencies` installed. */
async function installProject(name: string, dependencies: string[]): Promise<string> {
  const path = join(dir, name)
  mkdirSync(path)
  write({ 'package.json': JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2) }, path)
  const install = await run(
    'npm',
    [
      'install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock',
      tarball,
      ...dependencies.map((dependency) => `${dependency}@${installedVersion(dependency)}`),
    ],
    { cwd: path, timeoutMs: 120_000 },
  )
  expect(install.code, show(install)).toBe(0)
  return path
}

beforeAll(async () => {
  await ensureBuilt()
  dir = mkdtempSync(join(tmpdir(), 'pss-consumer-'))
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: repoRoot })
  expect(packed.code, show(packed)).toBe(0)
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }]
  tarball = join(dir, filename)
  project = await installProject('app', ['pg', 'drizzle-orm', '@types/pg', '@types/node'])
}, 300_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const ENTRY_POINTS = ['pg-subscription-scheduler', 'pg-subscription-scheduler/admin', 'pg-subscription-scheduler/schema', 'pg-subscription-scheduler/testing']

/** A few names per entry point that must be there at run time, in both formats. */
const EXPECTED_EXPORTS = {
  // createAdminHandler and bearerToken stay on the root, deprecated, for one minor version.
  root: ['createSubscriptionScheduler', 'migrate', 'computeNextRunAt', 'createHttpWorkerClient', 'PermanentError', 'SchedulerError', 'isPermanentError', 'createAdminHandler', 'bearerToken'],
  admin: ['createAdminHandler', 'bearerToken'],
  schema: ['subscriptionProcessing', 'subscriptionRuns', 'subscriptionFailures', 'SCHEDULER_SCHEMA'],
  testing: ['createFakeWorkerClient', 'createManualClock', 'captureLogger'],
}

describe('imported from the installed tarball', () => {
  let esm: { resolved: string[]; root: string[]; admin: string[]; schema: string[]; testing: string[]; table: string }
  let cjs: typeof esm & { errorNames: [string, string, string][]; acrossCopies: boolean[] }

  test('ESM: import resolves every entry point to dist/*.js', async () => {
    write({
      'esm.mjs': `
        import * as root from 'pg-subscription-scheduler'
        import * as admin from 'pg-subscription-scheduler/admin'
        import * as schema from 'pg-subscription-scheduler/schema'
        import * as testing from 'pg-subscription-scheduler/testing'
        import { getTableName } from 'drizzle-orm'
        console.log(JSON.stringify({
          resolved: ${JSON.stringify(ENTRY_POINTS)}.map((id) => import.meta.resolve(id)),
          root: Object.keys(root).sort(),
          admin: Object.keys(admin).sort(),
          schema: Object.keys(schema).sort(),
          testing: Object.keys(testing).sort(),
          table: getTableName(schema.subscriptionProcessing),
        }))
      `,
    })
    const result = await run(NODE, ['esm.mjs'], { cwd: project })
    expect(result.code, show(result)).toBe(0)
    esm = JSON.parse(result.stdout)
    expect(esm.resolved).toEqual(['index', 'admin', 'schema', 'testing'].map((f) => expect.stringMatching(new RegExp(`/node_modules/pg-subscription-scheduler/dist/${f}\\.js$`))))
    expect(esm.root).toEqual(expect.arrayContaining(EXPECTED_EXPORTS.root))
    expect(esm.admin).toEqual(EXPECTED_EXPORTS.admin.sort())
    expect(esm.schema).toEqual(expect.arrayContaining(EXPECTED_EXPORTS.schema))
    expect(esm.testing).toEqual(expect.arrayContaining(EXPECTED_EXPORTS.testing))
    expect(esm.table).toBe('subscription_processing')
  })

  test('CJS: require resolves every entry point to dist/*.cjs, with the same exports', async () => {
    write({
      'cjs.cjs': `
        const root = require('pg-subscription-scheduler')
        const admin = require('pg-subscription-scheduler/admin')
        const schema = require('pg-subscription-scheduler/schema')
        const testing = require('pg-subscription-scheduler/testing')
        const { getTableName } = require('drizzle-orm')
        // The ESM copy beside it, as an ESM app with a CJS plugin loads both.
        import('pg-subscription-scheduler').then((esmRoot) => console.log(JSON.stringify({
          resolved: ${JSON.stringify(ENTRY_POINTS)}.map((id) => require.resolve(id)),
          root: Object.keys(root).sort(),
          admin: Object.keys(admin).sort(),
          schema: Object.keys(schema).sort(),
          testing: Object.keys(testing).sort(),
          table: getTableName(schema.subscriptionProcessing),
          errorNames: Object.keys(root).filter((k) => k.endsWith('Error')).map((k) => [k, root[k].name, new root.NotStartedError('runNow').constructor.name]),
          acrossCopies: [new root.NotStartedError('runNow') instanceof esmRoot.NotStartedError, new root.NotStartedError('runNow') instanceof esmRoot.NotFoundError],
        })))
      `,
    })
    const result = await run(NODE, ['cjs.cjs'], { cwd: project })
    expect(result.code, show(result)).toBe(0)
    cjs = JSON.parse(result.stdout)
    // Stack traces and util.inspect show each class by its own name, not a compiler's \`_class5\`.
    expect(cjs.errorNames.length).toBeGreaterThan(8)
    for (const [exported, name, constructed] of cjs.errorNames) expect([exported, name, constructed]).toEqual([exported, exported, 'NotStartedError'])
    // instanceof holds between the CJS and ESM copies of the package, by code.
    expect(cjs.acrossCopies).toEqual([true, false])
    expect(cjs.resolved).toEqual(['index', 'admin', 'schema', 'testing'].map((f) => expect.stringMatching(new RegExp(`/node_modules/pg-subscription-scheduler/dist/${f}\\.cjs$`))))
    expect({ root: cjs.root, admin: cjs.admin, schema: cjs.schema, testing: cjs.testing, table: cjs.table }).toEqual({ root: esm.root, admin: esm.admin, schema: esm.schema, testing: esm.testing, table: esm.table })
  })
})

describe('type-checked as a user compiles it (strict)', () => {
  const app = `
    import { randomUUID } from 'node:crypto'
    import { eq } from 'drizzle-orm'
    import { drizzle } from 'drizzle-orm/node-postgres'
    import pg from 'pg'
    import { ConfigurationError, createSubscriptionScheduler, isPermanentError, migrate, PermanentError } from 'pg-subscription-scheduler'
    import type { ProcessRequest, RunSummary, SchedulerOptions, SubscriptionScheduler, WorkerClient } from 'pg-subscription-scheduler'
    import { bearerToken, createAdminHandler } from 'pg-subscription-scheduler/admin'
    import type { AdminHandler } from 'pg-subscription-scheduler/admin'
    import * as root from 'pg-subscription-scheduler'
    import { subscriptionProcessing } from 'pg-subscription-scheduler/schema'
    import type { SubscriptionProcessingRow, SubscriptionStatus } from 'pg-subscription-scheduler/schema'
    import { captureLogger, createFakeWorkerClient, createManualClock } from 'pg-subscription-scheduler/testing'
    import type { FakeWorkerClient } from 'pg-subscription-scheduler/testing'

    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
    const worker: WorkerClient = {
      async process(request: ProcessRequest, { signal }) {
        signal.throwIfAborted()
        if (!request.userId) throw new PermanentError('no user')
        return { ok: true }
      },
    }
    const options: SchedulerOptions = { workerClient: worker, timezone: 'Europe/Berlin', retry: { limit: 1 } }
    // Options read from the environment are \`string | undefined\`: accepted as they are, even
    // under exactOptionalPropertyTypes (undefined is the default, as the README says).
    export const fromEnv = createSubscriptionScheduler(pool, {
      workerUrl: process.env.SUBSCRIPTION_WORKER_URL,
      timezone: process.env.TZ,
      maxConcurrentCalls: undefined,
      retry: { limit: undefined },
    })
    await fromEnv.enroll(randomUUID(), { timezone: process.env.TZ, runAt: undefined })
    export const summaryOrStarted = await fromEnv.runNow({ wait: undefined })
    const scheduler: SubscriptionScheduler = createSubscriptionScheduler(pool, options)
    await migrate(pool)

    const db = drizzle(pool)
    const failed: SubscriptionProcessingRow[] = await db.select().from(subscriptionProcessing).where(eq(subscriptionProcessing.status, 'failed'))
    export const status: SubscriptionStatus | undefined = failed[0]?.status
    // Column names are literal types, timestamps too, as drizzle's own tables give them.
    type NextRunAtName = typeof subscriptionProcessing.nextRunAt._.name
    export const columnName: NextRunAtName extends 'next_run_at' ? true : false = true
    export const health: 'stopped' | 'starting' | 'running' | 'stopping' = createSubscriptionScheduler(pool, options).health().state
    await db.transaction(async (tx) => {
      await scheduler.enroll(randomUUID(), { db: tx, timezone: null })
    })
    export const summary: RunSummary = await scheduler.runNow()
    export const started: { runId: string } = await scheduler.runNow({ wait: false })

    const fake: FakeWorkerClient = createFakeWorkerClient().on(randomUUID(), { fail: new PermanentError('gone') })
    createSubscriptionScheduler(pool, { workerClient: fake, logger: captureLogger(), clock: createManualClock('2030-01-01T00:00:00Z') })
    export const admin: AdminHandler = createAdminHandler(scheduler, { authorize: bearerToken('a-token-of-32-characters-or-so!!') })
    // The deprecated root re-export keeps the same types until it is removed.
    export const rootAdmin: AdminHandler = root.createAdminHandler(scheduler, { authorize: root.bearerToken('a-token-of-32-characters-or-so!!') })
    try {
      createSubscriptionScheduler(pool, { concurrency: 0 })
    } catch (error) {
      if (error instanceof ConfigurationError) console.log(error.option.toUpperCase(), isPermanentError(error))
    }

    // The types are real, not \`any\`: each of these must be a type error.
    // @ts-expect-error concurrency is a number
    createSubscriptionScheduler(pool, { concurrency: '16' })
    // @ts-expect-error a misspelt option
    createSubscriptionScheduler(pool, { cronn: '* * * * *' })
    // @ts-expect-error runNow({ wait: false }) resolves before there is a summary
    export const processed = (await scheduler.runNow({ wait: false })).processed
    // @ts-expect-error not a status
    export const bad: SubscriptionStatus = 'done'
  `
  // A CommonJS file in the same project resolves the \`require\` condition: the .d.cts types.
  const appCjs = `
    import { createSubscriptionScheduler, PermanentError } from 'pg-subscription-scheduler'
    import type { RunSummary } from 'pg-subscription-scheduler'
    import { subscriptionProcessing } from 'pg-subscription-scheduler/schema'
    import { captureLogger } from 'pg-subscription-scheduler/testing'
    import { bearerToken } from 'pg-subscription-scheduler/admin'
    export const authorize = bearerToken('a-token-of-32-characters-or-so!!')
    export const create: typeof createSubscriptionScheduler = createSubscriptionScheduler
    export const error = new PermanentError('gone', { status: 410 })
    export const table = subscriptionProcessing.nextRunAt
    export const logger = captureLogger()
    export type Summary = RunSummary
    // @ts-expect-error the types are real
    export const wrong: number = error.message
  `
  // skipLibCheck as every Drizzle user has it: drizzle-orm's own declarations for gel and mysql
  // import drivers nobody installs. Our declarations are still what every usage above is checked
  // against, and the @ts-expect-error lines fail if they ever degrade to \`any\`.
  const common = { strict: true, exactOptionalPropertyTypes: true, target: 'ES2022', lib: ['ES2023'], types: ['node'], noEmit: true, skipLibCheck: true }

  test.each([
    { name: 'nodenext', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' }, files: ['app.ts', 'app-cjs.cts'], declarations: ['index.d.ts', 'admin.d.ts', 'schema.d.ts', 'testing.d.ts', 'index.d.cts', 'admin.d.cts', 'schema.d.cts', 'testing.d.cts'] },
    { name: 'bundler', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' }, files: ['app.ts'], declarations: ['index.d.ts', 'admin.d.ts', 'schema.d.ts', 'testing.d.ts'] },
  ])('moduleResolution $name', async ({ name, compilerOptions, files, declarations }) => {
    write({
      'app.ts': app,
      'app-cjs.cts': appCjs,
      [`tsconfig.${name}.json`]: JSON.stringify({ compilerOptions: { ...common, ...compilerOptions }, files }, null, 2),
    })
    const result = await run(NODE, [TSC, '-p', `tsconfig.${name}.json`, '--listFiles'], { cwd: project, timeoutMs: 80_000 })
    expect(result.code, show(result)).toBe(0)
    // The types came from the installed package, through its exports map.
    for (const file of declarations) expect(result.stdout).toContain(`/node_modules/pg-subscription-scheduler/dist/${file}`)
  }, 90_000)
})

async function assertMigrated(db: TestDatabase): Promise<void> {
  const journal = JSON.parse(readFileSync(join(repoRoot, 'drizzle/meta/_journal.json'), 'utf8')) as { entries: unknown[] }
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.__drizzle_migrations`)
  expect(rows[0].n).toBe(journal.entries.length)
}

async function assertProcessed(db: TestDatabase): Promise<void> {
  const { rows } = await db.pool.query(`SELECT status, count(*)::int AS n FROM subscription_processing GROUP BY 1`)
  expect(rows).toEqual([{ status: 'completed', n: 3 }])
  await assertMigrated(db)
}

// Shared by both formats; \`process(request)\` records what the scheduler sent, and the admin
// handler from 'pg-subscription-scheduler/admin' reports on the root's scheduler.
const body = (startLine: string) => `
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
  const quiet = { debug() {}, info() {}, warn: console.error, error: console.error }
  ${startLine}
  await scheduler.start()
  const { rows } = await pool.query(
    "INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), f FROM unnest($1::text[]) AS f RETURNING id",
    [['daily', 'weekly', 'monthly']],
  )
  for (const { id } of rows) await scheduler.enroll(id, { timezone: 'Europe/Berlin' })
  const summary = await scheduler.runNow()
  const token = 'a-token-of-32-characters-or-so!!'
  const admin = createAdminHandler(scheduler, { authorize: bearerToken(token) })
  const answer = await admin.fetch(new Request('http://app.test/status', { headers: { authorization: 'Bearer ' + token } }))
  const adminStatus = { code: answer.status, completed: (await answer.json()).counts.completed }
  await scheduler.stop({ timeoutMs: 5000 })
  await pool.end()
`

describe('run end to end on an empty database', () => {
  let esmDb: TestDatabase
  let cjsDb: TestDatabase
  let cliDb: TestDatabase

  beforeAll(async () => {
    ;[esmDb, cjsDb, cliDb] = await Promise.all([createEmptyDatabase(), createEmptyDatabase(), createEmptyDatabase()])
    // Only the host's own table: the scheduler's tables must come from the installed migrations.
    await Promise.all([esmDb, cjsDb, cliDb].map((db) => db.pool.query(HOST_SUBSCRIPTIONS_DDL)))
  })

  test('the bin npm linked runs, and its migrate finds the installed SQL', async () => {
    const bin = join(project, 'node_modules/.bin/pg-subscription-scheduler')
    const help = await run(bin, ['--help'], { cwd: project })
    expect(help.code, show(help)).toBe(0)
    expect(help.stdout).toContain('USAGE pg-subscription-scheduler')
    const migrated = await run(bin, ['migrate'], { cwd: project, env: { DATABASE_URL: cliDb.url }, timeoutMs: 45_000 })
    expect(migrated.code, show(migrated)).toBe(0)
    await assertMigrated(cliDb)
  }, 60_000)

  test('ESM: start() migrates from the installed package and processes with an in-process worker client', async () => {
    write({
      'run.mjs': `
        import pg from 'pg'
        import { createSubscriptionScheduler } from 'pg-subscription-scheduler'
        import { bearerToken, createAdminHandler } from 'pg-subscription-scheduler/admin'
        const calls = []
        const workerClient = { async process(request) { calls.push(request.subscriptionId); return { ok: true } } }
        ${body('const scheduler = createSubscriptionScheduler(pool, { workerClient, logger: quiet, pollingIntervalSeconds: 0.5 })')}
        console.log(JSON.stringify({ summary, calls: calls.length, adminStatus }))
      `,
    })
    const result = await run(NODE, ['run.mjs'], { cwd: project, env: { DATABASE_URL: esmDb.url }, timeoutMs: 45_000 })
    expect(result.code, show(result)).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ summary: { processed: 3, successful: 3, failed: 0 }, calls: 3, adminStatus: { code: 200, completed: 3 } })
    await assertProcessed(esmDb)
  }, 60_000)

  test('CJS: migrate() finds the installed SQL, and the default HTTP worker client works', async () => {
    write({
      'run.cjs': `
        const http = require('node:http')
        const pg = require('pg')
        const { createSubscriptionScheduler, migrate } = require('pg-subscription-scheduler')
        const { bearerToken, createAdminHandler } = require('pg-subscription-scheduler/admin')
        async function main() {
          const calls = []
          const worker = http.createServer((req, res) => {
            let text = ''
            req.on('data', (chunk) => (text += chunk))
            req.on('end', () => {
              calls.push(JSON.parse(text).subscriptionId)
              res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
            })
          })
          await new Promise((resolve) => worker.listen(0, '127.0.0.1', resolve))
          const workerUrl = 'http://127.0.0.1:' + worker.address().port
          ${body(`await migrate(pool)
            const scheduler = createSubscriptionScheduler(pool, { workerUrl, migrate: false, logger: quiet, pollingIntervalSeconds: 0.5 })`)}
          worker.close()
          console.log(JSON.stringify({ summary, calls: calls.length, adminStatus }))
        }
        main().catch((error) => {
          console.error(error)
          process.exit(1) // the worker server and the pool would keep a failed run alive
        })
      `,
    })
    const result = await run(NODE, ['run.cjs'], { cwd: project, env: { DATABASE_URL: cjsDb.url }, timeoutMs: 45_000 })
    expect(result.code, show(result)).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ summary: { processed: 3, successful: 3, failed: 0 }, calls: 3, adminStatus: { code: 200, completed: 3 } })
    await assertProcessed(cjsDb)
  }, 60_000)
})

describe('without drizzle-orm installed: an optional peer, needed by ./schema only', () => {
  let bare: string
  let esmDb: TestDatabase
  let cjsDb: TestDatabase

  beforeAll(async () => {
    bare = await installProject('app-without-drizzle', ['pg', '@types/pg', '@types/node'])
    ;[esmDb, cjsDb] = await Promise.all([createEmptyDatabase(), createEmptyDatabase()])
    await Promise.all([esmDb, cjsDb].map((db) => db.pool.query(HOST_SUBSCRIPTIONS_DDL)))
  }, 300_000)

  test('npm does not install drizzle-orm on its own', () => {
    // npm installs missing peers unless they are marked optional.
    expect(existsSync(join(bare, 'node_modules/drizzle-orm'))).toBe(false)
  })

  test('ESM: the root, ./admin and ./testing load; start() migrates an empty database and processes', async () => {
    write({
      'run.mjs': `
        import pg from 'pg'
        import { createSubscriptionScheduler } from 'pg-subscription-scheduler'
        import { bearerToken, createAdminHandler } from 'pg-subscription-scheduler/admin'
        import { createFakeWorkerClient } from 'pg-subscription-scheduler/testing'
        const workerClient = createFakeWorkerClient()
        ${body('const scheduler = createSubscriptionScheduler(pool, { workerClient, logger: quiet, pollingIntervalSeconds: 0.5 })')}
        console.log(JSON.stringify({ summary, calls: workerClient.calls.length, adminStatus }))
      `,
    }, bare)
    const result = await run(NODE, ['run.mjs'], { cwd: bare, env: { DATABASE_URL: esmDb.url }, timeoutMs: 45_000 })
    expect(result.code, show(result)).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ summary: { processed: 3, successful: 3, failed: 0 }, calls: 3, adminStatus: { code: 200, completed: 3 } })
    await assertProcessed(esmDb)
  }, 60_000)

  test('CJS: migrate() then start() process on an empty database', async () => {
    write({
      'run.cjs': `
        const pg = require('pg')
        const { createSubscriptionScheduler, migrate } = require('pg-subscription-scheduler')
        const { bearerToken, createAdminHandler } = require('pg-subscription-scheduler/admin')
        async function main() {
          const calls = []
          const workerClient = { async process(request) { calls.push(request.subscriptionId); return { ok: true } } }
          ${body(`await migrate(pool)
            const scheduler = createSubscriptionScheduler(pool, { workerClient, migrate: false, logger: quiet, pollingIntervalSeconds: 0.5 })`)}
          console.log(JSON.stringify({ summary, calls: calls.length, adminStatus }))
        }
        main().catch((error) => {
          console.error(error)
          process.exit(1)
        })
      `,
    }, bare)
    const result = await run(NODE, ['run.cjs'], { cwd: bare, env: { DATABASE_URL: cjsDb.url }, timeoutMs: 45_000 })
    expect(result.code, show(result)).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ summary: { processed: 3, successful: 3, failed: 0 }, calls: 3, adminStatus: { code: 200, completed: 3 } })
    await assertProcessed(cjsDb)
  }, 60_000)

  test('./schema is the entry point that needs it, and loading it says which package is missing', async () => {
    write({
      'schema.mjs': `
        import('pg-subscription-scheduler/schema').then(
          () => console.log(JSON.stringify({ loaded: true })),
          (error) => console.log(JSON.stringify({ loaded: false, code: error.code, message: error.message })),
        )
      `,
    }, bare)
    const result = await run(NODE, ['schema.mjs'], { cwd: bare })
    expect(result.code, show(result)).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ loaded: false, code: 'ERR_MODULE_NOT_FOUND', message: expect.stringContaining("'drizzle-orm") })
  })

  test("type-checks with the package's declarations checked too (skipLibCheck off): none of them reach drizzle-orm", async () => {
    write({
      'app.ts': `
        import pg from 'pg'
        import { createSubscriptionScheduler, migrate } from 'pg-subscription-scheduler'
        import type { RunSummary, SubscriptionStatus } from 'pg-subscription-scheduler'
        import { bearerToken, createAdminHandler } from 'pg-subscription-scheduler/admin'
        import { createFakeWorkerClient } from 'pg-subscription-scheduler/testing'
        const pool = new pg.Pool()
        await migrate(pool)
        const scheduler = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient() })
        export const summary: RunSummary = await scheduler.runNow()
        export const status: SubscriptionStatus = 'paused'
        export const admin = createAdminHandler(scheduler, { authorize: bearerToken('a-token-of-32-characters-or-so!!') })
        // @ts-expect-error the types are real, not \`any\`
        export const bad: SubscriptionStatus = 'done'
      `,
      'tsconfig.json': JSON.stringify({
        compilerOptions: { strict: true, target: 'ES2022', lib: ['ES2023', 'DOM'], types: ['node'], noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: false },
        files: ['app.ts'],
      }),
    }, bare)
    const result = await run(NODE, [TSC, '-p', 'tsconfig.json', '--listFiles'], { cwd: bare, timeoutMs: 80_000 })
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toContain('/node_modules/pg-subscription-scheduler/dist/admin.d.ts')
    expect(result.stdout).not.toMatch(/node_modules\/drizzle-orm\//)
  }, 90_000)
})
