import { randomUUID } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { ConfigurationError, NotFoundError, SubscriptionBusyError, SubscriptionDataError } from '../src/index.js'
import type { EnrollEntry } from '../src/index.js'
import { createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { heldWorker } from './support/held-worker.js'
import { useSchedulerHarness } from './support/schedulers.js'

const harness = useSchedulerHarness()
const NOW = '2026-03-04T10:00:00.000Z' // a Wednesday

/** Host subscriptions with no processing row, of `frequency`. */
async function hostSubscriptions(count: number, frequency = 'daily'): Promise<string[]> {
  const { rows } = await harness.db.pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), $2 FROM generate_series(1, $1) RETURNING id::text`,
    [count, frequency],
  )
  return rows.map((row) => row.id)
}

const SCHEDULE_COLUMNS = `status, timezone, run_at, anchor_at, starts_at, ends_at, next_run_at, paused_until, error`

async function scheduleOf(ids: readonly string[]): Promise<Record<string, unknown>[]> {
  const { rows } = await harness.db.pool.query(
    `SELECT ${SCHEDULE_COLUMNS} FROM unnest($1::uuid[]) WITH ORDINALITY AS v(id, n) JOIN subscription_processing sp ON sp.subscription_id = v.id ORDER BY v.n`,
    [ids],
  )
  return rows
}

async function processingCount(): Promise<number> {
  const { rows } = await harness.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM subscription_processing`)
  return rows[0]!.n
}

/** Settings of every kind enroll() takes, and none: each reaches a different branch of enrolment. */
const VARIETY: Omit<EnrollEntry, 'subscriptionId'>[] = [
  {},
  { timezone: 'America/New_York' },
  { timezone: 'Asia/Kolkata', runAt: '07:30' },
  { runAt: '02:30', timezone: 'Europe/Berlin' },
  { anchor: new Date('2026-01-31T09:00:00Z') },
  { startsAt: new Date('2026-04-01T00:00:00Z'), timezone: 'Australia/Sydney' },
  { endsAt: new Date('2026-02-01T00:00:00Z') },
  { timezone: 'Pacific/Chatham', runAt: '23:59', endsAt: new Date('2027-01-01T00:00:00Z') },
]

