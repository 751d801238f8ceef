/**
 * `skipNext(id, { slot })`: the skip of the slot the caller saw. A request retried after a lost
 * reply, a double click, or the same click reaching two replicas skips that slot once; a slot
 * that is no longer the next one (it ran, or another skip moved past it) is refused, not taken as
 * "skip whatever is next now". A failed subscription's skipped slot is given up, never retried
 * ahead of the next. Real Postgres and pg-boss; the clock is manual.
 */
import { describe, expect, test } from 'vitest'
import { ConfigurationError, PermanentError, SubscriptionStateError } from '../src/index.js'
import { createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { useStartedScheduler } from './support/schedulers.js'

const clock = createManualClock('2026-03-02T08:00:00.000Z') // Monday, 08:00 UTC
const worker = createFakeWorkerClient()

const shared = useStartedScheduler({ workerClient: worker, clock })

const at = (iso: string) => new Date(iso)

async function daily(): Promise<string> {
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
  await shared.scheduler.enroll(rows[0]!.id, { runAt: '09:00' })
  return rows[0]!.id
}

const skipsOf = async (id: string) => (await shared.scheduler.getSubscription(id)).history.filter((h) => h.kind === 'skipped').map((h) => h.slot)

describe('skipNext with the slot seen', () => {
  test('skips that slot; asked again with it, answers the same and skips nothing more', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await daily()
    const [seen] = await shared.scheduler.upcoming(id, { count: 1 })
    const first = await shared.scheduler.skipNext(id, { slot: seen! })
    expect(first).toEqual({ skipped: at('2026-03-02T09:00:00.000Z'), nextRunAt: at('2026-03-03T09:00:00.000Z') })
    await expect(shared.scheduler.skipNext(id, { slot: seen! })).resolves.toEqual(first)
    expect(await shared.scheduler.upcoming(id, { count: 2 })).toEqual([at('2026-03-03T09:00:00.000Z'), at('2026-03-04T09:00:00.000Z')])
    expect(await skipsOf(id)).toEqual([seen])
  })

  test('asked several times at once with one slot (a double click, two replicas), the slot is skipped once', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await daily()
    const slot = at('2026-03-02T09:00:00.000Z')
    const answers = await Promise.all(Array.from({ length: 4 }, () => shared.scheduler.skipNext(id, { slot })))
    expect(answers).toEqual(Array.from({ length: 4 }, () => ({ skipped: slot, nextRunAt: at('2026-03-03T09:00:00.000Z') })))
    expect(await skipsOf(id)).toEqual([slot])
    expect((await shared.scheduler.getSubscription(id)).nextRunAt).toEqual(at('2026-03-03T09:00:00.000Z'))
  })

  test('without a slot, each call skips the next one, as before', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await daily()
    await shared.scheduler.skipNext(id)
    await expect(shared.scheduler.skipNext(id)).resolves.toEqual({ skipped: at('2026-03-03T09:00:00.000Z'), nextRunAt: at('2026-03-04T09:00:00.000Z') })
  })

  test('a slot that ran, or one past the next slot, is refused naming the next slot, and nothing changes', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await daily()
    clock.set('2026-03-02T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(worker.callsFor(id).map((c) => c.scheduledFor)).toEqual(['2026-03-02T09:00:00.000Z'])
    const before = await shared.scheduler.getSubscription(id)
    for (const slot of [at('2026-03-02T09:00:00.000Z'), at('2026-03-04T09:00:00.000Z')]) {
      const refused = shared.scheduler.skipNext(id, { slot })
      await expect(refused).rejects.toBeInstanceOf(SubscriptionStateError)
      await expect(refused).rejects.toThrow(new RegExp(`${slot.toISOString()} is not the next slot of subscription ${id}: its next slot is 2026-03-03T09:00:00.000Z\\. .*read upcoming\\(id\\) again`))
    }
    expect(await shared.scheduler.getSubscription(id)).toEqual(before)
  })

  test('a skip that a reschedule has lifted is not taken as done: the slot runs again, so skipping it is refused until it is next', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'weekly') RETURNING id`)
    const id = rows[0]!.id
    await shared.scheduler.enroll(id, { runAt: '09:00', startsAt: at('2026-03-16T00:00:00.000Z') })
    const slot = at('2026-03-16T09:00:00.000Z')
    await shared.scheduler.skipNext(id, { slot })
    await shared.scheduler.reschedule(id, { startsAt: null }) // next slot 2 March: the skip of the 16th no longer applies
    await expect(shared.scheduler.skipNext(id, { slot })).rejects.toThrow(/its next slot is 2026-03-02T09:00:00\.000Z/)
    expect(await shared.scheduler.upcoming(id, { count: 3 })).toContainEqual(slot)
    // Paused until resumed, no slot is next, and the lifted skip is still not taken as done.
    await shared.scheduler.pause(id)
    await expect(shared.scheduler.skipNext(id, { slot })).rejects.toThrow(/it is paused until resumed, so no slot is next/)
  })

  test('a subscription with no slot ahead refuses a slot it never skipped, saying why none is ahead', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await daily()
    await shared.scheduler.reschedule(id, { endsAt: at('2026-03-02T08:30:00.000Z') })
    await expect(shared.scheduler.skipNext(id, { slot: at('2026-03-02T09:00:00.000Z') })).rejects.toThrow(/: it has ended, so no slot is next\./)
    const paused = await daily()
    await shared.scheduler.pause(paused)
    await expect(shared.scheduler.skipNext(paused, { slot: at('2026-03-02T09:00:00.000Z') })).rejects.toThrow(/: it is paused until resumed, so no slot is next\./)
  })

  test('a slot that is not a valid Date, or an unknown option, is a ConfigurationError naming it', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await daily()
    for (const slot of ['2026-03-02T09:00:00Z', new Date('nope'), null]) {
      const refused = shared.scheduler.skipNext(id, { slot: slot as never })
      await expect(refused).rejects.toBeInstanceOf(ConfigurationError)
      await expect(refused).rejects.toMatchObject({ option: 'slot' })
    }
    await expect(shared.scheduler.skipNext(id, { slots: [] } as never)).rejects.toThrow(/unknown option of skipNext\(\).*slot/)
    expect(await skipsOf(id)).toEqual([])
  })
})

describe('skipNext with no run ahead', () => {
  test('paused until resumed or ended: nothing is skipped, no next run is claimed, and the row is left as it was', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const paused = await daily()
    await shared.scheduler.pause(paused)
    const ended = await daily()
    await shared.scheduler.reschedule(ended, { endsAt: at('2026-03-02T08:30:00.000Z') })
    for (const id of [paused, ended]) {
      const before = await shared.scheduler.getSubscription(id)
      await expect(shared.scheduler.skipNext(id), id === paused ? 'paused' : 'ended').resolves.toEqual({ skipped: null, nextRunAt: null })
      expect(await shared.scheduler.getSubscription(id)).toEqual(before)
    }
    // Resumed, it runs at its next slot, which the skip that did nothing has not moved.
    await shared.scheduler.resume(paused)
    expect(await shared.scheduler.upcoming(paused, { count: 1 })).toEqual([at('2026-03-02T09:00:00.000Z')])
  })
})

describe('skipNext of a slot that failed', () => {
  // A failed row's next slot is the one that failed, due at once: skipping it gives up that slot.
  // It was left failed with its next slot ahead, and retryFailed() then called the worker for a
  // slot that had not come (a monthly subscription's, weeks early), counted as one more failure.

  /** A daily subscription whose 2 March 09:00 slot failed for good; the clock just after it. */
  async function failedDaily(): Promise<string> {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await daily()
    worker.on(id, { fail: new PermanentError('card declined') })
    clock.set('2026-03-02T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect((await shared.scheduler.getSubscription(id)).status).toBe('failed')
    return id
  }

  test('the row leaves failed: no retry calls the slot ahead before it comes, and it is not listed as failing', async () => {
    const id = await failedDaily()
    const failed = at('2026-03-02T09:00:00.000Z')
    await expect(shared.scheduler.skipNext(id, { slot: failed })).resolves.toEqual({ skipped: failed, nextRunAt: at('2026-03-03T09:00:00.000Z') })
    const skipped = await shared.scheduler.getSubscription(id)
    expect(skipped).toMatchObject({ status: 'pending', nextRunAt: at('2026-03-03T09:00:00.000Z') })
    expect(skipped.error).toBeNull()
    expect(skipped.recentErrors.map((e) => e.error)).toEqual([expect.stringContaining('card declined')])
    expect((await shared.scheduler.listFailing()).map((f) => f.subscriptionId)).not.toContain(id)
    await expect(shared.scheduler.retryFailed({ subscriptionIds: [id] })).resolves.toMatchObject({ processed: 0 })
    expect(worker.callsFor(id).map((c) => c.scheduledFor)).toEqual(['2026-03-02T09:00:00.000Z'])
    // Its slot comes, and the sweep calls it then, with that slot's key.
    clock.set('2026-03-03T09:00:05.000Z')
    await shared.scheduler.runNow()
    expect(worker.callsFor(id).map((c) => c.scheduledFor)).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-03T09:00:00.000Z'])
  })

  test('a reschedule of a failed row moves past its failed slot, and so the row leaves failed too', async () => {
    const id = await failedDaily()
    await shared.scheduler.reschedule(id, { runAt: '10:00' })
    const moved = await shared.scheduler.getSubscription(id)
    expect(moved.status).toBe('pending')
    expect(moved.nextRunAt!.getTime()).toBeGreaterThan(clock.now().getTime())
    await expect(shared.scheduler.retryFailed({ subscriptionIds: [id] })).resolves.toMatchObject({ processed: 0 })
    expect(worker.callsFor(id)).toHaveLength(1)
  })

  test('a failed row whose next slot is ahead, as an older version left it after a skip, is not retried before that slot comes', async () => {
    const id = await failedDaily()
    await shared.db.pool.query(`UPDATE subscription_processing SET next_run_at = '2026-03-03T09:00:00Z' WHERE subscription_id = $1 AND status = 'failed'`, [id])
    await expect(shared.scheduler.retryFailed({ subscriptionIds: [id] })).resolves.toMatchObject({ processed: 0 })
    expect(worker.callsFor(id)).toHaveLength(1)
  })
})
