/**
 * The commands that steer one subscription, as users run them (child processes on a database of
 * this file's own): upcoming, skip, pause, resume and reschedule, each checked against the row
 * it changed; every time printed in the subscription's zone (or the scheduler's), as an instant
 * the flags take back. The clock is the real one: expected slots come from the library itself.
 */
import { PgBoss } from 'pg-boss'
import { beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { isoInZone } from '../src/cli/zoned-time.js'
import { parseIsoInstant } from '../src/schedule/iso-instant.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { runCli, SLOW_MS } from './support/cli-process.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { TEST_DEFAULTS } from './support/schedulers.js'

let db: TestDatabase
let library: SubscriptionScheduler
let env: Record<string, string>

beforeAll(async () => {
  db = await createTestDatabase()
  // Never started: enroll(), upcoming() and getSubscription() need no engine.
  library = createSubscriptionScheduler(db.pool, { logger: captureLogger(), migrate: false })
  env = { DATABASE_URL: db.url }
})

async function subscription(settings: Parameters<SubscriptionScheduler['enroll']>[1] = {}, frequency = 'daily'): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`, [frequency])
  await library.enroll(rows[0]!.id, settings)
  return rows[0]!.id
}

/** The instants of the indented time lines a command printed, each checked to name `zone`. */
function printedTimes(stdout: string, zone: string): Date[] {
  const lines = stdout.split('\n').filter((line) => line.startsWith('  '))
  return lines.map((line) => {
    const match = /^ {2}(\S+) \((.+)\)$/.exec(line)
    expect(match?.[2], line).toBe(zone)
    return parseIsoInstant(match![1])!
  })
}

/** The `<instant> (<zone>)` after `label` in `text`, as an instant. */
function timeAfter(text: string, label: string, zone: string): Date | null {
  const match = new RegExp(`${label}\\s+(\\S+) \\(${zone.replace('/', '\\/')}\\)`).exec(text)
  return match ? parseIsoInstant(match[1]) : null
}

describe('upcoming', { timeout: SLOW_MS }, () => {
  test('prints the next runs in the subscription\'s own zone, each an exact instant; --count and --json', async () => {
    const id = await subscription({ timezone: 'Europe/Berlin', runAt: '07:30' })
    const [plain, counted, json] = await Promise.all([
      runCli(['upcoming', id], env),
      runCli(['upcoming', id, '--count', '2'], env),
      runCli(['upcoming', id, '--count=3', '--json'], env),
    ])
    for (const result of [plain, counted, json]) expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(plain.stdout).toMatch(new RegExp(`^Next 5 runs of ${id} \\(daily\\), in Europe/Berlin, its own zone:$`, 'm'))
    expect(plain.stdout).toMatch(/^ {2}\d{4}-\d\d-\d\dT07:30:00\+0[12]:00 \(Europe\/Berlin\)$/m)
    expect(printedTimes(plain.stdout, 'Europe/Berlin')).toEqual(await library.upcoming(id))
    expect(printedTimes(counted.stdout, 'Europe/Berlin')).toEqual(await library.upcoming(id, { count: 2 }))
    expect(JSON.parse(json.stdout)).toEqual({ subscriptionId: id, timezone: 'Europe/Berlin', upcoming: (await library.upcoming(id, { count: 3 })).map((d) => d.toISOString()) })
  })

  test('a subscription with no zone of its own is shown in SUBSCRIPTION_TIMEZONE, and one paused for good has none', async () => {
    // Enrolled by a host whose scheduler runs in New York, as the CLI is then told to.
    const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
    const id = rows[0]!.id
    await createSubscriptionScheduler(db.pool, { logger: captureLogger(), migrate: false, timezone: 'America/New_York' }).enroll(id, { runAt: '09:00' })
    const shown = await runCli(['upcoming', id, '--count', '1'], { ...env, SUBSCRIPTION_TIMEZONE: 'America/New_York' })
    expect(shown).toMatchObject({ code: 0, stderr: '' })
    expect(shown.stdout).toContain("in America/New_York, the scheduler's zone, from SUBSCRIPTION_TIMEZONE:")
    expect(shown.stdout).toMatch(/^ {2}\d{4}-\d\d-\d\dT09:00:00-0[45]:00 \(America\/New_York\)$/m)

    await library.pause(id)
    const none = await runCli(['upcoming', id], env)
    expect(none).toMatchObject({ code: 0, stdout: `No runs ahead for ${id}: it is paused until resumed.\n` })
  })
})

describe('skip', { timeout: SLOW_MS }, () => {
  test('skips the next run, says which and what comes next, and the row moves on', async () => {
    const id = await subscription({ timezone: 'Asia/Kolkata', runAt: '08:00' })
    const [first, second] = await library.upcoming(id, { count: 2 })
    const result = await runCli(['skip', id], env)
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(timeAfter(result.stdout, 'at', 'Asia/Kolkata')).toEqual(first)
    expect(timeAfter(result.stdout, 'next run', 'Asia/Kolkata')).toEqual(second)
    const row = await library.getSubscription(id)
    expect(row.nextRunAt).toEqual(second)
    expect(row.history[0]).toMatchObject({ kind: 'skipped', slot: first })
  })

  test('--slot, as upcoming prints it, skips that slot once: run again it says it was skipped already; a slot no longer next exits 4 naming the next one', async () => {
    const id = await subscription({ timezone: 'Europe/Berlin', runAt: '09:00' })
    const [first, second] = await library.upcoming(id, { count: 2 })
    const listed = /^\s+(\S+) \(Europe\/Berlin\)$/m.exec((await runCli(['upcoming', id, '--count', '1'], env)).stdout)![1]!
    const once = await runCli(['skip', id, '--slot', listed], env)
    expect(once).toMatchObject({ code: 0, stderr: '' })
    expect([timeAfter(once.stdout, 'at', 'Europe/Berlin'), timeAfter(once.stdout, 'next run', 'Europe/Berlin')]).toEqual([first, second])
    expect(once.stdout).toMatch(/^Skipped the run of /)
    // The same answer, said as what it is: a trial read "Skipped" twice for one skip.
    const again = await runCli(['skip', id, '--slot', listed], env)
    expect(again).toMatchObject({ code: 0, stderr: '', stdout: `The run of ${id} at ${listed} (Europe/Berlin) was already skipped: nothing changed; ${once.stdout.split('; ')[1]}` })
    const sameInUtc = await runCli(['skip', id, '--slot', first!.toISOString().replace('.000Z', 'Z')], env)
    expect(sameInUtc).toMatchObject({ code: 0, stdout: again.stdout })
    const later = new Date(second!.getTime() + 86_400_000).toISOString()
    const refused = await runCli(['skip', id, '--slot', later], env)
    expect(refused).toMatchObject({ code: 4, stdout: '' })
    expect(refused.stderr).toMatch(new RegExp(`^error: ${later.replace(/\./g, '\\.')} is not the next slot of subscription ${id}: its next slot is ${second!.toISOString().replace(/\./g, '\\.')}\\. .*CLI: upcoming <id>`, 'm'))
    expect((await library.getSubscription(id)).history.filter((h) => h.kind === 'skipped')).toHaveLength(1)
  })
})

describe('pause and resume', { timeout: SLOW_MS }, () => {
  test('pause --until pauses until that instant and names the run after it; resume undoes it; resume again changes nothing', async () => {
    const id = await subscription({ timezone: 'Europe/Berlin', runAt: '09:00' })
    const until = new Date(Date.now() + 3 * 86_400_000)
    until.setUTCHours(12, 0, 0, 0)
    const paused = await runCli(['pause', id, '--until', until.toISOString()], env)
    expect(paused).toMatchObject({ code: 0, stderr: '' })
    const row = await library.getSubscription(id)
    expect(row).toMatchObject({ status: 'paused', pausedUntil: until })
    expect(timeAfter(paused.stdout, 'until', 'Europe/Berlin')).toEqual(until)
    expect(timeAfter(paused.stdout, 'then', 'Europe/Berlin')).toEqual(row.nextRunAt)
    expect(row.nextRunAt!.getTime()).toBeGreaterThan(until.getTime())
    const same = await runCli(['pause', id, '--until', until.toISOString()], env)
    expect(same).toMatchObject({ code: 0, stderr: '' })
    expect(same.stdout).toMatch(new RegExp(`^${id} was already paused until .*: nothing changed\\.\\n$`))
    expect(timeAfter(same.stdout, 'until', 'Europe/Berlin')).toEqual(until)

    // A slot already due as the pause begins runs first once it ends: said as such, not as the run after the pause.
    const due = await subscription({ timezone: 'Europe/Berlin', runAt: '09:00' })
    await db.pool.query(`UPDATE subscription_processing SET next_run_at = date_trunc('second', clock_timestamp()) - interval '5 minutes' WHERE subscription_id = $1`, [due])
    const slot = (await library.getSubscription(due)).nextRunAt!
    const held = await runCli(['pause', due, '--until', until.toISOString()], env)
    expect(held).toMatchObject({ code: 0, stderr: '' })
    expect(held.stdout).toMatch(/; then its slot of .*, which the pause holds back, runs first\.\n$/)
    expect(timeAfter(held.stdout, 'slot of', 'Europe/Berlin')).toEqual(slot)
    expect(await library.getSubscription(due)).toMatchObject({ status: 'paused', nextRunAt: slot })

    const resumed = await runCli(['resume', id], env)
    expect(resumed).toMatchObject({ code: 0, stderr: '' })
    expect(resumed.stdout).toMatch(new RegExp(`^Resumed ${id}: it runs next at `))
    expect(await library.getSubscription(id)).toMatchObject({ status: 'pending', pausedUntil: null })
    const again = await runCli(['resume', id], env)
    expect(again.stdout).toBe(`${id} was not paused (status pending); nothing changed.\n`)
    // --forgive is resume()'s { forgive: true }, with the history entry's note.
    await library.pause(id)
    const forgiving = await runCli(['resume', id, '--forgive', '--note', 'forgiven'], env)
    expect(forgiving).toMatchObject({ code: 0, stderr: '' })
    expect((await library.getSubscription(id)).history[0]).toMatchObject({ kind: 'resumed', note: 'forgiven' })
  })

  test('on a subscription the host just added (no sweep since): pause and resume enrol it first, and say so', async () => {
    const insert = async () => (await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)).rows[0]!.id
    const [paused, resumed] = await Promise.all([insert(), insert()])
    expect(await runCli(['pause', paused], env)).toMatchObject({ code: 0, stderr: '' })
    expect(await library.getSubscription(paused)).toMatchObject({ status: 'paused' })
    const result = await runCli(['resume', resumed], env)
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: `${resumed} was not enrolled yet: it is now, and was not paused; it runs at the next sweep.\n` })
    expect(await library.getSubscription(resumed)).toMatchObject({ status: 'pending', nextRunAt: null })
  })

  test('resume on a host whose clock is an hour ahead says when the run comes by the database\'s clock', async () => {
    const id = await subscription()
    await db.pool.query(`UPDATE subscription_processing SET next_run_at = date_trunc('second', clock_timestamp()) + interval '40 minutes' WHERE subscription_id = $1`, [id])
    await library.pause(id)
    const skewed = { ...env, NODE_OPTIONS: `--import=${new URL('./support/host-clock-skew.mjs', import.meta.url).href}`, PSS_TEST_CLOCK_SKEW_MS: String(3_600_000) }
    const resumed = await runCli(['resume', id], skewed)
    expect(resumed).toMatchObject({ code: 0 })
    // Forty minutes away by the database's clock, though twenty past by the host's.
    expect(resumed.stdout).toMatch(new RegExp(`^Resumed ${id}: it runs next at `))
    expect(resumed.stderr).toMatch(/This host's clock is (3599|360\d)\.\d s ahead of the database server's/)
  })

  test('pause without --until pauses until resumed', async () => {
    const id = await subscription()
    const paused = await runCli(['pause', id], env)
    expect(paused).toMatchObject({ code: 0, stderr: '' })
    expect(paused.stdout).toContain(`Paused ${id} until resumed`)
    expect(await library.getSubscription(id)).toMatchObject({ status: 'paused', pausedReason: 'manual', pausedUntil: null })
    // Paused that way already: said so, as resume and pause-calls do (a trial read "Paused" twice, its second note gone).
    const again = await runCli(['pause', id, '--note', 'second'], env)
    expect(again).toMatchObject({ code: 0, stderr: '', stdout: `${id} was already paused until resumed: nothing changed, and this note was not kept.\n` })
    expect((await library.getSubscription(id)).history.filter((h) => h.kind === 'paused')).toHaveLength(1)
  })
})

describe('reschedule', { timeout: SLOW_MS }, () => {
  test('sets the settings given and prints the new schedule in the new zone; none clears a setting', async () => {
    const id = await subscription({ runAt: '09:00' })
    const ends = '2099-06-01T00:00:00+02:00'
    const changed = await runCli(['reschedule', id, '--run-at', '06:15', '--timezone', 'Asia/Tokyo', '--ends-at', ends], env)
    expect(changed).toMatchObject({ code: 0, stderr: '' })
    const row = await library.getSubscription(id)
    expect(row).toMatchObject({ runAt: '06:15', timezone: 'Asia/Tokyo', endsAt: parseIsoInstant(ends) })
    expect(changed.stdout).toMatch(/^ {2}next run {5}\d{4}-\d\d-\d\dT06:15:00\+09:00 \(Asia\/Tokyo\)$/m)
    expect(timeAfter(changed.stdout, 'next run', 'Asia/Tokyo')).toEqual(row.nextRunAt)
    expect(changed.stdout).toContain('  ends         2099-06-01T07:00:00+09:00 (Asia/Tokyo)')
    expect(row.history[0]).toMatchObject({ kind: 'rescheduled' })

    // 06:15 in Tokyo is past for half the day (21:15 to 09:00 UTC): today's slot was then due at
    // once, and a reschedule from it leaves that slot behind, and says so.
    const dueAlready = row.nextRunAt!.getTime() <= Date.now()
    const cleared = await runCli(['reschedule', id, '--ends-at', 'none', '--timezone', 'NONE'], env)
    expect(cleared.code).toBe(0)
    if (dueAlready) expect(cleared.stderr).toMatch(/^\[warn\] .*its due slot of .* left behind, not called/)
    else expect(cleared.stderr).toBe('')
    expect(await library.getSubscription(id)).toMatchObject({ runAt: '06:15', timezone: null, endsAt: null })
    expect(cleared.stdout).toMatch(/^ {2}next run {5}\d{4}-\d\d-\d\dT06:15:00Z \(UTC\)$/m)
    expect(cleared.stdout).not.toMatch(/^ {2}ends /m)
    expect(cleared.stdout).toMatch(/^ {2}changed {6}.*endsAt cleared/m)
  })

  test("prints what it changed, as the history says it, a skip it lifted among it", async () => {
    const start = new Date(Date.now() + 14 * 86_400_000)
    start.setUTCHours(0, 0, 0, 0)
    const id = await subscription({ runAt: '09:00', startsAt: start }, 'weekly')
    const { skipped } = await library.skipNext(id)
    const lifted = await runCli(['reschedule', id, '--starts-at', 'none'], env)
    expect(lifted).toMatchObject({ code: 0, stderr: '' })
    // In the scheduler's zone (UTC here), as the lines above it.
    expect(lifted.stdout).toContain(`  changed      startsAt cleared; the skip of ${isoInZone(skipped!, 'UTC')} no longer applies`)
    const later = await runCli(['reschedule', id, '--run-at', '10:00'], env)
    expect(later.stdout).toMatch(/^ {2}changed {6}runAt 10:00$/m)
  })
})

describe('show', { timeout: SLOW_MS }, () => {
  test("writes the instants its history lines name in the subscription's zone, as the lines around them", async () => {
    const id = await subscription({ timezone: 'Asia/Kolkata', runAt: '09:00' })
    const { skipped, nextRunAt: next } = await library.skipNext(id)
    const until = new Date(Date.now() + 30 * 86_400_000)
    await library.pause(id, { until })
    const shown = await runCli(['show', id], env)
    expect(shown).toMatchObject({ code: 0, stderr: '' })
    expect(shown.stdout).toContain(`  skipped ${isoInZone(skipped!, 'Asia/Kolkata')} (Asia/Kolkata): next slot ${isoInZone(next!, 'Asia/Kolkata')}\n`)
    expect(shown.stdout).toMatch(new RegExp(`^ {2}\\S+ \\(Asia/Kolkata\\) {2}paused \\S+ \\(Asia/Kolkata\\): until ${isoInZone(until, 'Asia/Kolkata').replace('+', '\\+')}$`, 'm'))
    // No instant is left in UTC, in the history or anywhere else.
    expect(shown.stdout).not.toMatch(/\d\dZ\b/)
  })
})

describe('refusals the database decides', { timeout: SLOW_MS }, () => {
  test('each names its flag and exits 2, says the id is unknown and exits 1, or that a call is in flight and exits 4; the row is left as it was', async () => {
    const id = await subscription({ runAt: '09:00' })
    const before = await library.getSubscription(id)
    // A call queued: a job pg-boss will run owns the row.
    const busy = await subscription({ runAt: '09:00' })
    const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false, migrate: false })
    await boss.start()
    await boss.createQueue('subscription-scheduler.process')
    const job = await boss.send('subscription-scheduler.process', {}, { startAfter: 3600 })
    await boss.stop({ graceful: false })
    await db.pool.query(`UPDATE subscription_processing SET status = 'queued', job_id = $2, lease_expires_at = now() + interval '1 hour' WHERE subscription_id = $1`, [busy, job])
    const cases: [string[], number, RegExp][] = [
      [['upcoming', id, '--count', '1001'], 2, /^error: --count: expected a whole number from 1 to 1000, got 1001\.$/m],
      [['pause', id, '--until', '2020-01-01T00:00:00Z'], 2, /^error: --until: 2020-01-01T00:00:00\.000Z is not in the future; pause without --until \(or resume\) instead\.$/m],
      [['reschedule', id, '--run-at', '7am'], 2, /^error: --run-at: "7am" is not a time of day; expected 24-hour 'HH:MM' \(or 'H:MM'\), e\.g\. '07:00', or none for the scheduler's runAt\.$/m],
      [['reschedule', id, '--timezone', 'Mars/Olympus'], 2, /^error: --timezone: unknown time zone "Mars\/Olympus"/m],
      [['reschedule', id, '--starts-at', '2099-04-02T00:00:00Z', '--ends-at', '2099-04-01T00:00:00Z'], 2, /^error: --ends-at: 2099-04-01T00:00:00\.000Z is before startsAt/m],
      [['skip', '00000000-0000-4000-8000-000000000000'], 1, /^error: Subscription 00000000-0000-4000-8000-000000000000 is not enrolled/m],
      [['resume', '00000000-0000-4000-8000-000000000000'], 1, /is not enrolled/],
      [['skip', id, '--slot', 'tomorrow'], 2, /^error: --slot: expected a date and time with its zone/m],
      [['skip', busy], 4, /^error: Cannot skip the next slot of subscription .* while a call for it is queued or in flight/m],
      [['reschedule', busy, '--run-at', '10:00'], 4, /^error: Cannot reschedule subscription .* while a call for it is queued or in flight/m],
    ]
    for (let i = 0; i < cases.length; i += 3) {
      const batch = cases.slice(i, i + 3)
      const results = await Promise.all(batch.map(([args]) => runCli(args, env)))
      for (const [j, [args, code, message]] of batch.entries()) {
        expect({ args, code: results[j]!.code, stdout: results[j]!.stdout }).toEqual({ args, code, stdout: '' })
        expect(results[j]!.stderr, args.join(' ')).toMatch(message)
        expect(results[j]!.stderr).not.toMatch(/caused by|^\s+at /m)
      }
    }
    expect(await library.getSubscription(id)).toEqual(before)
  })
})

describe('--note', { timeout: SLOW_MS }, () => {
  test('pause, skip, reschedule and resume keep it with their history entry, which show quotes under it; a blank or too long one exits 2 naming --note', async () => {
    const id = await subscription({ timezone: 'Asia/Kolkata', runAt: '09:00' })
    for (const args of [
      ['pause', id, '--note', 'customer asked, ticket #4411'],
      ['resume', id, '--note', 'card "updated"'],
      ['skip', id, '--note', 'holiday'],
      ['reschedule', id, '--run-at', '07:30', '--note', 'before the batch'],
    ]) {
      const result = await runCli(args, env)
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' })
    }
    expect((await library.getSubscription(id)).history.map((h) => h.note).reverse()).toEqual(['customer asked, ticket #4411', 'card "updated"', 'holiday', 'before the batch'])
    const shown = await runCli(['show', id], env)
    expect(shown.stdout).toMatch(/^ {2}\S+ \(Asia\/Kolkata\) {2}paused: until resumed\n {4}note: "customer asked, ticket #4411"$/m)
    expect(shown.stdout).toContain('    note: "card \\"updated\\""')

    const blank = await runCli(['pause', id, '--note', '  '], env)
    expect(blank).toMatchObject({ code: 2 })
    expect(blank.stderr).toMatch(/--note is empty/)
    const long = await runCli(['pause', id, '--note', 'x'.repeat(501)], env)
    expect(long).toMatchObject({ code: 2 })
    expect(long.stderr).toMatch(/--note: expected text of 1 to 500 characters \(who asked, a ticket, why\), got 501 characters/)
    expect((await library.getSubscription(id)).status).not.toBe('paused')
  })
})

describe('pause-calls and resume-calls', { timeout: SLOW_MS }, () => {
  test('pause every call with a note; status says so first, run-now is refused (exit 4); resume-calls lifts it', async () => {
    const paused = await runCli(['pause-calls', '--note', 'worker outage, incident 42'], env)
    expect(paused).toMatchObject({ code: 0, stderr: '' })
    expect(paused.stdout).toMatch(/^Calls are paused on every instance since .+ \(worker outage, incident 42\): no sweep claims/)
    expect((await runCli(['status'], env)).stdout.split('\n')[0]).toMatch(/^CALLS PAUSED {4}on every instance since .+ \(worker outage, incident 42\)/)
    const refused = await runCli(['run-now', '--worker-url', 'http://127.0.0.1:9'], env)
    expect(refused.code).toBe(4)
    expect(refused.stderr).toContain('Cannot run now: calls are paused fleet-wide since')
    expect((await runCli(['pause-calls', 'some-id'], env)).code).toBe(2)
    const again = await runCli(['pause-calls', '--note', 'second operator'], env)
    expect(again.stdout).toMatch(/^Calls were already paused since .+ \(worker outage, incident 42\): nothing changed, and this note was not kept\.$/m)

    const resumed = await runCli(['resume-calls'], env)
    expect(resumed).toMatchObject({ code: 0, stderr: '' })
    expect(resumed.stdout).toMatch(/^Calls resumed \(paused since .+, worker outage, incident 42\): the next sweep calls what fell due meanwhile \(`run-now` sweeps at once\)\.$/m)
    expect((await runCli(['resume-calls'], env)).stdout.trim()).toBe('Calls were not paused; nothing changed.')
    expect((await runCli(['status'], env)).stdout).not.toMatch(/CALLS PAUSED/)
  })

  test("without the instances' queue prefix, they are refused (exit 2), naming the prefixes in use: a pause would hold no instance", async () => {
    // A trial's pause-calls, its SUBSCRIPTION_QUEUE_PREFIX left out, said "Calls are paused on every
    // instance" while its fleet, under the prefix 'billing', went on calling the worker.
    const other = await createTestDatabase()
    const billing = createSubscriptionScheduler(other.pool, { ...TEST_DEFAULTS, queuePrefix: 'billing', workerClient: createFakeWorkerClient(), logger: captureLogger() })
    await billing.start()
    await billing.stop()
    const wrong = { DATABASE_URL: other.url }
    for (const command of ['pause-calls', 'resume-calls']) {
      const refused = await runCli([command], wrong)
      expect(refused).toMatchObject({ code: 2, stdout: '' })
      expect(refused.stderr).toContain(`No scheduler has used queue prefix 'subscription-scheduler' on this database, and ${command} acts on that prefix's instances only; instances here have used 'billing'. Set SUBSCRIPTION_QUEUE_PREFIX`)
    }
    expect((await other.pool.query('SELECT scope FROM subscription_scheduler.calls_pause')).rows).toEqual([])
    // status says where the instances are, not only that none reported.
    expect((await runCli(['status'], wrong)).stdout).toMatch(/^Instances {7}none under this queue prefix; instances here have used 'billing': set SUBSCRIPTION_QUEUE_PREFIX/m)
    expect(JSON.parse((await runCli(['status', '--json'], wrong)).stdout)).toMatchObject({ instances: [], otherQueuePrefixes: ['billing'] })
    const right = { ...wrong, SUBSCRIPTION_QUEUE_PREFIX: 'billing' }
    expect((await runCli(['pause-calls'], right)).stdout).toMatch(/^Calls are paused on every instance since/)
    expect((await other.pool.query('SELECT scope FROM subscription_scheduler.calls_pause')).rows).toEqual([{ scope: 'billing' }])
    expect((await runCli(['resume-calls'], right)).stdout).toMatch(/^Calls resumed/)
    expect((await runCli(['status'], right)).stdout).toMatch(/^Instances {7}0 running, 1 stopped in the last day$/m)
  })
})
