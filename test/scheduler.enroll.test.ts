import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { randomUUID } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { ConfigurationError, createSubscriptionScheduler, NotFoundError } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import type { TestDatabase } from './support/database.js'
import { useStartedScheduler } from './support/schedulers.js'

const worker = createFakeWorkerClient()
const logger = captureLogger()

const shared = useStartedScheduler({ workerClient: worker, logger })

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Inserts a host subscription (on the pool, or on the host's transaction client). */
async function insertHostSubscription(executor: { query: TestDatabase['pool']['query'] } = shared.db.pool): Promise<string> {
  const { rows } = await executor.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id::text`)
  return rows[0]!.id
}

async function processingRow(subscriptionId: string) {
  const { rows } = await shared.db.pool.query(`SELECT * FROM subscription_processing WHERE subscription_id = $1`, [subscriptionId])
  return rows[0] as Record<string, unknown> | undefined
}

async function hostRowExists(subscriptionId: string): Promise<boolean> {
  const { rows } = await shared.db.pool.query(`SELECT 1 FROM subscriptions WHERE id = $1`, [subscriptionId])
  return rows.length === 1
}

describe('enroll', () => {
  test('creates a pending row with no next_run_at, so the next sweep takes it', async () => {
    const id = await insertHostSubscription()
    const enrolled = await shared.scheduler.enroll(id)
    expect(enrolled).toEqual({
      processingId: expect.stringMatching(UUID), subscriptionId: id, status: 'pending', timezone: null, runAt: null, anchorAt: null,
      startsAt: null, endsAt: null, nextRunAt: null, created: true,
    })
    expect(await processingRow(id)).toMatchObject({ id: enrolled.processingId, status: 'pending', next_run_at: null, timezone: null, attempts: 0 })
  })

  test('re-enrolling updates the time zone; omitting it keeps it; null clears it', async () => {
    const id = await insertHostSubscription()
    const first = await shared.scheduler.enroll(id, { timezone: 'America/New_York' })
    expect(first).toMatchObject({ created: true, timezone: 'America/New_York' })

    const moved = await shared.scheduler.enroll(id, { timezone: 'Europe/Berlin' })
    expect(moved).toMatchObject({ processingId: first.processingId, created: false, timezone: 'Europe/Berlin' })
    expect(await processingRow(id)).toMatchObject({ timezone: 'Europe/Berlin' })

    const kept = await shared.scheduler.enroll(id)
    expect(kept).toMatchObject({ processingId: first.processingId, created: false, timezone: 'Europe/Berlin' })
    expect(await processingRow(id)).toMatchObject({ timezone: 'Europe/Berlin' })

    const cleared = await shared.scheduler.enroll(id, { timezone: null })
    expect(cleared).toMatchObject({ processingId: first.processingId, created: false, timezone: null })
    expect(await processingRow(id)).toMatchObject({ timezone: null })

    const { rows } = await shared.db.pool.query(`SELECT count(*)::int AS n FROM subscription_processing WHERE subscription_id = $1`, [id])
    expect(rows[0].n).toBe(1)
  })

  test('enrolling again with the same settings (every replica, every restart) changes nothing: still due at the next sweep, no history line', async () => {
    const id = await insertHostSubscription()
    await shared.scheduler.enroll(id, { timezone: 'America/New_York' })
    await expect(shared.scheduler.enroll(id, { timezone: 'America/New_York' })).resolves.toMatchObject({ created: false, nextRunAt: null, status: 'pending' })
    expect(await processingRow(id)).toMatchObject({ next_run_at: null })
    expect((await shared.scheduler.getSubscription(id)).history).toEqual([])
    // A new zone for a row never processed: still due at the next sweep, as a new row would be.
    await expect(shared.scheduler.enroll(id, { timezone: 'Asia/Tokyo' })).resolves.toMatchObject({ created: false, nextRunAt: null, timezone: 'Asia/Tokyo' })
    const summary = await shared.scheduler.runSubscription(id)
    expect(summary).toMatchObject({ processed: 1, successful: 1 })
  })

  test("a zone name in another case is stored as the zone's own name, so the same zone written two ways is no change", async () => {
    const id = await insertHostSubscription()
    await expect(shared.scheduler.enroll(id, { timezone: 'america/new_york' })).resolves.toMatchObject({ created: true, timezone: 'America/New_York' })
    await expect(shared.scheduler.enroll(id, { timezone: 'America/New_York' })).resolves.toMatchObject({ created: false, timezone: 'America/New_York' })
    await expect(shared.scheduler.reschedule(id, { timezone: 'utc' })).resolves.toHaveProperty('nextRunAt')
    expect(await processingRow(id)).toMatchObject({ timezone: 'UTC' })
    expect((await shared.scheduler.getSubscription(id)).history.map((h) => h.detail)).toEqual(['timezone UTC'])
  })

  test("a zone that keeps one offset all year under a region's name ('EST') is taken, with a warning naming the zone meant, said when it is set, not at every re-enroll", async () => {
    const id = await insertHostSubscription()
    // (Its slots wait for this file's yearly placeholder cron, which sweep-wait.ts says too: not counted here.)
    const said = () => logger.messages('warn').filter((m) => m.includes(id) && !m.includes('slots come at'))
    await shared.scheduler.enroll(id, { timezone: 'EST' })
    expect(await processingRow(id)).toMatchObject({ timezone: 'EST' })
    expect(said()).toEqual([expect.stringContaining('America/New_York')])
    await shared.scheduler.enroll(id, { timezone: 'EST', runAt: '08:00' })
    expect(said()).toHaveLength(1)
    await shared.scheduler.reschedule(id, { timezone: 'MST' })
    expect(said()).toEqual([expect.anything(), expect.stringContaining('America/Denver')])
    await shared.scheduler.reschedule(id, { timezone: 'America/Denver' })
    expect(said()).toHaveLength(2)
  })

  test("a frequency that names no cadence ('montly') is said when its schedule is written, by enroll(), enrollMany() and reschedule(), not first at its sweep", async () => {
    const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'montly'), (gen_random_uuid(), 'montly') RETURNING id::text`)
    const [typo, other] = rows.map((r) => r.id) as [string, string]
    const said = (id: string) => logger.messages('warn').filter((m) => m.startsWith(`Subscription ${id} has frequency "montly"`))
    const { nextRunAt } = await shared.scheduler.enroll(typo, { runAt: '10:00', timezone: 'Europe/London' })
    expect(nextRunAt).not.toBeNull()
    expect(said(typo)).toEqual([
      `Subscription ${typo} has frequency "montly", which is no cadence: its next slot was computed daily, and it runs daily (unknownFrequency 'daily'). ` +
        "Set subscriptions.frequency to one of 'daily', 'weekly', 'biweekly', 'monthly', 'quarterly', 'yearly' (or add the name to the `frequencies` option), then reschedule(id, {}) puts its next slot on that cadence.",
    ])
    await shared.scheduler.reschedule(typo, { runAt: '11:00' })
    expect(said(typo)).toHaveLength(2)
    await shared.scheduler.enrollMany([{ subscriptionId: other, runAt: '10:00' }])
    expect(said(other)).toHaveLength(1)
    // Once the host's row names a cadence, nothing more is said.
    await shared.db.pool.query(`UPDATE subscriptions SET frequency = 'monthly' WHERE id = $1`, [typo])
    await shared.scheduler.reschedule(typo, {})
    expect(said(typo)).toHaveLength(2)
  })

  test('re-enrolling a processed subscription keeps its status and schedule; a new zone moves its next slot there', async () => {
    const id = await insertHostSubscription()
    await shared.scheduler.enroll(id)
    const nextRunAt = new Date('2031-05-01T09:00:00.000Z')
    await shared.db.pool.query(`UPDATE subscription_processing SET status = 'completed', next_run_at = $2 WHERE subscription_id = $1`, [id, nextRunAt])
    expect(await shared.scheduler.enroll(id)).toMatchObject({ created: false, status: 'completed', nextRunAt })
    const again = await shared.scheduler.enroll(id, { timezone: 'Asia/Tokyo' })
    // Daily at the scheduler's 09:00, now read in Tokyo: the next 00:00 UTC after now.
    const expected = new Date(Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000)
    expect(again).toMatchObject({ created: false, status: 'completed', nextRunAt: expected, timezone: 'Asia/Tokyo' })
    expect(await processingRow(id)).toMatchObject({ status: 'completed', next_run_at: expected })
  })

  test("a time of day written 'H:MM' is stored and shown as 'HH:MM'", async () => {
    const id = await insertHostSubscription()
    await expect(shared.scheduler.enroll(id, { runAt: '9:05' })).resolves.toMatchObject({ runAt: '09:05' })
    expect(await processingRow(id)).toMatchObject({ run_at: '09:05' })
  })

  test('rejects a subscription id that is not a UUID with a ConfigurationError', async () => {
    const error = await shared.scheduler.enroll('sub_123').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error).toMatchObject({ option: 'subscriptionId' })
    expect((error as Error).message).toContain('"sub_123"')
  })

  test('rejects an unknown time zone with a ConfigurationError and writes nothing', async () => {
    const id = await insertHostSubscription()
    const error = await shared.scheduler.enroll(id, { timezone: 'Mars/Olympus' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error).toMatchObject({ option: 'timezone' })
    expect((error as Error).message).toContain('"Mars/Olympus"')
    expect(await processingRow(id)).toBeUndefined()
  })

  test('rejects an endsAt at or before startsAt with a ConfigurationError naming endsAt, and writes nothing', async () => {
    const id = await insertHostSubscription()
    const at = new Date('2027-06-01T00:00:00Z')
    for (const [endsAt, said] of [[at, 'is the same instant as startsAt'], [new Date('2027-05-01T00:00:00Z'), 'is before startsAt']] as const) {
      const error = await shared.scheduler.enroll(id, { startsAt: at, endsAt }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConfigurationError)
      expect(error).toMatchObject({ option: 'endsAt' })
      expect((error as Error).message).toContain(`${endsAt.toISOString()} ${said} 2027-06-01T00:00:00.000Z; a subscription must end after it starts.`)
    }
    expect(await processingRow(id)).toBeUndefined()
  })

  test('rejects a db that is no pg client or Drizzle transaction with a ConfigurationError naming db, and writes nothing', async () => {
    const id = await insertHostSubscription()
    for (const db of ['postgres://x', {}, 42]) {
      const error = await shared.scheduler.enroll(id, { db: db as never }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConfigurationError)
      expect(error).toMatchObject({ option: 'db' })
      expect((error as Error).message).toMatch(/expected a pg Pool, a pg PoolClient in a transaction you began, or a Drizzle node-postgres database or transaction; got /)
    }
    // Another driver's transaction (postgres-js's, say) is named by its class, not as "[object Object]".
    class PostgresJsTransaction {
      session = { client: () => {} }
    }
    const error = await shared.scheduler.enroll(id, { db: new PostgresJsTransaction() as never }).catch((e: unknown) => e)
    expect((error as Error).message).toContain('; got a PostgresJsTransaction. Leave it out')
    expect(await processingRow(id)).toBeUndefined()
  })

  test('rejects a subscription id with no host row with a NotFoundError', async () => {
    const id = randomUUID()
    const error = await shared.scheduler.enroll(id).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotFoundError)
    expect((error as Error).message).toContain(id)
    expect(error).toMatchObject({ code: 'NOT_FOUND', subscriptionId: id })
    expect(await processingRow(id)).toBeUndefined()
  })
})

