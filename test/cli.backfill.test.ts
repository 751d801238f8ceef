/**
 * `backfill <id> --from --to`, as users run it: a child process calling a real local HTTP worker
 * for every past slot of one subscription in the range, with a summary and exit 3 when a slot
 * failed (its time printed in the subscription's zone); `--no-wait` only starts the run, which a
 * running scheduler then works. Bad ranges are refused naming their flag.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger } from '../src/testing.js'
import { runCli, SLOW_MS, startWorker, until } from './support/cli-process.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'

const DAY = 86_400_000
let db: TestDatabase
let library: SubscriptionScheduler
let accepting: Awaited<ReturnType<typeof startWorker>>
let rejecting: Awaited<ReturnType<typeof startWorker>>

/** Midnight UTC, `days` days from today. */
const midnight = (days: number) => new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY)

beforeAll(async () => {
  db = await createTestDatabase()
  library = createSubscriptionScheduler(db.pool, { logger: captureLogger(), migrate: false })
  accepting = await startWorker()
  rejecting = await startWorker({ reject: true })
})

afterAll(async () => {
  await accepting?.close()
  await rejecting?.close()
})

async function subscription(settings: Parameters<SubscriptionScheduler['enroll']>[1]): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
  await library.enroll(rows[0]!.id, settings)
  return rows[0]!.id
}

describe('backfill', { timeout: SLOW_MS }, () => {
  test('calls the worker once for each past slot in the range, prints the summary, exits 0; next_run_at stays', async () => {
    const id = await subscription({ runAt: '09:00' })
    const before = await library.getSubscription(id)
    const from = midnight(-4)
    const to = new Date(midnight(-1).getTime() - 1) // three slots: four, three and two days ago, 09:00 UTC
    const result = await runCli(['backfill', id, '--from', from.toISOString(), '--to', to.toISOString(), '--worker-url', accepting.url], { DATABASE_URL: db.url })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^Backfill run [0-9a-f-]{36} finished in /m)
    expect(result.stdout).toMatch(/^ {2}slots {7}3$/m)
    expect(result.stdout).toMatch(/^ {2}successful {2}3$/m)
    expect(accepting.calls.filter((called) => called === id)).toHaveLength(3)
    const after = await library.getSubscription(id)
    expect(after.nextRunAt).toEqual(before.nextRunAt)
    expect(after.history[0]).toMatchObject({ kind: 'backfill', slot: new Date(from.getTime() + 9 * 3_600_000) })
  })

  test('a subscription inserted since the last sweep is enrolled first, then backfilled; an id in no table is no subscription', async () => {
    const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
    const id = rows[0]!.id
    const from = midnight(-3)
    const to = new Date(midnight(-1).getTime() - 1) // two days: two slots, whatever the time of day
    const result = await runCli(['backfill', id, '--from', from.toISOString(), '--to', to.toISOString(), '--worker-url', accepting.url], { DATABASE_URL: db.url })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^ {2}slots {7}2$/m)
    expect(accepting.calls.filter((called) => called === id)).toHaveLength(2)
    const unknown = '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9'
    const refused = await runCli(['backfill', unknown, '--from', from.toISOString(), '--to', to.toISOString(), '--worker-url', accepting.url], { DATABASE_URL: db.url })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`Subscription ${unknown} is not enrolled, and no row in subscriptions has that id: there is no such subscription.`)
  })

  test('a slot the worker refuses is listed with its time in the subscription\'s zone, and the exit code is 3', async () => {
    const id = await subscription({ runAt: '07:30', timezone: 'Europe/Berlin' })
    const from = midnight(-3)
    const to = new Date(midnight(-1).getTime() - 1)
    const result = await runCli(['backfill', id, '--from', from.toISOString(), '--to', to.toISOString(), '--worker-url', rejecting.url], { DATABASE_URL: db.url })
    expect(result.code, result.stderr).toBe(3)
    expect(result.stdout).toMatch(/^ {2}failed {6}2$/m)
    const failed = result.stdout.split('\n').filter((line) => / attempt 1: /.test(line))
    expect(failed).toHaveLength(2)
    for (const line of failed) expect(line).toMatch(/^ {2}\d{4}-\d\d-\d\dT07:30:00\+0[12]:00 \(Europe\/Berlin\) {2}attempt 1: .*422/)
  })

  test('--no-wait starts the run and exits, needing no worker URL and making no call; a running scheduler then processes its slots', async () => {
    const id = await subscription({ runAt: '09:00' })
    const from = midnight(-3)
    const to = new Date(midnight(-1).getTime() - 1)
    const calls = accepting.calls.length
    const result = await runCli(['backfill', id, '--from', from.toISOString(), '--to', to.toISOString(), '--no-wait'], { DATABASE_URL: db.url })
    expect(result.code, result.stderr).toBe(0)
    // It took no step of the backfill itself, so it had none to give up on its way out.
    expect(result.stderr).not.toMatch(/did not finish/)
    expect(accepting.calls.length).toBe(calls)
    const runId = /^Backfill run ([0-9a-f-]{36}) started: 2 slots of /m.exec(result.stdout)?.[1]
    expect(runId, result.stdout).toBeDefined()
    const logger = captureLogger()
    const worker = createSubscriptionScheduler(db.pool, { workerUrl: accepting.url, logger, migrate: false, schedule: false, pollingIntervalSeconds: 0.5 })
    await worker.start()
    // A processing-only instance does not claim a cron it does not register.
    expect(logger.messages('info').filter((m) => m.startsWith('Started'))).toEqual([expect.stringContaining('processing only (schedule: false')])
    try {
      const run = await until('the backfill run to finish', async () => {
        const current = await worker.getRun(runId!)
        return current.finishedAt ? current : undefined
      }, 60_000)
      expect(run).toMatchObject({ trigger: 'backfill', processed: 2, successful: 2, failed: 0 })
    } finally {
      await worker.stop({ timeoutMs: 2000 })
    }
  })

  test('a range in the future, reversed, or missing a bound is refused naming its flag (exit 2), before any call', async () => {
    const id = await subscription({ runAt: '09:00' })
    const calls = accepting.calls.length
    const past = midnight(-2).toISOString()
    const cases: [string[], RegExp][] = [
      [['--from', past, '--to', midnight(2).toISOString()], /^error: --to: \S+ is in the future \(now is \S+ by the scheduler's clock, the database server's\); backfill processes past slots only/m],
      [['--from', past, '--to', midnight(-3).toISOString()], /^error: --to: \S+ is before from \(\S+\); swap them\.$/m],
      [['--from', past], /^error: --to is required: backfill <id> --from <instant> --to <instant>\.$/m],
      [['--from', 'yesterday', '--to', past], /^error: --from: expected a date and time with its zone/m],
    ]
    const results = await Promise.all(cases.map(([args]) => runCli(['backfill', id, ...args, '--worker-url', accepting.url], { DATABASE_URL: db.url })))
    for (const [i, [args, message]] of cases.entries()) {
      expect({ args, code: results[i]!.code }).toEqual({ args, code: 2 })
      expect(results[i]!.stderr).toMatch(message)
    }
    expect(accepting.calls.length).toBe(calls)
  })
})
