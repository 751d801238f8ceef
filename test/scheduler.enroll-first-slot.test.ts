/**
 * `nextRunAt` at enrolment: a subscription moved from another scheduler keeps the date it is next
 * due there. Without it, the first sweep called every subscription moved, and every monthly or
 * yearly one then ran on the day of the move (a trial moving 5,000 subscriptions from BullMQ).
 */
import { describe, expect, test } from 'vitest'
import { ConfigurationError } from '../src/index.js'
import { createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { useSchedulerHarness } from './support/schedulers.js'

const harness = useSchedulerHarness()
const NOW = '2026-03-04T10:00:00.000Z' // a Wednesday

async function hostSubscriptions(count: number, frequency: string): Promise<string[]> {
  const { rows } = await harness.db.pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), $2 FROM generate_series(1, $1) RETURNING id::text`,
    [count, frequency],
  )
  return rows.map((row) => row.id)
}

async function nextRunOf(id: string): Promise<Date | null> {
  const { rows } = await harness.db.pool.query<{ next_run_at: Date | null }>(`SELECT next_run_at FROM subscription_processing WHERE subscription_id = $1`, [id])
  return rows[0]!.next_run_at
}

/** A started scheduler on a manual clock at NOW, its fake worker, and one new subscription of `frequency`. */
async function startedWith(frequency: string) {
  const clock = createManualClock(NOW)
  const worker = createFakeWorkerClient()
  const scheduler = harness.scheduler({ workerClient: worker, clock })
  await scheduler.start()
  const [id] = await hostSubscriptions(1, frequency)
  return { clock, worker, scheduler, id }
}

describe('enroll() with nextRunAt', () => {
  test('the first call is at the instant given, and the cadence goes on from its date, at the time of day, in the zone', async () => {
    const { clock, worker, scheduler, id } = await startedWith('monthly')
    // Billed on the 20th, at 14:23 in New York, by the scheduler it comes from.
    const nextRunAt = new Date('2026-03-20T18:23:00.000Z')

    const enrolled = await scheduler.enroll(id!, { timezone: 'America/New_York', runAt: '09:00', nextRunAt })

    expect(enrolled).toMatchObject({ created: true, nextRunAt })
    expect(await scheduler.upcoming(id!, { count: 3 })).toEqual([nextRunAt, new Date('2026-04-20T13:00:00.000Z'), new Date('2026-05-20T13:00:00.000Z')])
    await scheduler.runNow()
    expect(worker.calls).toHaveLength(0)

    clock.set('2026-03-20T18:30:00.000Z')
    await scheduler.runNow()
    expect(worker.calls.map((c) => [c.subscriptionId, c.scheduledFor])).toEqual([[id, nextRunAt.toISOString()]])
    expect(await nextRunOf(id!)).toEqual(new Date('2026-04-20T13:00:00.000Z'))
  })

  test('without a runAt, its time of day in the zone carries over too: billed at 14:37 there, at 14:37 here', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient(), clock: createManualClock(NOW) })
    const [id] = await hostSubscriptions(1, 'monthly')
    const nextRunAt = new Date('2026-03-31T03:37:00.000Z') // 14:37 in Sydney (AEDT), a month's last day

    await scheduler.enroll(id!, { timezone: 'Australia/Sydney', nextRunAt })

    expect(await scheduler.getSubscription(id!)).toMatchObject({ runAt: '14:37', nextRunAt })
    // 14:37 in Sydney after its clocks go back (AEST), on the 30th and the 31st.
    expect(await scheduler.upcoming(id!, { count: 3 })).toEqual([nextRunAt, new Date('2026-04-30T04:37:00.000Z'), new Date('2026-05-31T04:37:00.000Z')])
  })

  test('one already past is called at the next sweep, for that slot', async () => {
    const { worker, scheduler, id } = await startedWith('weekly')
    const nextRunAt = new Date('2026-03-02T09:00:00.000Z') // a Monday, two days ago

    await scheduler.enroll(id!, { nextRunAt })
    await scheduler.runNow()

    expect(worker.calls.map((c) => c.scheduledFor)).toEqual([nextRunAt.toISOString()])
    expect(await nextRunOf(id!)).toEqual(new Date('2026-03-09T09:00:00.000Z'))
  })

  test('a nextRunAt inside a window whose end has passed is still called, once, and the subscription ends after it', async () => {
    const { worker, scheduler, id } = await startedWith('daily')
    // Cancelled as of yesterday, its last billing (the day before) still owed.
    const nextRunAt = new Date('2026-03-02T09:00:00.000Z')

    await expect(scheduler.enroll(id!, { endsAt: new Date('2026-03-03T00:00:00.000Z'), nextRunAt })).resolves.toMatchObject({ status: 'pending', nextRunAt })
    await scheduler.runNow()

    expect(worker.calls.map((c) => c.scheduledFor)).toEqual([nextRunAt.toISOString()])
    expect(await scheduler.getSubscription(id!)).toMatchObject({ status: 'ended' })
  })

  test('enrolling again with the same nextRunAt changes nothing; once called, nextRunAt is refused, naming what moves its slots', async () => {
    const { scheduler, id } = await startedWith('daily')
    const nextRunAt = new Date('2026-03-04T09:00:00.000Z')
    await scheduler.enroll(id!, { nextRunAt })
    const before = await harness.db.pool.query(`SELECT updated_at FROM subscription_processing WHERE subscription_id = $1`, [id])

    await expect(scheduler.enroll(id!, { nextRunAt })).resolves.toMatchObject({ created: false, nextRunAt })
    const after = await harness.db.pool.query(`SELECT updated_at FROM subscription_processing WHERE subscription_id = $1`, [id])
    expect(after.rows).toEqual(before.rows)

    await scheduler.runNow()
    const refused = scheduler.enroll(id!, { nextRunAt: new Date('2026-03-10T09:00:00.000Z') })
    await expect(refused).rejects.toBeInstanceOf(ConfigurationError)
    await expect(refused).rejects.toMatchObject({ option: 'nextRunAt', message: expect.stringMatching(/has been called already \(last for 2026-03-04T09:00:00\.000Z\).*reschedule\(\) or skipNext\(\)/) })
    expect(await nextRunOf(id!)).toEqual(new Date('2026-03-05T09:00:00.000Z'))
  })

  test('a nextRunAt that is no Date, or outside the start and end, is a ConfigurationError saying how to fix it', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient(), clock: createManualClock(NOW) })
    const [id] = await hostSubscriptions(1, 'daily')

    await expect(scheduler.enroll(id!, { nextRunAt: '2026-03-20' as unknown as Date })).rejects.toMatchObject({ option: 'nextRunAt', message: expect.stringContaining('expected a valid Date') })
    await expect(scheduler.enroll(id!, { nextRunAt: new Date('2026-03-20T00:00:00Z'), startsAt: new Date('2026-04-01T00:00:00Z') })).rejects.toMatchObject({
      option: 'nextRunAt',
      message: expect.stringContaining("is before subscription"),
    })
    expect(await harness.db.pool.query(`SELECT 1 FROM subscription_processing WHERE subscription_id = $1`, [id])).toMatchObject({ rowCount: 0 })
  })
})

describe('enrollMany() with nextRunAt', () => {
  test('each entry keeps its own first slot; called again with the same entries, nothing changes', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient(), clock: createManualClock(NOW) })
    const ids = await hostSubscriptions(3, 'yearly')
    const entries = ids.map((subscriptionId, i) => ({ subscriptionId, timezone: 'Australia/Sydney', nextRunAt: new Date(Date.UTC(2026, 5 + i, 10, 23)) }))

    expect(await scheduler.enrollMany(entries)).toEqual({ created: 3, updated: 0, unchanged: 0, refused: [] })
    for (const entry of entries) expect(await nextRunOf(entry.subscriptionId)).toEqual(entry.nextRunAt)
    expect(await scheduler.enrollMany(entries)).toEqual({ created: 0, updated: 0, unchanged: 3, refused: [] })
  })

  test('a bad nextRunAt is named by its entry, and nothing is enrolled', async () => {
    const scheduler = harness.scheduler({ workerClient: createFakeWorkerClient(), clock: createManualClock(NOW) })
    const ids = await hostSubscriptions(2, 'daily')

    const refused = scheduler.enrollMany([
      { subscriptionId: ids[0]!, nextRunAt: new Date('2026-03-20T09:00:00Z') },
      { subscriptionId: ids[1]!, nextRunAt: new Date('2027-01-02T09:00:00Z'), endsAt: new Date('2027-01-01T00:00:00Z') },
    ])

    await expect(refused).rejects.toBeInstanceOf(ConfigurationError)
    await expect(refused).rejects.toMatchObject({ option: 'entries[1].nextRunAt', message: expect.stringContaining('is after subscription') })
    expect(await harness.db.pool.query(`SELECT 1 FROM subscription_processing WHERE subscription_id = ANY($1::uuid[])`, [ids])).toMatchObject({ rowCount: 0 })
  })
})