describe("enroll inside the host's transaction (pg PoolClient)", () => {
  test('ROLLBACK leaves no row; COMMIT keeps it', async () => {
    const existing = await insertHostSubscription()
    const client = await shared.db.pool.connect()
    try {
      await client.query('BEGIN')
      const enrolled = await shared.scheduler.enroll(existing, { db: client, timezone: 'Europe/Paris' })
      expect(enrolled.created).toBe(true)
      // Written on the host's connection: not visible to others until it commits.
      expect(await processingRow(existing)).toBeUndefined()
      await client.query('ROLLBACK')
      expect(await processingRow(existing)).toBeUndefined()

      await client.query('BEGIN')
      await shared.scheduler.enroll(existing, { db: client, timezone: 'Europe/Paris' })
      await client.query('COMMIT')
      expect(await processingRow(existing)).toMatchObject({ status: 'pending', timezone: 'Europe/Paris' })
    } finally {
      client.release()
    }
  })

  test('a subscription created and enrolled in one transaction commits or rolls back together', async () => {
    const client = await shared.db.pool.connect()
    try {
      await client.query('BEGIN')
      const rolledBack = await insertHostSubscription(client)
      await shared.scheduler.enroll(rolledBack, { db: client })
      await client.query('ROLLBACK')
      expect(await hostRowExists(rolledBack)).toBe(false)
      expect(await processingRow(rolledBack)).toBeUndefined()

      await client.query('BEGIN')
      const committed = await insertHostSubscription(client)
      await shared.scheduler.enroll(committed, { db: client })
      await client.query('COMMIT')
      expect(await hostRowExists(committed)).toBe(true)
      expect(await processingRow(committed)).toMatchObject({ status: 'pending', next_run_at: null })
    } finally {
      client.release()
    }
  })
})

