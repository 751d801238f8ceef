/**
 * The CLI follows the schedule settings its workers published: a scheduler started in
 * Europe/Berlin at 07:00 with a host cadence `workdays` publishes them, and `upcoming`,
 * `reschedule` and `run-now`, given no flag and no environment, compute working days at the
 * workers' time and print them in the workers' zone. SUBSCRIPTION_TIMEZONE and --timezone still
 * win, and say that they differ. Child processes, as users run them; a real scheduler in this
 * process.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler } from '../src/index.js'
import { parseIsoInstant } from '../src/schedule/iso-instant.js'
import { configureLimits } from '../src/process/configure-limits.js'
import { captureLogger } from '../src/testing.js'
import { finished, runCli, SLOW_MS, startCli, startWorker } from './support/cli-process.js'
import { createEmptyDatabase, createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { HOST_SUBSCRIPTIONS_DDL } from './support/host-schema.js'
import { pollUntil } from './support/reliability-support.js'

const WORKERS = {
  timezone: 'Europe/Berlin',
  runAt: '07:00',
  frequencies: { workdays: { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] } },
  // Not the default (3 retries from 30 s): a one-off run that followed the default would wait minutes.
  retry: { limit: 1, delaySeconds: 1, maxDelaySeconds: 1, failedSlotDelaySeconds: 0, failedSlotMaxDelaySeconds: 0 },
  // Not the default either: a one-off run that followed the default would call a misspelt cadence daily.
  unknownFrequency: 'fail',
} satisfies SchedulerOptions
const WORKING_DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri']

let db: TestDatabase
let http: Awaited<ReturnType<typeof startWorker>>
/** The workers' scheduler, started: it publishes WORKERS. */
let scheduling: SubscriptionScheduler
/** The same settings, never started: what the library itself computes. */
let library: SubscriptionScheduler
let env: Record<string, string>

beforeAll(async () => {
  db = await createTestDatabase()
  http = await startWorker()
  // No sweep fires during the test: the rows change only through the commands.
  scheduling = createSubscriptionScheduler(db.pool, { ...WORKERS, workerUrl: http.url, cron: '0 0 1 1 *', logger: captureLogger(), pollingIntervalSeconds: 0.5 })
  await scheduling.start()
  library = createSubscriptionScheduler(db.pool, { ...WORKERS, logger: captureLogger(), migrate: false })
  // No SUBSCRIPTION_* variable: the child sees only DATABASE_URL.
  env = { DATABASE_URL: db.url }
})

afterAll(async () => {
  await scheduling?.stop({ timeoutMs: 2000 })
  await http?.close()
})