describe('enrollMany', () => {
  test.each(['daily', 'weekly', 'monthly'])('writes every new %s row as enroll() writes it, in one call', async (frequency) => {
    const clock = createManualClock(NOW)
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient(), clock })
    const single = await hostSubscriptions(VARIETY.length, frequency)
    const bulk = await hostSubscriptions(VARIETY.length, frequency)
    for (const [i, settings] of VARIETY.entries()) await scheduler.enroll(single[i]!, settings)

    const result = await scheduler.enrollMany(VARIETY.map((settings, i) => ({ subscriptionId: bulk[i]!, ...settings })))

    expect(result).toEqual({ created: VARIETY.length, updated: 0, unchanged: 0, refused: [] })
    expect(await scheduleOf(bulk)).toEqual(await scheduleOf(single))
    // The variety reached both kinds of row: with a slot computed, and due at the next sweep.
    expect((await scheduleOf(bulk)).map((row) => row.next_run_at === null)).toContain(true)
    expect((await scheduleOf(bulk)).map((row) => row.status)).toContain('ended')
  })

  test.each(['daily', 'weekly', 'monthly'])('changes %s rows already processed (run, skipped, zones) as enroll() changes them, history included, in one call', async (frequency) => {
    const clock = createManualClock(NOW)
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient(), clock })
    await scheduler.start()
    const single = await hostSubscriptions(VARIETY.length, frequency)
    const bulk = await hostSubscriptions(VARIETY.length, frequency)
    // Enrolled in Tokyo at 08:00, run once, each with its next slot skipped: days spent, in a zone left next.
    await scheduler.enrollMany([...single, ...bulk].map((subscriptionId) => ({ subscriptionId, timezone: 'Asia/Tokyo', runAt: '08:00' })))
    clock.set('2026-03-05T00:00:00.000Z')
    await scheduler.runNow()
    for (const id of [...single, ...bulk]) await scheduler.skipNext(id)
    clock.set('2026-03-05T12:00:00.000Z')
    for (const [i, settings] of VARIETY.entries()) await scheduler.enroll(single[i]!, settings)

    const result = await scheduler.enrollMany(VARIETY.map((settings, i) => ({ subscriptionId: bulk[i]!, ...settings })))

    expect(result).toEqual({ created: 0, updated: VARIETY.length - 1, unchanged: 1, refused: [] })
    expect(await scheduleOf(bulk)).toEqual(await scheduleOf(single))
    const historyOf = async (ids: string[]) => Promise.all(ids.map(async (id) => (await scheduler.getSubscription(id)).history.map((h) => [h.kind, h.slot, h.detail])))
    expect(await historyOf(bulk)).toEqual(await historyOf(single))
  })

  test('rows already enrolled keep what they have: unchanged when given their own settings, updated (with history) when not', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient(), clock: createManualClock(NOW) })
    const ids = await hostSubscriptions(3)
    await scheduler.enrollMany([{ subscriptionId: ids[0]!, timezone: 'Europe/Berlin' }, { subscriptionId: ids[1]! }, { subscriptionId: ids[2]!, runAt: '08:00' }])
    const { rows: before } = await harness.db.pool.query(`SELECT subscription_id, updated_at FROM subscription_processing ORDER BY subscription_id`)

    const again = await scheduler.enrollMany([
      { subscriptionId: ids[0]!, timezone: 'Europe/Berlin' },
      { subscriptionId: ids[1]! },
      { subscriptionId: ids[2]!, runAt: '09:15' },
    ])

    expect(again).toEqual({ created: 0, updated: 1, unchanged: 2, refused: [] })
    const { rows: after } = await harness.db.pool.query(`SELECT subscription_id, updated_at FROM subscription_processing ORDER BY subscription_id`)
    expect(after.filter((row) => row.subscription_id !== ids[2])).toEqual(before.filter((row) => row.subscription_id !== ids[2]))
    expect(await scheduleOf([ids[2]!])).toEqual([expect.objectContaining({ run_at: '09:15', next_run_at: new Date('2026-03-05T09:15:00Z') })])
    const details = await scheduler.getSubscription(ids[2]!)
    expect(details.history.map((entry) => [entry.kind, entry.detail])).toEqual([['rescheduled', 'runAt 09:15']])
  })

  test('enrols more entries than fit in one page, and a second call with the same entries changes nothing', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient() })
    const ids = await hostSubscriptions(2500)
    const entries = ids.map((subscriptionId, i) => ({ subscriptionId, timezone: i % 2 ? 'Asia/Tokyo' : 'America/Chicago', runAt: '06:00' }))

    expect(await scheduler.enrollMany(entries)).toEqual({ created: 2500, updated: 0, unchanged: 0, refused: [] })
    expect(await scheduler.enrollMany(entries)).toEqual({ created: 0, updated: 0, unchanged: 2500, refused: [] })
    const { rows } = await harness.db.pool.query(`SELECT timezone, count(*)::int AS n FROM subscription_processing WHERE run_at = '06:00' AND next_run_at IS NOT NULL GROUP BY 1 ORDER BY 1`)
    expect(rows).toEqual([{ timezone: 'America/Chicago', n: 1250 }, { timezone: 'Asia/Tokyo', n: 1250 }])
  })

  test('a row whose call is in flight, or whose data is bad, is refused with its error; the others are enrolled', async () => {
    const held = heldWorker()
    const scheduler = harness.scheduler({ workerClient: held.client })
    const [busy, broken] = await hostSubscriptions(2)
    await scheduler.enroll(broken!)
    await harness.db.pool.query(`UPDATE subscription_processing SET next_run_at = 'infinity', status = 'completed' WHERE subscription_id = $1`, [broken])
    await scheduler.enroll(busy!)
    await scheduler.start()
    const run = scheduler.runNow()
    await held.firstCall
    const [other] = await hostSubscriptions(1)

    const result = await scheduler.enrollMany([
      { subscriptionId: broken!, timezone: 'Asia/Tokyo' },
      { subscriptionId: busy!, timezone: 'Asia/Tokyo' },
      { subscriptionId: other!, timezone: 'Asia/Tokyo' },
    ])
    held.release()
    await run

    expect(result).toMatchObject({ created: 1, updated: 0, unchanged: 0 })
    expect(result.refused.map((r) => r.subscriptionId)).toEqual([broken, busy])
    expect(result.refused[0]!.error).toBeInstanceOf(SubscriptionDataError)
    expect(result.refused[1]!.error).toBeInstanceOf(SubscriptionBusyError)
    expect((await scheduleOf([busy!, other!])).map((row) => row.timezone)).toEqual([null, 'Asia/Tokyo'])
  })

  test("joins the host's transaction: a rollback leaves nothing enrolled", async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient() })
    const ids = await hostSubscriptions(3)
    const client = await harness.db.pool.connect()
    try {
      await client.query('BEGIN')
      const result = await scheduler.enrollMany(ids.map((subscriptionId) => ({ subscriptionId, runAt: '07:00' })), { db: client })
      expect(result.created).toBe(3)
      await client.query('ROLLBACK')
    } finally {
      client.release()
    }
    expect(await processingCount()).toBe(0)
  })

  test('says once of many rows that their slots wait long for the sweep, with how many share it', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient(), cron: '0 9 * * *', timezone: 'Europe/Berlin' })
    await scheduler.start()
    const ids = await hostSubscriptions(40)

    await scheduler.enrollMany(ids.map((subscriptionId) => ({ subscriptionId, timezone: 'America/New_York', runAt: '09:00' })))

    const late = harness.logger.entries.filter((entry) => entry.level === 'warn' && entry.message.includes('late'))
    expect(late).toHaveLength(1)
    expect(late[0]!.message).toContain('(39 more of the subscriptions just enrolled have this zone, time of day and frequency.)')

    // Many zones: ten said in full, the rest in one line with how many subscriptions they hold.
    const zones = ['America/Chicago', 'America/Denver', 'America/Los_Angeles', 'America/Anchorage', 'Pacific/Honolulu', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Sydney', 'Asia/Shanghai', 'America/Sao_Paulo', 'Asia/Dubai', 'Asia/Bangkok']
    const more = await hostSubscriptions(zones.length * 2)
    harness.logger.entries.length = 0
    await scheduler.enrollMany(more.map((subscriptionId, i) => ({ subscriptionId, timezone: zones[i % zones.length]!, runAt: '09:00' })))
    const warned = harness.logger.messages('warn')
    expect(warned.filter((m) => m.includes('slots come at 09:00'))).toHaveLength(10)
    expect(warned).toContainEqual(expect.stringMatching(/^enrollMany\(\): 2 more zones, times of day and frequencies \(4 of the subscriptions just enrolled\) wait over an hour for their sweep too/))
  })
})