describe("enroll inside the host's transaction (Drizzle node-postgres)", () => {
  test('the host inserts its subscription and enrols it in one transaction, and both commit', async () => {
    const orm = drizzle(shared.db.pool)
    const id = await orm.transaction(async (tx) => {
      const { rows } = await tx.execute<{ id: string }>(sql`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'weekly') RETURNING id::text`)
      const subscriptionId = rows[0]!.id
      const enrolled = await shared.scheduler.enroll(subscriptionId, { db: tx, timezone: 'Europe/Berlin' })
      expect(enrolled).toMatchObject({ created: true, status: 'pending', timezone: 'Europe/Berlin' })
      // Not yet visible outside the transaction.
      expect(await processingRow(subscriptionId)).toBeUndefined()
      return subscriptionId
    })
    expect(await hostRowExists(id)).toBe(true)
    expect(await processingRow(id)).toMatchObject({ status: 'pending', timezone: 'Europe/Berlin', next_run_at: null })
  })

  test('a rolled-back Drizzle transaction leaves neither the subscription nor its row', async () => {
    const orm = drizzle(shared.db.pool)
    let id: string | undefined
    await expect(
      orm.transaction(async (tx) => {
        const { rows } = await tx.execute<{ id: string }>(sql`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id::text`)
        id = rows[0]!.id
        await shared.scheduler.enroll(id, { db: tx })
        tx.rollback()
      }),
    ).rejects.toThrow()
    expect(id).toMatch(UUID)
    expect(await hostRowExists(id!)).toBe(false)
    expect(await processingRow(id!)).toBeUndefined()
  })

  test('enrolling an existing subscription in a Drizzle transaction that throws leaves no row', async () => {
    const existing = await insertHostSubscription()
    const orm = drizzle(shared.db.pool)
    await expect(
      orm.transaction(async (tx) => {
        await shared.scheduler.enroll(existing, { db: tx })
        throw new Error('host failed later in the transaction')
      }),
    ).rejects.toThrow('host failed later in the transaction')
    expect(await processingRow(existing)).toBeUndefined()
  })
})