/** A 'workdays' subscription; with `startsAt`, its first slot is computed (by the library) at once. */
async function workdays(settings: Parameters<SubscriptionScheduler['enroll']>[1] = {}): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'workdays') RETURNING id`)
  await library.enroll(rows[0]!.id, settings)
  return rows[0]!.id
}

const inAnHour = () => ({ startsAt: new Date(Date.now() + 3_600_000) })

/** `Mon 07:00`: the weekday and wall time of an instant in a zone. */
function wallTime(date: Date, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  )
  return `${parts.weekday} ${parts.hour}:${parts.minute}`
}

const onWorkingDaysAt = (dates: Date[], time: string, zone: string) =>
  dates.map((d) => wallTime(d, zone)).filter((shown) => !WORKING_DAYS.some((day) => shown === `${day} ${time}`))

/** The instants of the indented `<instant> (<zone>)` lines, each checked to name `zone`. */
function printedTimes(stdout: string, zone: string): Date[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => {
      const match = /^ {2}(\S+) \((.+)\)$/.exec(line)
      expect(match?.[2], line).toBe(zone)
      return parseIsoInstant(match![1])!
    })
}

describe('the settings the workers published', { timeout: SLOW_MS }, () => {
  test('are in subscription_scheduler.settings once the scheduler started', async () => {
    const { rows } = await db.pool.query(`SELECT timezone, run_at, frequencies -> 'workdays' AS workdays, retry FROM subscription_scheduler.settings WHERE scope = 'subscription-scheduler'`)
    expect(rows).toEqual([{ timezone: 'Europe/Berlin', run_at: '07:00', workdays: WORKERS.frequencies.workdays, retry: WORKERS.retry }])
  })

  test('upcoming, with no flag and no environment, lists working days at 07:00 in Europe/Berlin, as the library does', async () => {
    const id = await workdays(inAnHour())
    const [plain, json] = await Promise.all([runCli(['upcoming', id, '--count', '10'], env), runCli(['upcoming', id, '--count', '10', '--json'], env)])
    for (const result of [plain, json]) expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(plain.stdout).toMatch(new RegExp(`^Next 10 runs of ${id} \\(workdays\\), in Europe/Berlin, the scheduler's zone, as its workers published it:$`, 'm'))
    const shown = printedTimes(plain.stdout, 'Europe/Berlin')
    expect(shown).toEqual(await library.upcoming(id, { count: 10 }))
    // Ten slots span two weekends: daily slots, or slots at another time of day, would show here.
    expect(onWorkingDaysAt(shown, '07:00', 'Europe/Berlin')).toEqual([])
    expect(JSON.parse(json.stdout)).toMatchObject({ timezone: 'Europe/Berlin', upcoming: shown.map((d) => d.toISOString()) })
  })

  test('reschedule --run-at 08:00 moves the next run to 08:00 on a working day, shown in Europe/Berlin', async () => {
    const id = await workdays(inAnHour())
    const result = await runCli(['reschedule', id, '--run-at', '08:00'], env)
    expect(result).toMatchObject({ code: 0 })
    // Its only warning: this file's yearly placeholder cron leaves its slots waiting for months.
    for (const line of result.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/slots come at 08:00 Europe\/Berlin, but sweeps run on cron '0 0 1 1 \*'/)
    const row = await library.getSubscription(id)
    expect(row).toMatchObject({ runAt: '08:00', timezone: null })
    const next = /^ {2}next run {5}(\S+) \(Europe\/Berlin\)$/m.exec(result.stdout)
    expect(next, result.stdout).not.toBeNull()
    expect(parseIsoInstant(next![1])).toEqual(row.nextRunAt)
    expect(onWorkingDaysAt([row.nextRunAt!], '08:00', 'Europe/Berlin')).toEqual([])
    expect(result.stdout).toContain("  zone         Europe/Berlin (the scheduler's zone, as its workers published it)")
    // The slots after it follow the same cadence.
    expect(onWorkingDaysAt(await library.upcoming(id, { count: 10 }), '08:00', 'Europe/Berlin')).toEqual([])
  })

  test('SUBSCRIPTION_TIMEZONE still wins, and the command says it differs from the published zone; the cadence stays theirs', async () => {
    const id = await workdays(inAnHour())
    const result = await runCli(['upcoming', id, '--count', '10'], { ...env, SUBSCRIPTION_TIMEZONE: 'America/New_York' })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/SUBSCRIPTION_TIMEZONE sets the scheduler's zone to America\/New_York, but its workers published Europe\/Berlin/)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stdout).toContain("in America/New_York, the scheduler's zone, from SUBSCRIPTION_TIMEZONE:")
    const inNewYork = createSubscriptionScheduler(db.pool, { ...WORKERS, timezone: 'America/New_York', logger: captureLogger(), migrate: false })
    expect(printedTimes(result.stdout, 'America/New_York')).toEqual(await inNewYork.upcoming(id, { count: 10 }))
  })
})

