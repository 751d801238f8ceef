/**
 * `show <id>` and `failing`: what an operator reads to find out why subscriptions did or did not
 * run: their state, last error and failed attempts, and what was done to them, in their zone.
 */
import { describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { runCli, SLOW_MS, startWorker } from './support/cli-process.js'
import { createTestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

/** One `run-now` whose worker answers 422 for every due subscription: each fails for good. */
async function failEveryDue(env: { DATABASE_URL: string }): Promise<void> {
  const worker = await startWorker({ reject: true })
  try {
    expect((await runCli(['run-now', '--worker-url', worker.url], env)).code).toBe(3)
  } finally {
    await worker.close()
  }
}

describe('show <id>', { timeout: SLOW_MS }, () => {
  test('a failed then paused subscription: its error, its failed attempt and its history, in its zone', async () => {
    const db = await createTestDatabase()
    const [id] = await seedSubscriptions(db.pool, { count: 1, nextRunInSeconds: -60, timezone: 'Asia/Tokyo' })
    const env = { DATABASE_URL: db.url }
    await failEveryDue(env)
    expect((await runCli(['pause', id!], env)).code).toBe(0)
    const shown = await runCli(['show', id!], env)
    expect(shown.code, shown.stderr).toBe(0)
    const lines = shown.stdout.split('\n')
    expect(lines[0]).toMatch(new RegExp(`^Subscription ${id} \\(daily, user [0-9a-f-]{36}\\)$`))
    expect(shown.stdout).toMatch(/^ {2}status {7}paused$/m)
    // Paused until resumed, it has no run ahead (as `upcoming` says); its stored slot is the failed one.
    expect(shown.stdout).toMatch(/^ {2}next run {5}none: it is paused until resumed \(its slot was \S+\+09:00 \(Asia\/Tokyo\)\)$/m)
    expect(shown.stdout).toMatch(/^ {2}zone {9}Asia\/Tokyo \(its own zone\)$/m)
    expect(shown.stdout).toMatch(/^ {2}paused {7}paused by an operator/m)
    expect(shown.stdout).toMatch(/^ {2}failed {7}1 run in a row$/m)
    expect(shown.stdout).toMatch(/^ {2}last error {3}.*no payment method on file/m)
    const attempt = lines.indexOf('Recent failed attempts, newest first:')
    expect(attempt).toBeGreaterThan(0)
    expect(lines[attempt + 1]).toMatch(/^ {2}\S+\+09:00 \(Asia\/Tokyo\) {2}slot \S+\+09:00 \(Asia\/Tokyo\), attempt 1, final \(HTTP 422\): .*no payment method on file/)
    const history = lines.indexOf('History, newest first:')
    expect(lines[history + 1]).toMatch(/^ {2}\S+\+09:00 \(Asia\/Tokyo\) {2}paused/)
  })

  test("a frequency that is no cadence of the workers' is said, with what it means: runs daily, or is not called", async () => {
    const db = await createTestDatabase()
    const [typo] = await seedSubscriptions(db.pool, { count: 1, frequency: 'Weekly' })
    const env = { DATABASE_URL: db.url }
    // A trial saw "(Weekly, user …)" and a next run tomorrow, with nothing saying why daily.
    for (const unknownFrequency of ['daily', 'fail'] as const) {
      const workers = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger: captureLogger(), migrate: false, work: false, unknownFrequency })
      await workers.start()
      await workers.stop()
      const shown = await runCli(['show', typo!], env)
      expect(shown.code, shown.stderr).toBe(0)
      const then = unknownFrequency === 'daily' ? 'it runs daily, with a warning' : "it is not called \\(unknownFrequency 'fail'\\)"
      expect(shown.stdout.split('\n')[1]).toMatch(new RegExp(`^ {2}frequency {4}"Weekly" is no cadence: ${then}; set subscriptions\\.frequency to one of 'daily', 'weekly', `))
    }
    const [daily] = await seedSubscriptions(db.pool, { count: 1 })
    expect((await runCli(['show', daily!], env)).stdout).not.toMatch(/^ {2}frequency /m)
  })

  test('--json is getSubscription() as JSON; --errors 0 lists no attempts; an unknown id exits 1', async () => {
    const db = await createTestDatabase()
    const [id] = await seedSubscriptions(db.pool, { count: 1, nextRunInSeconds: -60 })
    const env = { DATABASE_URL: db.url }
    await failEveryDue(env)
    const json = await runCli(['show', id!, '--json'], env)
    expect(json.code, json.stderr).toBe(0)
    const details = JSON.parse(json.stdout) as { subscriptionId: string; status: string; recentErrors: { attempt: number; final: boolean }[] }
    expect(details.subscriptionId).toBe(id)
    expect(details.status).toBe('failed')
    expect(details.recentErrors).toMatchObject([{ attempt: 1, final: true }])
    const quiet = await runCli(['show', id!, '--errors', '0'], env)
    expect(quiet.code, quiet.stderr).toBe(0)
    expect(quiet.stdout).toMatch(/^ {2}last error /m)
    expect(quiet.stdout).not.toContain('Recent failed attempts')
    const unknown = await runCli(['show', '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9'], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9')
    expect((await runCli(['show', id!, '--errors', '-1'], env)).code).toBe(2)
    // --history asks for more of the history than the last 20 entries, or none.
    for (let i = 0; i < 11; i++) {
      await db.pool.query(`INSERT INTO subscription_scheduler.history (subscription_id, kind, detail) VALUES ($1, 'paused', $2)`, [id, `entry ${i}`])
    }
    const long = JSON.parse((await runCli(['show', id!, '--json', '--history', '1000'], env)).stdout) as { history: unknown[] }
    expect(long.history).toHaveLength(11)
    const none = JSON.parse((await runCli(['show', id!, '--json', '--history', '0'], env)).stdout) as { history: unknown[] }
    expect(none.history).toEqual([])
  })
})

describe('failing', { timeout: SLOW_MS }, () => {
  test('lists the subscriptions whose last attempt failed, in their zone, and how to retry them', async () => {
    const db = await createTestDatabase()
    const env = { DATABASE_URL: db.url }
    const none = await runCli(['failing'], env)
    expect(none.code, none.stderr).toBe(0)
    expect(none.stdout.trim()).toBe("No subscription's last attempt failed.")
    const [tokyo] = await seedSubscriptions(db.pool, { count: 1, nextRunInSeconds: -60, timezone: 'Asia/Tokyo' })
    const [plain] = await seedSubscriptions(db.pool, { count: 1, nextRunInSeconds: -60 })
    await failEveryDue(env)
    const listed = await runCli(['failing'], env)
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toMatch(/^Subscriptions whose last attempt failed, most recent first:$/m)
    // When a sweep tries the slot again: its delay (5 minutes after its first failed run), in its zone.
    expect(listed.stdout).toMatch(new RegExp(`^ {2}${tokyo}  failed, tried again by the first sweep after \\S+\\+09:00 \\(Asia/Tokyo\\), 1 run in a row, slot \\S+\\+09:00 \\(Asia/Tokyo\\): .*no payment method on file`, 'm'))
    expect(listed.stdout).toMatch(new RegExp(`^ {2}${plain}  failed, tried again by the first sweep after \\S+Z \\(UTC\\), 1 run in a row, slot \\S+Z \\(UTC\\): `, 'm'))
    expect(listed.stdout).toMatch(/^retry-failed \[<id>…\] retries them now, those paused after failing too, not those paused by hand \(a sweep retries only the failed ones, each once its delay has passed\)/m)
    const shown = await runCli(['show', tokyo!], env)
    expect(shown.stdout).toMatch(new RegExp(`^ {2}retried {6}by the first sweep after \\S+\\+09:00 \\(Asia/Tokyo\\) \\(its delay after failing; retry-failed ${tokyo} retries it now\\)$`, 'm'))
    const one = await runCli(['failing', '--limit', '1'], env)
    expect(one.stdout).toMatch(/most recent first \(the 1 most recent; --limit lists more\):/)
    expect(one.stdout.split('\n').filter((l) => /^ {2}[0-9a-f-]{36} /.test(l))).toHaveLength(1)
    const json = JSON.parse((await runCli(['failing', '--json'], env)).stdout) as { subscriptionId: string }[]
    expect(json.map((f) => f.subscriptionId).sort()).toEqual([tokyo, plain].sort())
    expect((await runCli(['failing', '--limit', '0'], env)).code).toBe(2)
    // Paused by hand, nothing retries it until it is resumed: not said to be retrying.
    expect((await runCli(['pause', plain!], env)).code).toBe(0)
    const paused = await runCli(['failing'], env)
    expect(paused.stdout).toMatch(new RegExp(`^ {2}${plain}  paused by hand, not retried until resumed \\(resume ${plain}\\), 1 run in a row, `, 'm'))
    // A row the MVP left failed, adopted: no run of the scheduler's failed, and it has no slot yet.
    await db.pool.query(`UPDATE subscription_processing SET status = 'failed', error = 'failed under the MVP', consecutive_failures = 0, scheduled_for = NULL, retry_at = NULL WHERE subscription_id = $1`, [tokyo])
    const adopted = await runCli(['failing'], env)
    expect(adopted.stdout).toMatch(new RegExp(`^ {2}${tokyo}  failed, tried again by the next sweep: failed under the MVP$`, 'm'))
  })
})

describe('text from outside', { timeout: SLOW_MS }, () => {
  test("a worker's error and a host's frequency that hold line feeds and escape sequences neither forge a line nor reach the terminal", async () => {
    const db = await createTestDatabase()
    const forged = 'declined "x\n[info] Run 42 finished: all 20 successful.\n\u001b[2J\u001b[31mRED\u0007"'
    const [id] = await seedSubscriptions(db.pool, { count: 1, nextRunInSeconds: -60, frequency: 'daily\n[error] forged \u001b]0;title\u0007' })
    const env = { DATABASE_URL: db.url }
    const worker = await startWorker({ reject: true, rejectedWith: forged })
    let ran
    try {
      ran = await runCli(['run-now', '--worker-url', worker.url], env)
    } finally {
      await worker.close()
    }
    expect(ran.code, ran.stderr).toBe(3)
    const outputs = [ran, await runCli(['failing'], env), await runCli(['show', id!], env), await runCli(['list', '--status', 'failed'], env)]
    for (const { stdout, stderr } of outputs) {
      for (const text of [stdout, stderr]) {
        // Nothing a terminal acts on, and no line that the data started.
        expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
        expect(text).not.toMatch(/^(\[info\] Run 42|\[error\] forged)/m)
      }
    }
    // Said, escaped, where each is read: the run's log line, its summary, failing, show and list.
    const escapedError = 'declined \\"x\\n[info] Run 42 finished: all 20 successful.\\n\\u001b[2J\\u001b[31mRED\\u0007\\"'
    expect(ran.stderr).toContain(escapedError)
    expect(ran.stdout).toContain(escapedError)
    expect(outputs[1]!.stdout).toContain(escapedError)
    expect(outputs[2]!.stdout).toContain(escapedError)
    expect(outputs[2]!.stdout.split('\n')[0]).toBe(`Subscription ${id} (daily\\n[error] forged \\u001b]0;title\\u0007, user ${outputs[3]!.stdout.match(/user ([0-9a-f-]{36})/)![1]})`)
    expect(outputs[3]!.stdout).toContain(`daily\\n[error] forged \\u001b]0;title\\u0007, user `)
  })
})

describe('list', { timeout: SLOW_MS }, () => {
  test('lists the subscriptions of a status or of one user, in id order, and the flag for the next page', async () => {
    const db = await createTestDatabase()
    const env = { DATABASE_URL: db.url }
    const paused = await seedSubscriptions(db.pool, { count: 3, status: 'paused', timezone: 'Asia/Tokyo', nextRunInSeconds: 3600 })
    await seedSubscriptions(db.pool, { count: 2 })
    const sorted = [...paused].sort()
    const listed = await runCli(['list', '--status', 'paused', '--limit', '2'], env)
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toMatch(/^Subscriptions \(paused\), in id order:$/m)
    expect(listed.stdout).toMatch(new RegExp(`^ {2}${sorted[0]}  paused, daily, user [0-9a-f-]{36}, next \\S+\\+09:00 \\(Asia/Tokyo\\)$`, 'm'))
    expect(listed.stdout.split('\n').filter((l) => /^ {2}[0-9a-f-]{36} /.test(l)).map((l) => l.trim().slice(0, 36))).toEqual(sorted.slice(0, 2))
    expect(listed.stdout).toContain(`--after ${sorted[1]} lists the next 2`)
    const next = await runCli(['list', '--status', 'paused', '--after', sorted[1]!], env)
    expect(next.stdout.split('\n').filter((l) => /^ {2}[0-9a-f-]{36} /.test(l)).map((l) => l.trim().slice(0, 36))).toEqual(sorted.slice(2))
    const { rows } = await db.pool.query<{ user_id: string }>(`SELECT user_id::text FROM subscriptions WHERE id = $1`, [paused[0]])
    const json = JSON.parse((await runCli(['list', '--user', rows[0]!.user_id, '--json'], env)).stdout) as { subscriptionId: string }[]
    expect(json.map((s) => s.subscriptionId)).toEqual([paused[0]])
    expect((await runCli(['list', '--status', 'ended'], env)).stdout.trim()).toBe('No subscription (ended).')
    const bad = await runCli(['list', '--status', 'sleeping'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('pending, queued, processing, completed, failed, paused, ended, inactive')
    // The flag the user typed, not listSubscriptions()'s option.
    expect(bad.stderr).toMatch(/^error: --status: expected one of /m)
    const badAfter = await runCli(['list', '--after', 'nope'], env)
    expect([badAfter.code, badAfter.stderr]).toEqual([2, expect.stringMatching(/^error: --after: expected a UUID.*got "nope"\.$/m)])
    expect(badAfter.stderr).not.toMatch(/Invalid option/)
  })
})
