/**
 * A note of the caller's own on a pause, resume, skip or reschedule (`{ note }`): who asked, a
 * ticket, why. It is kept with the history entry the control writes, and read back by
 * getSubscription(); a bad note is refused before anything changes. Real Postgres; the clock is
 * manual; the controls need no started scheduler.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import { ConfigurationError, createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'

let db: TestDatabase
let scheduler: SubscriptionScheduler
const clock = createManualClock('2026-03-02T08:00:00.000Z') // Monday, 08:00 UTC

beforeAll(async () => {
  db = await createTestDatabase()
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), clock, logger: captureLogger(), migrate: false })
})

async function daily(): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
  await scheduler.enroll(rows[0]!.id, { runAt: '09:00' })
  return rows[0]!.id
}

const historyOf = async (id: string) => (await scheduler.getSubscription(id)).history.map((h) => ({ kind: h.kind, note: h.note })).reverse()

describe('{ note } on a control', () => {
  test('pause, skip, reschedule, pause until and resume each keep their note with their history entry; one without keeps none', async () => {
    const id = await daily()
    await scheduler.pause(id, { note: 'customer asked, ticket #4411' })
    await scheduler.resume(id, { note: '  card updated  ' })
    await scheduler.skipNext(id, { note: 'holiday' })
    await scheduler.reschedule(id, { runAt: '07:30' }, { note: 'moved before the batch' })
    await scheduler.pause(id, { until: new Date('2026-03-10T00:00:00Z'), note: 'line one\nline two' })
    await scheduler.resume(id)
    expect(await historyOf(id)).toEqual([
      { kind: 'paused', note: 'customer asked, ticket #4411' },
      { kind: 'resumed', note: 'card updated' }, // trimmed
      { kind: 'skipped', note: 'holiday' },
      { kind: 'rescheduled', note: 'moved before the batch' },
      { kind: 'paused', note: 'line one\nline two' },
      { kind: 'resumed', note: null },
    ])
  })

  test('a control that changes nothing writes no entry, so its note is not kept', async () => {
    const id = await daily()
    await scheduler.pause(id, { note: 'first' })
    await scheduler.pause(id, { note: 'second, already paused' })
    await scheduler.resume(id, { note: 'back' })
    await scheduler.resume(id, { note: 'not paused any more' })
    expect(await historyOf(id)).toEqual([{ kind: 'paused', note: 'first' }, { kind: 'resumed', note: 'back' }])
  })

  test.each([
    ['a number', 42, /got 42/],
    ['empty text', '', /got ""/],
    ['blank text', '   ', /got "   "/],
    ['501 characters', 'x'.repeat(501), /got 501 characters/],
    ['null', null, /got null/],
  ])('%s is refused with a ConfigurationError naming `note`, and nothing changes', async (_name, note, got) => {
    const id = await daily()
    const before = await scheduler.getSubscription(id)
    const controls = [
      () => scheduler.pause(id, { note: note as string }),
      () => scheduler.pause(id, { until: new Date('2026-03-10T00:00:00Z'), note: note as string }),
      () => scheduler.skipNext(id, { note: note as string }),
      () => scheduler.reschedule(id, { runAt: '07:30' }, { note: note as string }),
      () => scheduler.resume(id, { note: note as string }),
    ]
    for (const control of controls) {
      const error = await control().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConfigurationError)
      expect(error).toMatchObject({ option: 'note' })
      expect((error as Error).message).toMatch(/expected text of 1 to 500 characters/)
      expect((error as Error).message).toMatch(got)
    }
    const after = await scheduler.getSubscription(id)
    expect({ status: after.status, nextRunAt: after.nextRunAt, runAt: after.runAt, history: after.history }).toEqual({
      status: before.status, nextRunAt: before.nextRunAt, runAt: before.runAt, history: before.history,
    })
  })

  test('500 characters are kept whole; an unknown option of resume() or reschedule() is named', async () => {
    const id = await daily()
    await scheduler.pause(id, { note: 'n'.repeat(500) })
    expect((await historyOf(id))[0]!.note).toHaveLength(500)
    await expect(scheduler.resume(id, { note: 'ok', reason: 'x' } as never)).rejects.toThrow(/unknown option of resume\(\).*it takes note/)
    await expect(scheduler.reschedule(id, { runAt: '07:00' }, { notes: 'x' } as never)).rejects.toThrow(/unknown option of reschedule\(\); did you mean `note`\?/)
  })
})

describe('a long history', () => {
  test('getSubscription() lists the last 20 entries by default, and up to 1000 when asked: a trial saw 20 of 300, with no way to the rest', async () => {
    const id = await daily()
    for (let i = 0; i < 15; i++) {
      await scheduler.pause(id, { note: `pause ${i}` })
      await scheduler.resume(id, { note: `resume ${i}` })
    }
    expect((await scheduler.getSubscription(id)).history).toHaveLength(20)
    const all = (await scheduler.getSubscription(id, { history: 1000 })).history
    expect(all).toHaveLength(30)
    expect(all.at(-1)).toMatchObject({ kind: 'paused', note: 'pause 0' })
    expect(all[0]).toMatchObject({ kind: 'resumed', note: 'resume 14' })
    expect((await scheduler.getSubscription(id, { history: 0 })).history).toEqual([])
    await expect(scheduler.getSubscription(id, { history: -1 })).rejects.toThrow(ConfigurationError)
    await expect(scheduler.getSubscription(id, { histroy: 5 } as never)).rejects.toThrow(/did you mean `history`/)
  })
})