describe('run-now', { timeout: SLOW_MS }, () => {
  test('computes the next run after the one it made with the published settings; --timezone gets the library\'s warning', async () => {
    // Only the command's own instance works the queue: the slot after the run is its computation.
    await scheduling.stop({ timeoutMs: 2000 })
    const id = await workdays() // due now: never processed
    const run = await runCli(['run-now', '--worker-url', http.url], env)
    expect(run.code, run.stderr).toBe(0)
    // It follows the published settings, so it has nothing to warn about (stderr has its progress).
    expect(run.stderr).not.toMatch(/settings|WARN/i)
    expect(http.calls).toContain(id)
    const { nextRunAt } = await library.getSubscription(id)
    expect(nextRunAt!.getTime()).toBeGreaterThan(Date.now())
    expect(onWorkingDaysAt([nextRunAt!], '07:00', 'Europe/Berlin')).toEqual([])

    const differing = await runCli(['run-now', '--worker-url', http.url, '--timezone', 'Asia/Tokyo'], env)
    expect(differing.code, differing.stderr).toBe(0)
    expect(differing.stderr).toContain("differ from those the scheduling instances published: timezone 'Europe/Berlin' → 'Asia/Tokyo'")
    // A one-off run publishes nothing.
    const { rows } = await db.pool.query(`SELECT timezone FROM subscription_scheduler.settings`)
    expect(rows).toEqual([{ timezone: 'Europe/Berlin' }])
  })

  test('with the workers\' autoEnroll false, run-now and a control leave a subscription the host has not enrolled alone', async () => {
    // What workers started with autoEnroll: false publish.
    await db.pool.query(`UPDATE subscription_scheduler.settings SET auto_enroll = false`)
    try {
      const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
      const id = rows[0]!.id
      const [run, pause] = [await runCli(['run-now', '--worker-url', http.url], env), await runCli(['pause', id], env)]
      expect(run.code, run.stderr).toBe(0)
      expect(http.calls).not.toContain(id)
      expect(pause).toMatchObject({ code: 1, stderr: expect.stringContaining(`Subscription ${id} is not enrolled`) })
      expect((await db.pool.query(`SELECT 1 FROM subscription_processing WHERE subscription_id = $1`, [id])).rows).toEqual([])
      expect((await runCli(['status'], env)).stdout).toMatch(/more not enrolled yet: autoEnroll is off: `enroll <id>` or `enroll --all` enrols them\)$/m)
      // Enrolled by a command that follows the default, or the workers' true, it would have been.
      await db.pool.query(`UPDATE subscription_scheduler.settings SET auto_enroll = true`)
      expect(await runCli(['pause', id], env)).toMatchObject({ code: 0 })
      expect(await library.getSubscription(id)).toMatchObject({ status: 'paused' })
    } finally {
      await db.pool.query(`UPDATE subscription_scheduler.settings SET auto_enroll = true`)
    }
  })

  test("with the workers' pauseAfterConsecutiveFailures, run-now's and retry-failed's failures pause a subscription as the workers' would", async () => {
    // Workers started with pauseAfterConsecutiveFailures: 2 published it, then stopped: the CLI's
    // process is the only one to take the runs' jobs.
    const own = await createTestDatabase()
    const rejecting = await startWorker({ reject: true })
    // And failedSlotDelaySeconds: 0, so that the second run-now tries the slot the first failed.
    const workers = createSubscriptionScheduler(own.pool, { workerUrl: rejecting.url, cron: '0 0 1 1 *', logger: captureLogger(), pauseAfterConsecutiveFailures: 2, retry: { failedSlotDelaySeconds: 0 } })
    await workers.start()
    await workers.stop({ timeoutMs: 2000 })
    const { rows } = await own.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
    const id = rows[0]!.id
    const row = async () => (await own.pool.query(`SELECT status, paused_reason, consecutive_failures FROM subscription_processing WHERE subscription_id = $1`, [id])).rows[0]
    const ownEnv = { DATABASE_URL: own.url }
    try {
      for (const failures of [1, 2]) {
        const run = await runCli(['run-now', '--worker-url', rejecting.url], ownEnv)
        expect(run.code, run.stderr).toBe(3)
        expect(await row()).toMatchObject({ consecutive_failures: failures })
        // Its summary says which failed subscription no sweep takes any more, and the way out.
        const paused = new RegExp(`^  ${id}  attempt 1 \\(now paused after failing in a row\\): `, 'm')
        expect(run.stdout).toMatch(failures === 2 ? paused : /^A sweep tries them again once their delay has passed \(retry\.failedSlotDelaySeconds; `failing` says when\), `retry-failed` at once; `status` counts them as failed until then\.$/m)
        if (failures === 2) expect(run.stdout).toMatch(/^A sweep tries them again once their delay has passed \(`failing` says when\), except those paused after failing in a row .*`retry-failed <id>` retries one now/m)
      }
      expect(await row()).toEqual({ status: 'paused', paused_reason: 'failures', consecutive_failures: 2 })
      // Re-driven and failing again, it stays paused after failing, its count not raised.
      const retry = await runCli(['retry-failed', id, '--worker-url', rejecting.url], ownEnv)
      expect(retry.code, retry.stderr).toBe(3)
      expect(await row()).toEqual({ status: 'paused', paused_reason: 'failures', consecutive_failures: 2 })
      expect(rejecting.calls).toEqual([id, id, id])
    } finally {
      await rejecting.close()
    }
  })

  test("run-now's calls are held to the fleet's maxConcurrentCalls, which no flag sets: it says so, and warns of nothing", async () => {
    // The cap an instance of the fleet started with set (one call at a time), and its report,
    // running and held to it.
    await configureLimits(db.pool, 'subscription-scheduler', { maxConcurrentCalls: 1, maxCallsPerSecond: null })
    await db.pool.query(
      `INSERT INTO subscription_scheduler.instances (id, scope, host, pid, version, schedules, works, concurrency, max_concurrent_calls, calls)
       VALUES (gen_random_uuid(), 'subscription-scheduler', 'fleet-1', 1, '0.1.0', false, true, 16, 1, '{"inFlight": 0, "waiting": 0}')`,
    )
    let release!: () => void
    const held = await startWorker({ holdUntil: new Promise<void>((resolve) => (release = resolve)) })
    try {
      await Promise.all([workdays(), workdays(), workdays()]) // due now
      const run = startCli(['run-now', '--worker-url', held.url], env)
      await pollUntil(() => held.calls.length === 1, { timeoutMs: 30_000, what: 'the first call' })
      // The one permit is the CLI's, and the CLI's instance says it is held to the cap.
      const { rows } = await db.pool.query(
        `SELECT (SELECT count(*)::int FROM subscription_scheduler.call_permits WHERE expires_at > now()) AS held,
                (SELECT max_concurrent_calls FROM subscription_scheduler.instances WHERE pid NOT IN ($1, 1) AND stopped_at IS NULL ORDER BY started_at DESC LIMIT 1) AS cap`,
        [process.pid],
      )
      expect(rows[0]).toEqual({ held: 1, cap: 1 })
      expect(held.calls).toHaveLength(1)
      release()
      const result = await finished(run, 60_000)
      expect(result.code, result.stderr).toBe(0)
      expect(held.calls.length).toBeGreaterThanOrEqual(3)
      // Once, before its calls: which limits it took, as no flag shows them.
      expect(result.stderr.split("This run's calls are held to the fleet's call limits: maxConcurrentCalls 1.\n")).toHaveLength(2)
      expect(result.stderr).not.toMatch(/not held to it|changes from/)
      // A run refused makes no calls: nothing is said of limits it would have been held to.
      const paused = await workdays()
      expect((await runCli(['pause', paused], env)).code).toBe(0)
      const refused = await runCli(['run-now', paused, '--worker-url', held.url], env)
      expect(refused.code, refused.stderr).toBe(4)
      expect(refused.stderr).not.toContain('held to')
    } finally {
      release()
      await held.close()
      await db.pool.query(`DELETE FROM subscription_scheduler.call_permits`)
      await db.pool.query(`DELETE FROM subscription_scheduler.instances WHERE host = 'fleet-1'`)
    }
  })

  test("leaves a misspelt cadence uncalled, as the workers' unknownFrequency 'fail' says, and reports it failed", async () => {
    const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'montly') RETURNING id`)
    const id = rows[0]!.id
    const run = await runCli(['run-now', '--worker-url', http.url], env)
    expect(run.code, run.stderr).toBe(3)
    expect(run.stderr).not.toMatch(/settings/i)
    expect(http.calls).not.toContain(id)
    expect((await library.getSubscription(id)).error).toContain(`has frequency "montly", which is no cadence`)
  })

  test('retries a failing call as the workers published (once, after 1 s), not with the default policy, and reports it failed', async () => {
    const down = await startWorker({ unavailable: true })
    try {
      const id = await workdays() // due now
      const run = await runCli(['run-now', '--worker-url', down.url], env)
      expect(run.code, run.stderr).toBe(3) // some subscriptions failed
      expect(run.stderr).not.toMatch(/settings/i)
      expect(run.stderr).toContain('failed (attempt 2, no retry left: the row is failed until the next sweep or retryFailed())' /* the workers' failedSlotDelaySeconds: 0 */)
      // The first call and one retry: the published limit, where the default retries three times from 30 s.
      expect(down.calls.filter((call) => call === id)).toEqual([id, id])
      expect(await library.getSubscription(id)).toMatchObject({ status: 'failed' })
    } finally {
      await down.close()
    }
  })
})

describe('on a database never migrated', { timeout: SLOW_MS }, () => {
  test('a worker started beside them with no --cron or zone joins them: it keeps their cron, zone, time of day and cadences', async () => {
    const before = await db.pool.query(`SELECT timezone, run_at, catch_up, frequencies FROM subscription_scheduler.settings`)
    const worker = startCli(['worker', '--worker-url', http.url, '--shutdown-timeout', '1000'], env)
    try {
      await worker.waitForStdout(/^Worker ready/m, 60_000)
      const { rows: schedules } = await db.pool.query(`SELECT cron, timezone FROM pgboss.schedule WHERE name LIKE '%.sweep'`)
      expect(schedules).toEqual([{ cron: '0 0 1 1 *', timezone: 'Europe/Berlin' }])
      expect((await db.pool.query(`SELECT timezone, run_at, catch_up, frequencies FROM subscription_scheduler.settings`)).rows).toEqual(before.rows)
      expect(worker.stderr()).toMatch(/Following the schedule on this database: cron '0 0 1 1 \*' in Europe\/Berlin; runAt 07:00, catchUp latest, \d+ cadence names; retry limit 1, delay 1–1 s; unknownFrequency 'fail'\./)
      expect(worker.stderr()).not.toMatch(/Replacing/)
    } finally {
      worker.child.kill('SIGTERM')
      await finished(worker, 30_000)
    }
  })

  test('a worker given another --cron says only that it replaces the schedule, not that it follows the one it replaces', async () => {
    const worker = startCli(['worker', '--worker-url', http.url, '--shutdown-timeout', '1000', '--cron', '0 0 2 1 *'], env)
    try {
      await worker.waitForStdout(/^Worker ready/m, 60_000)
      const { rows: schedules } = await db.pool.query(`SELECT cron, timezone FROM pgboss.schedule WHERE name LIKE '%.sweep'`)
      expect(schedules).toEqual([{ cron: '0 0 2 1 *', timezone: 'Europe/Berlin' }])
      expect(worker.stderr()).toMatch(/Replacing the registered sweep schedule '0 0 1 1 \*' \(Europe\/Berlin\) with '0 0 2 1 \*' \(Europe\/Berlin\)/)
      expect(worker.stderr()).not.toMatch(/Following the schedule/)
      // What it does follow, the settings no flag of its sets, it still names.
      expect(worker.stderr()).toMatch(/Following the settings published on this database, which no flag sets: runAt 07:00, catchUp latest/)
    } finally {
      worker.child.kill('SIGTERM')
      await finished(worker, 30_000)
      // The schedule the other tests of this file expect, as the workers registered it.
      await db.pool.query(`UPDATE pgboss.schedule SET cron = '0 0 1 1 *' WHERE name LIKE '%.sweep'`)
    }
  })

  test('settings a newer version published, with a cadence this one cannot read: commands go on without it, and say so', async () => {
    // What a later version with an hourly unit would publish, beside the cadences this one knows.
    const newer = `jsonb_set(frequencies, '{hourly}', '{"every": 1, "unit": "hour"}')`
    await db.pool.query(`UPDATE subscription_scheduler.settings SET frequencies = ${newer}`)
    try {
      const id = await workdays({ startsAt: new Date('2027-03-03T12:00:00Z') })
      const [status, upcoming] = await Promise.all([runCli(['status'], env), runCli(['upcoming', id, '--json'], env)])
      for (const result of [status, upcoming]) {
        expect(result.code).toBe(0)
        expect(result.stderr).toMatch(/cannot read, written by another version \(a newer one, in a rolling deploy\?\): the cadence 'hourly' \(.*"hour" is not a unit.*\)\. This process goes on without them/)
        // Said once, however many times the command reads the settings.
        expect(result.stderr.split('cannot read').length - 1).toBe(1)
      }
      // The cadences it can read are still followed: working days at 07:00 in Berlin.
      const shown = JSON.parse(upcoming.stdout) as { upcoming: string[] }
      for (const at of shown.upcoming) expect(new Date(at).toISOString()).toMatch(/T06:00:00\.000Z$/)

      // A zone only a newer time zone database knows: the command goes on in UTC, saying so.
      await db.pool.query(`UPDATE subscription_scheduler.settings SET timezone = 'Mars/Olympus_Mons'`)
      const inUtc = await runCli(['status'], env)
      expect(inUtc.code).toBe(0)
      expect(inUtc.stderr).toMatch(/the zone "Mars\/Olympus_Mons" \(unknown to this Node's time zone data; the zone given here, or UTC, is used\)/)

      // A scheduling instance publishes over them, and says that it does.
      const logger = captureLogger()
      const replacing = createSubscriptionScheduler(db.pool, { ...WORKERS, workerUrl: http.url, cron: '0 0 1 1 *', logger, migrate: false })
      await replacing.start()
      await replacing.stop({ timeoutMs: 1000 })
      expect(logger.messages('warn')).toContainEqual(expect.stringMatching(/cannot read.*the cadence 'hourly'.*This instance publishes its own settings over them/))
      const { rows } = await db.pool.query(`SELECT timezone, frequencies ? 'hourly' AS hourly FROM subscription_scheduler.settings`)
      expect(rows).toEqual([{ timezone: 'Europe/Berlin', hourly: false }])
    } finally {
      await db.pool.query(`UPDATE subscription_scheduler.settings SET frequencies = frequencies - 'hourly', timezone = 'Europe/Berlin'`)
    }
  })

  test('upcoming names the migration step, as status does', async () => {
    const bare = await createEmptyDatabase()
    await bare.pool.query(HOST_SUBSCRIPTIONS_DDL)
    const result = await runCli(['upcoming', '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9'], { DATABASE_URL: bare.url })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/tables are missing.*pg-subscription-scheduler migrate/)
    expect(result.stderr).not.toMatch(/^error: relation/m)
  })
})