describe('enrollMany refuses bad input before writing anything', () => {
  test.each([
    ['not an array', () => 'abc', 'entries'],
    ['an entry that is no object', (ids: string[]) => [{ subscriptionId: ids[0] }, 7], 'entries[1]'],
    ['an id that is no UUID', () => [{ subscriptionId: 'user-42' }], 'entries[0].subscriptionId'],
    ['a bad zone', (ids: string[]) => [{ subscriptionId: ids[0] }, { subscriptionId: ids[1], timezone: 'Mars/Olympus' }], 'entries[1].timezone'],
    ['a bad time of day', (ids: string[]) => [{ subscriptionId: ids[0], runAt: '25:00' }], 'entries[0].runAt'],
    ['an unknown setting', (ids: string[]) => [{ subscriptionId: ids[0], timeZone: 'UTC' }], 'entries[0].timeZone'],
    ['an end before the start', (ids: string[]) => [{ subscriptionId: ids[0], startsAt: new Date('2027-01-02'), endsAt: new Date('2027-01-01') }], 'entries[0].endsAt'],
    ['an id given twice', (ids: string[]) => [{ subscriptionId: ids[0] }, { subscriptionId: ids[1] }, { subscriptionId: ids[0]!.toUpperCase() }], 'entries[2].subscriptionId'],
  ])('%s', async (_, entries, option) => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient() })
    const ids = await hostSubscriptions(2)
    const error = await scheduler.enrollMany(entries(ids) as never).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).option).toBe(option)
    expect(await processingCount()).toBe(0)
  })

  test('every bad entry is said at once (the first ten, then how many more), so that one round of fixes does', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient() })
    const ids = await hostSubscriptions(14)
    const entries = ids.map((subscriptionId, i) => ({ subscriptionId, ...(i % 2 ? { timezone: `Mars/${i}` } : {}) }))
    const error = await scheduler.enrollMany(entries).catch((e: unknown) => e)
    expect(error).toMatchObject({ option: 'entries[1].timezone' })
    const message = (error as ConfigurationError).message
    expect(message).toMatch(/^Invalid option `entries\[1\]\.timezone`: unknown time zone "Mars\/1"\..* Also entries\[3\]\.timezone: unknown time zone "Mars\/3"\..* entries\[13\]\.timezone: unknown time zone "Mars\/13"\..* Nothing was enrolled\.$/)
    expect(await processingCount()).toBe(0)
  })

  test('ids with no subscription are all listed, and nothing is enrolled', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient() })
    const [known] = await hostSubscriptions(1)
    const unknown = [randomUUID(), randomUUID()]
    const error = await scheduler.enrollMany([{ subscriptionId: unknown[0]! }, { subscriptionId: known! }, { subscriptionId: unknown[1]! }]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotFoundError)
    expect((error as NotFoundError).message).toBe(`2 entries name no row in subscriptions: ${unknown.join(', ')}. Create those subscriptions first, or leave them out; nothing was enrolled.`)
    expect(await processingCount()).toBe(0)
  })

  test('an option other than db is refused', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient() })
    await expect(scheduler.enrollMany([], { timezone: 'UTC' } as never)).rejects.toMatchObject({ option: 'timezone' })
  })
})
