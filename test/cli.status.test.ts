/**
 * `status` shows the schedule the database holds, which is what fires, whatever `--cron` and
 * `--timezone` say; before any start registers one, it shows what a start would register.
 * Child processes on a database of this file's own, with a real `worker` registering the cron.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import { runCli, SLOW_MS, startCli, startWorker } from './support/cli-process.js'
import { closedPortUrl } from './support/reliability-support.js'
import type { Cli } from './support/cli-process.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'

const REGISTERED = '0 0 1 1 *'
/** The next 1 January, 00:00 UTC: when REGISTERED fires next. */
const nextNewYear = () => new Date(Date.UTC(new Date().getUTCFullYear() + 1, 0, 1)).toISOString()

describe('status and the registered schedule', { timeout: SLOW_MS }, () => {
  let db: TestDatabase
  let http: Awaited<ReturnType<typeof startWorker>>
  let worker: Cli | undefined

  beforeAll(async () => {
    db = await createTestDatabase()
    http = await startWorker()
    return async () => {
      worker?.kill()
      await http.close()
    }
  })

  test('with none registered, says so, and shows what a start would register (flags, environment, defaults)', async () => {
    const env = { DATABASE_URL: db.url, SUBSCRIPTION_TIMEZONE: 'Europe/Berlin' }
    const [text, json] = await Promise.all([
      runCli(['status', '--cron', '30 6 * * *'], env),
      runCli(['status', '--json'], { DATABASE_URL: db.url }),
    ])
    expect(text).toMatchObject({ code: 0, stderr: '' })
    expect(text.stdout).toMatch(
      /^Schedule {8}none registered yet; a start would register cron '30 6 \* \* \*' in Europe\/Berlin \(cron: --cron, timezone: SUBSCRIPTION_TIMEZONE\)$/m,
    )
    expect(text.stdout).toMatch(/^Next cron fire {2}\d{4}-\d\d-\d\dT0[45]:30:00\.000Z, once registered$/m)
    expect(text.stdout).not.toMatch(/^Note/m)
    expect(text.stdout).toMatch(/^Instances {7}none has reported \(none started/m)
    expect(json.code).toBe(0)
    const status = JSON.parse(json.stdout)
    expect(status.schedule).toEqual({ cron: '0 9 * * *', timezone: 'UTC', registered: false, runAt: '09:00', autoEnroll: true })
    expect(status.givenSchedule).toBeNull()
    // Migrated by this version: nothing pending, no line.
    expect(text.stdout).not.toMatch(/^Migrations/m)
    expect(status.pendingMigrations).toEqual([])
  })

  test('a fixed-offset --timezone (EST) is warned of once, not once per check of the options', async () => {
    const result = await runCli(['status', '--timezone', 'EST'], { DATABASE_URL: db.url })
    expect(result.code).toBe(0)
    expect(result.stderr.match(/Time zone "EST" is UTC−5 all year/g)).toHaveLength(1)
  })

  test('with the database down, says so: the error, and what to check', async () => {
    const down = (await closedPortUrl()).replace('http:', 'postgres:') + '/none'
    const result = await runCli(['status'], { DATABASE_URL: down })
    expect(result).toMatchObject({ code: 1, stdout: '' })
    expect(result.stderr).toMatch(/^error: connect ECONNREFUSED 127\.0\.0\.1:\d+\n {2}hint: the database did not answer, or went away: check DATABASE_URL \(host and port\) and that PostgreSQL is up, then run the command again\.$/m)
  })

  test("on a database the previous version migrated (a rolling deploy's start), shows the rest and says why the instances are not listed", async () => {
    const old = await createTestDatabase()
    // As the version before migration 0012 left it: no instances table, no rate kept, no
    // pauseAfterConsecutiveFailures published, those migrations (0012 to 0014) not applied.
    await old.pool.query(`DROP TABLE subscription_scheduler.instances`)
    await old.pool.query(`ALTER TABLE subscription_scheduler.call_rates DROP COLUMN per_second`)
    await old.pool.query(`ALTER TABLE subscription_scheduler.settings DROP COLUMN pause_after_failures`)
    await old.pool.query(`DELETE FROM subscription_scheduler.__drizzle_migrations WHERE id > (SELECT max(id) - 3 FROM subscription_scheduler.__drizzle_migrations)`)
    const [text, json] = await Promise.all([runCli(['status'], { DATABASE_URL: old.url }), runCli(['status', '--json'], { DATABASE_URL: old.url })])
    expect(text).toMatchObject({ code: 0, stderr: '' })
    expect(text.stdout).toMatch(/^Subscriptions {3}0 total/m)
    expect(text.stdout).toMatch(/^Instances {7}not listed: this database's tables are older than this CLI \(`migrate`, or the first instance of this version to start, updates them\)$/m)
    expect(text.stdout).toMatch(/^Calls {11}not shown: this database's tables are older than this CLI/m)
    expect(JSON.parse(json.stdout)).toMatchObject({ total: 0, instances: null, limits: null, pendingMigrations: [expect.any(String), expect.any(String), expect.any(String)] })
    // Before a deploy rolls: what its first start, or migrate, will apply.
    expect(text.stdout).toMatch(/^Migrations {6}3 of this version not applied: \d{4}_\w+, \d{4}_\w+, \d{4}_\w+\. The next start applies them, or run migrate \(as the tables' owner\) first\.$/m)
  })

  test('once a worker registered its cron, prints that one, and says in one line when the flags differ', async () => {
    worker = startCli(['worker', '--worker-url', http.url, '--cron', REGISTERED], { DATABASE_URL: db.url })
    await worker.waitForStdout(/^Worker ready/m, 60_000)
    const env = { DATABASE_URL: db.url }
    const [plain, differing, json] = await Promise.all([
      runCli(['status'], env),
      runCli(['status', '--cron', '30 6 * * *'], { ...env, SUBSCRIPTION_TIMEZONE: 'Europe/Berlin' }),
      runCli(['status', '--json', '--cron', '30 6 * * *', '--timezone', 'UTC'], env),
    ])
    for (const result of [plain, differing, json]) expect(result).toMatchObject({ code: 0, stderr: '' })

    for (const { stdout } of [plain, differing]) {
      expect(stdout).toMatch(/^Schedule {8}cron '0 0 1 1 \*' in UTC \(registered\)$/m)
      expect(stdout).toMatch(new RegExp(`^Next cron fire {2}${nextNewYear().replace(/\./g, '\\.')}$`, 'm'))
      expect(stdout).not.toContain('30 6 * * *\' in')
    }
    expect(plain.stdout).not.toMatch(/^Note/m)
    expect(plain.stdout).toMatch(/^Instances {7}1 running$/m)
    const notes = differing.stdout.split('\n').filter((line) => line.startsWith('Note'))
    expect(notes).toEqual([
      "Note            --cron '30 6 * * *' and SUBSCRIPTION_TIMEZONE=Europe/Berlin differ from the registered schedule, " +
        'which is what fires; a worker or start() given them would register them in its place.',
    ])

    const status = JSON.parse(json.stdout)
    expect(status.schedule).toEqual({ cron: REGISTERED, timezone: 'UTC', registered: true, runAt: '09:00', autoEnroll: true })
    expect(status.nextFireAt).toBe(nextNewYear())
    expect(status.givenSchedule).toEqual({ cron: '30 6 * * *', timezone: 'UTC', differs: true })
    expect(status.instances).toEqual([expect.objectContaining({ state: 'running', schedules: true, works: true, version: expect.any(String) })])
  })
})
