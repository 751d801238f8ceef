/**
 * `enroll`: for hosts that run with `autoEnroll: false`, `--all` gives every host subscription
 * its row; ids enrol those alone. `status` and the unmigrated-database message, as a user sees
 * them. Child processes on databases of this file's own.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { runCli, SLOW_MS } from './support/cli-process.js'
import { createEmptyDatabase, createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL } from './support/host-schema.js'

async function addSubscriptions(db: TestDatabase, count: number): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), 'daily' FROM generate_series(1, $1) RETURNING id`,
    [count],
  )
  return rows.map((r) => r.id)
}

async function enrolled(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(`SELECT subscription_id::text AS id FROM subscription_processing ORDER BY 1`)
  return rows.map((r) => r.id)
}

describe('enroll', { timeout: SLOW_MS }, () => {
  let db: TestDatabase

  beforeAll(async () => {
    db = await createTestDatabase()
  })

  test('--all enrols every subscription that has no row, and says how many; again, it says none were missing', async () => {
    const ids = await addSubscriptions(db, 12)
    const before = await runCli(['status'], { DATABASE_URL: db.url })
    expect(before.stdout).toMatch(/12 more not enrolled yet/)
    const first = await runCli(['enroll', '--all'], { DATABASE_URL: db.url })
    expect(first).toMatchObject({ code: 0, stderr: '' })
    expect(first.stdout.trim()).toBe('Enrolled 12 subscriptions.')
    expect(await enrolled(db)).toEqual([...ids].sort())
    const again = await runCli(['enroll', '--all'], { DATABASE_URL: db.url })
    expect(again.stdout.trim()).toBe('Every subscription was already enrolled.')
  })

  test('ids enrol those subscriptions only', async () => {
    const [a, b, c] = await addSubscriptions(db, 3)
    const result = await runCli(['enroll', a!, b!], { DATABASE_URL: db.url })
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout.trim()).toBe('Enrolled 2 of 2.')
    const rows = await enrolled(db)
    expect(rows).toContain(a)
    expect(rows).toContain(b)
    expect(rows).not.toContain(c)
  })

  test('an unknown id among several: the others are enrolled, the summary counts it, and the exit code is 1 naming it', async () => {
    const [a, b] = await addSubscriptions(db, 2)
    const missing = '0d9a1f3e-5b1c-4a7e-9a57-6f3f2c1d9e10'
    const result = await runCli(['enroll', a!, missing, b!], { DATABASE_URL: db.url })
    expect(result.code).toBe(1)
    expect(result.stdout.trim()).toBe('Enrolled 2 of 3 (1 not found).')
    expect(result.stderr).toContain(`No row in subscriptions has id ${missing}; create the subscription before enrolling it. The other 2 ids were enrolled.`)
    const rows = await enrolled(db)
    expect(rows).toContain(a)
    expect(rows).toContain(b)
  })

  test('an unknown id beside ones already enrolled: neither line claims they were enrolled now', async () => {
    const [a, b, c] = await addSubscriptions(db, 3)
    await runCli(['enroll', a!, b!], { DATABASE_URL: db.url })
    const missing = '0d9a1f3e-5b1c-4a7e-9a57-6f3f2c1d9e12'
    const none = await runCli(['enroll', a!, missing], { DATABASE_URL: db.url })
    expect(none.code).toBe(1)
    expect(none.stdout.trim()).toBe('Enrolled 0 of 2 (1 already enrolled, 1 not found).')
    expect(none.stderr).toContain(`No row in subscriptions has id ${missing}; create the subscription before enrolling it. The other id was already enrolled.`)
    const some = await runCli(['enroll', a!, b!, c!, missing], { DATABASE_URL: db.url })
    expect(some.code).toBe(1)
    expect(some.stdout.trim()).toBe('Enrolled 1 of 4 (2 already enrolled, 1 not found).')
    expect(some.stderr).toContain('Of the other 3 ids, 1 was enrolled now and 2 already were.')
    const allAlready = await runCli(['enroll', a!, b!], { DATABASE_URL: db.url })
    expect(allAlready).toMatchObject({ code: 0, stderr: '' })
    expect(allAlready.stdout.trim()).toBe('Enrolled 0 of 2 (2 already enrolled).')
  })

  test('its only id unknown: exit 1 naming it, and no word of other ids', async () => {
    const missing = '0d9a1f3e-5b1c-4a7e-9a57-6f3f2c1d9e11'
    const result = await runCli(['enroll', missing], { DATABASE_URL: db.url })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`No row in subscriptions has id ${missing}; create the subscription before enrolling it.`)
    expect(result.stderr).not.toMatch(/other ids/)
  })

  test('none of --all, ids or --file, or two of them: a usage error (exit 2) that shows the three forms', async () => {
    for (const args of [['enroll'], ['enroll', '--all', '0d9a1f3e-5b1c-4a7e-9a57-6f3f2c1d9e10'], ['enroll', '--all', '--file', 'x.jsonl']]) {
      const result = await runCli(args, { DATABASE_URL: db.url })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain('`enroll --all`, `enroll <id> [<id>…]` or `enroll --file subscriptions.jsonl`')
    }
    // A bad id is refused before anything connects, in the words of the other commands.
    const bad = await runCli(['enroll', 'nope'], { DATABASE_URL: db.url })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('<id> must be a subscription id, a UUID')
    const help = await runCli(['enroll', '--help'], { DATABASE_URL: db.url })
    expect(help.stdout).toMatch(/USAGE .*enroll .*\[IDS\]/)
  })

  test('--file enrols JSON Lines with settings of their own (enrollMany()), a first slot moved from elsewhere too; the same file again changes nothing', async () => {
    const [a, b, c] = await addSubscriptions(db, 3)
    const file = join(await mkdtemp(join(tmpdir(), 'pss-enroll-')), 'subscriptions.jsonl')
    const lines = [
      { subscriptionId: a, timezone: 'Europe/Berlin', runAt: '07:00' },
      { subscriptionId: b, startsAt: '2030-01-06T08:00:00+01:00' },
      {},
      { subscriptionId: c, nextRunAt: '2030-03-01T09:30:00+01:00' },
    ]
    await writeFile(file, lines.map((line) => (Object.keys(line).length ? JSON.stringify(line) : '')).join('\n'))
    const first = await runCli(['enroll', '--file', file], { DATABASE_URL: db.url })
    expect(first).toMatchObject({ code: 0, stderr: '' })
    expect(first.stdout.trim()).toBe('Enrolled 3 of 3: 3 created, 0 updated, 0 unchanged.')
    const { rows } = await db.pool.query(`SELECT timezone, run_at, starts_at FROM subscription_processing WHERE subscription_id = ANY($1) ORDER BY array_position($1, subscription_id)`, [[a, b, c]])
    expect(rows).toEqual([
      { timezone: 'Europe/Berlin', run_at: '07:00', starts_at: null },
      { timezone: null, run_at: null, starts_at: new Date('2030-01-06T07:00:00Z') },
      // Its time of day carried over from its first slot: 09:30 at +01:00, 08:30 in UTC.
      { timezone: null, run_at: '08:30', starts_at: null },
    ])
    const { rows: [moved] } = await db.pool.query(`SELECT next_run_at FROM subscription_processing WHERE subscription_id = $1`, [c])
    expect(moved).toEqual({ next_run_at: new Date('2030-03-01T08:30:00Z') })
    const again = await runCli(['enroll', '--file', file], { DATABASE_URL: db.url })
    expect(again.stdout.trim()).toBe('Enrolled 3 of 3: 0 created, 0 updated, 3 unchanged.')
  })

  test('--file with a bad entry: exit 2 naming its line and setting, and nothing enrolled', async () => {
    const [a, b] = await addSubscriptions(db, 2)
    const dir = await mkdtemp(join(tmpdir(), 'pss-enroll-'))
    const cases: [string, string][] = [
      [`{"subscriptionId":"${a}","runAt":"25:00"}\n{"subscriptionId":"${b}","timezone":"Mars/Olympus"}`, '--file: line 1: runAt: '],
      [`{"subscriptionId":"${a}","runAt":"25:00"}\n{"subscriptionId":"${b}","timezone":"Mars/Olympus"}`, 'Also line 2: timezone: unknown time zone'],
      [`{"subscriptionId":"${a}"}\n\n{"subscriptionId":"${b}","endsAt":"2030-02-30T00:00:00Z"}`, '--file: line 3: endsAt must be an ISO 8601 instant'],
      [`[{"subscriptionId":"${a}"}, 7]`, '--file: entry 2 is not an object'],
      [`{"subscriptionId":"${a}"`, '--file: line 1 is not JSON'],
    ]
    for (const [i, [text, message]] of cases.entries()) {
      const file = join(dir, `bad-${i}.jsonl`)
      await writeFile(file, text)
      const result = await runCli(['enroll', '--file', file], { DATABASE_URL: db.url })
      expect(result.code, text).toBe(2)
      expect(result.stderr, text).toContain(message)
    }
    const { rows } = await db.pool.query(`SELECT 1 FROM subscription_processing WHERE subscription_id = ANY($1)`, [[a, b]])
    expect(rows).toEqual([])
  })

  test('on a database that was never migrated, status and enroll name the migration step', async () => {
    const bare = await createEmptyDatabase()
    await bare.pool.query(HOST_SUBSCRIPTIONS_DDL)
    for (const args of [['status'], ['enroll', '--all']]) {
      const result = await runCli(args, { DATABASE_URL: bare.url })
      expect(result.code, args.join(' ')).toBe(1)
      expect(result.stderr, args.join(' ')).toMatch(/tables are missing.*pg-subscription-scheduler migrate/)
      expect(result.stderr, args.join(' ')).not.toMatch(/^error: relation/m)
    }
  })
})