describe('an enrolled subscription', () => {
  test('is processed by the next runNow(), on its own time zone', async () => {
    worker.reset()
    const id = await insertHostSubscription()
    await shared.scheduler.enroll(id, { timezone: 'Asia/Tokyo' })
    const summary = await shared.scheduler.runNow()
    expect(summary.failed).toBe(0)
    expect(summary.successful).toBe(summary.processed)
    expect(worker.callsFor(id)).toHaveLength(1)
    expect(worker.callsFor(id)[0]).toMatchObject({ subscriptionId: id, attempt: 1 })
    const row = await processingRow(id)
    expect(row).toMatchObject({ status: 'completed', error: null })
    // runAt 09:00 in Tokyo (UTC+9, no DST) is 00:00 UTC.
    expect((row!.next_run_at as Date).toISOString()).toMatch(/T00:00:00\.000Z$/)
    expect((row!.next_run_at as Date).getTime()).toBeGreaterThan(Date.now())
  })
})

describe('a subscription the host just added, with no row yet (no sweep since)', () => {
  test('is enrolled by a control made on it, which then applies: pause, resume, reschedule, skip, run, preview, backfill', async () => {
    const paused = await insertHostSubscription()
    expect(await shared.scheduler.pause(paused)).toMatchObject({ subscriptionId: paused, status: 'paused' })
    expect(await processingRow(paused)).toMatchObject({ status: 'paused' })

    const resumed = await insertHostSubscription()
    expect(await shared.scheduler.resume(resumed)).toMatchObject({ subscriptionId: resumed, status: 'pending' })

    const moved = await insertHostSubscription()
    const { nextRunAt } = await shared.scheduler.reschedule(moved, { runAt: '06:15', timezone: 'Europe/Berlin' })
    expect(await processingRow(moved)).toMatchObject({ run_at: '06:15', timezone: 'Europe/Berlin', next_run_at: nextRunAt })

    const skipped = await insertHostSubscription()
    const skip = await shared.scheduler.skipNext(skipped)
    expect(await processingRow(skipped)).toMatchObject({ next_run_at: skip.nextRunAt })

    worker.reset()
    const run = await insertHostSubscription()
    expect(await shared.scheduler.runSubscription(run)).toMatchObject({ processed: 1, successful: 1 })
    expect(worker.callsFor(run)).toHaveLength(1)

    // A preview, for the host to show right after the insert: its first run is the next sweep's.
    const previewed = await insertHostSubscription()
    const [first, second] = await shared.scheduler.upcoming(previewed, { count: 2 })
    expect(first).toEqual((await shared.scheduler.getStatus()).nextFireAt)
    expect(second!.getTime() - first!.getTime()).toBe(86_400_000)

    const backfilled = await insertHostSubscription()
    const day = Date.UTC(2026, 0, 5)
    expect(await shared.scheduler.backfill(backfilled, { from: new Date(day), to: new Date(day + 86_400_000 - 1) })).toMatchObject({ processed: 1, successful: 1 })
  })

  test('an id in neither table is a NotFoundError saying there is no such subscription, and leaves no row', async () => {
    const unknown = randomUUID()
    await expect(shared.scheduler.pause(unknown)).rejects.toThrow(
      new NotFoundError(`Subscription ${unknown} is not enrolled, and no row in subscriptions has that id: there is no such subscription.`, { subscriptionId: unknown }),
    )
    expect(await processingRow(unknown)).toBeUndefined()
  })

  test('with autoEnroll: false, a control fails as not enrolled and enrols nothing: the host enrols what it chooses', async () => {
    const chooses = createSubscriptionScheduler(shared.db.pool, { workerClient: worker, logger: captureLogger(), migrate: false, autoEnroll: false })
    const id = await insertHostSubscription()
    await expect(chooses.pause(id)).rejects.toThrow(`Subscription ${id} is not enrolled (no subscription_processing row)`)
    await expect(chooses.reschedule(id, { runAt: '06:15' })).rejects.toThrow(NotFoundError)
    expect(await processingRow(id)).toBeUndefined()
  })
})
