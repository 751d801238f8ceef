/**
 * The admin routes that steer one subscription's schedule, over real HTTP against a real,
 * started scheduler: upcoming, skip, pause (until), backfill and PATCH; each bad input, and the
 * 409 for a subscription whose call is in flight. The clock is manual, so every slot asserted is
 * exact; pg-boss still waits a job's real delay (a retry's backoff) on the database's clock.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { createSubscriptionScheduler } from '../src/index.js'
import type { RunSummary, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../src/testing.js'
import { listen } from './support/listen.js'
import type { Listening } from './support/listen.js'
import { useStartedScheduler } from './support/schedulers.js'

const TOKEN = 'schedule-routes-token-0123456789abcdef'
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'
const clock = createManualClock('2026-03-02T08:00:00.000Z') // Monday, 08:00 UTC
const logger = captureLogger()
const worker = createFakeWorkerClient()
let server: Listening
let base: string

interface Reply {
  status: number
  headers: Headers
  body: any // JSON from the wire
}

async function call(method: string, path: string, init: { json?: unknown; body?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }
  if (init.json !== undefined || init.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${base}${path}`, { method, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body })
  return { status: response.status, headers: response.headers, body: await response.json() }
}

/** A host subscription, enrolled with `settings` at the clock's current time. */
async function subscription(settings: Parameters<SubscriptionScheduler['enroll']>[1] = {}, frequency = 'daily'): Promise<string> {
  const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), $1) RETURNING id`, [frequency])
  await shared.scheduler.enroll(rows[0]!.id, settings)
  return rows[0]!.id
}

/** `count` daily slots from `first` (ISO), as the API writes them. */
const daily = (first: string, count: number) => Array.from({ length: count }, (_, i) => new Date(Date.parse(first) + i * 86_400_000).toISOString())

async function finishedRun(runId: string): Promise<RunSummary> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const run = await shared.scheduler.getRun(runId)
    if (run.finishedAt) return run
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`run ${runId} did not finish within 30 s`)
}

/** A 400 with its code and the field it names. */
/** A subscription whose on-demand call is in flight for 1.5 s, once its call has started. */
async function callInFlight(): Promise<{ id: string; run: { runId: string } }> {
  clock.set('2026-03-02T08:00:00.000Z')
  const id = await subscription()
  worker.on(id, { delayMs: 1500 })
  // Counted before the run starts: its call may be made before runSubscription() resolves.
  const before = worker.calls.length
  const run = await shared.scheduler.runSubscription(id, { wait: false })
  await worker.waitForCalls(before + 1)
  return { id, run }
}

function refused(reply: Reply) {
  return { status: reply.status, code: reply.body.error?.code, field: reply.body.error?.field }
}

const shared = useStartedScheduler({ workerClient: worker, clock, logger, retry: { limit: 0 } })

beforeAll(async () => {
  server = await listen(createAdminHandler(shared.scheduler, { authorize: bearerToken(TOKEN), logger }))
  base = server.base
})

// Registered after useStartedScheduler's, so run before it: the server closes before the scheduler stops.
afterAll(async () => {
  await server?.close()
})

describe('GET /subscriptions/:id/upcoming', () => {
  test('the next five slots by default, in its own zone and time of day; ?count= asks for more or fewer', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription({ timezone: 'Europe/Berlin', runAt: '07:30' })
    // 07:30 in Berlin (CET) is 06:30 UTC; today's has passed.
    expect(await call('GET', `/subscriptions/${id}/upcoming`)).toMatchObject({ status: 200, body: { upcoming: daily('2026-03-03T06:30:00.000Z', 5) } })
    expect((await call('GET', `/subscriptions/${id}/upcoming?count=2`)).body).toEqual({ upcoming: daily('2026-03-03T06:30:00.000Z', 2) })
    expect((await call('GET', `/subscriptions/${id}/upcoming?count=1000`)).body.upcoming).toHaveLength(1000)
  })

  test('?count= outside 1..1000 or not a whole number is 400 INVALID_INPUT naming count', async () => {
    const id = await subscription()
    for (const count of ['0', '1001', 'ten', '1.5', '-1', '']) {
      const reply = await call('GET', `/subscriptions/${id}/upcoming?count=${count}`)
      expect({ count, ...refused(reply) }).toEqual({ count, status: 400, code: 'INVALID_INPUT', field: 'count' })
    }
  })
})

describe('POST /subscriptions/:id/skip', () => {
  test('skips the next slot, answers it and the next one, and the upcoming list moves on', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription({ runAt: '09:00' })
    const skipped = await call('POST', `/subscriptions/${id}/skip`)
    expect(skipped).toMatchObject({ status: 200, body: { skipped: '2026-03-02T09:00:00.000Z', nextRunAt: '2026-03-03T09:00:00.000Z' } })
    expect((await call('GET', `/subscriptions/${id}/upcoming?count=2`)).body.upcoming).toEqual(daily('2026-03-03T09:00:00.000Z', 2))
    const { body } = await call('GET', `/subscriptions/${id}`)
    expect(body.history[0]).toMatchObject({ kind: 'skipped', slot: '2026-03-02T09:00:00.000Z' })
  })

  test('with { slot }, skips that slot once: sent again, the same 200; a slot no longer next is 409 SUBSCRIPTION_STATE naming the next one', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription({ runAt: '09:00' })
    const json = { slot: '2026-03-02T09:00:00.000Z' }
    const first = await call('POST', `/subscriptions/${id}/skip`, { json })
    expect(first).toMatchObject({ status: 200, body: { skipped: json.slot, nextRunAt: '2026-03-03T09:00:00.000Z' } })
    expect(await call('POST', `/subscriptions/${id}/skip`, { json })).toMatchObject({ status: 200, body: first.body })
    const stale = await call('POST', `/subscriptions/${id}/skip`, { json: { slot: '2026-03-05T09:00:00.000Z' } })
    expect(refused(stale)).toEqual({ status: 409, code: 'SUBSCRIPTION_STATE', field: undefined })
    expect(stale.body.error.message).toMatch(/its next slot is 2026-03-03T09:00:00\.000Z\. .*GET \/subscriptions\/<id>\/upcoming/)
    expect((await call('GET', `/subscriptions/${id}`)).body.history.filter((h: { kind: string }) => h.kind === 'skipped')).toHaveLength(1)
  })

  test('takes only slot, an ISO instant with its zone', async () => {
    const id = await subscription()
    expect(refused(await call('POST', `/subscriptions/${id}/skip`, { json: { count: 2 } }))).toEqual({ status: 400, code: 'INVALID_BODY', field: 'count' })
    expect(refused(await call('POST', `/subscriptions/${id}/skip`, { json: { slot: 1772442000000 } }))).toEqual({ status: 400, code: 'INVALID_BODY', field: 'slot' })
    expect(refused(await call('POST', `/subscriptions/${id}/skip`, { json: { slot: '2026-03-02 09:00' } }))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'slot' })
  })
})

describe('POST /subscriptions/:id/pause', () => {
  test('with { until }: paused until then, its first slot after it next; without: paused until resumed', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription({ runAt: '09:00' })
    const paused = await call('POST', `/subscriptions/${id}/pause`, { json: { until: '2026-03-05T12:00:00+01:00' } })
    expect(paused).toMatchObject({ status: 200, body: { status: 'paused', pausedReason: 'manual', pausedUntil: '2026-03-05T11:00:00.000Z', nextRunAt: '2026-03-06T09:00:00.000Z' } })
    expect(paused.body.history[0]).toMatchObject({ kind: 'paused', detail: 'until 2026-03-05T11:00:00.000Z' })
    expect((await call('GET', `/subscriptions/${id}/upcoming?count=1`)).body.upcoming).toEqual(['2026-03-06T09:00:00.000Z'])

    const forGood = await call('POST', `/subscriptions/${id}/pause`)
    expect(forGood).toMatchObject({ status: 200, body: { status: 'paused', pausedUntil: null } })
    expect((await call('GET', `/subscriptions/${id}/upcoming`)).body.upcoming).toEqual([])
  })

  test('an until that is not an ISO instant with a zone, not a string, or not in the future is a 400 naming until', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription()
    const cases: [unknown, string][] = [
      ['tomorrow', 'INVALID_INPUT'],
      ['2026-03-05T12:00:00', 'INVALID_INPUT'], // no zone
      ['2026-02-30T12:00:00Z', 'INVALID_INPUT'],
      [1772700000000, 'INVALID_BODY'],
      [null, 'INVALID_BODY'],
      ['2026-03-01T00:00:00Z', 'INVALID_INPUT'], // before the clock's now
    ]
    for (const [until, code] of cases) {
      expect({ until, ...refused(await call('POST', `/subscriptions/${id}/pause`, { json: { until } })) }).toEqual({ until, status: 400, code, field: 'until' })
    }
    const misspelt = await call('POST', `/subscriptions/${id}/pause`, { json: { untill: '2026-03-05T12:00:00Z' } })
    expect(refused(misspelt)).toEqual({ status: 400, code: 'INVALID_BODY', field: 'untill' })
    expect(misspelt.body.error.message).toContain('Unknown body field "untill" (did you mean "until"?)')
    expect((await shared.scheduler.getSubscription(id)).status).toBe('pending')
  })
})

describe('POST /subscriptions/:id/backfill', () => {
  test('starts the backfill and answers 202 with its run at once; the run processes every slot in the range', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription({ runAt: '09:00' })
    clock.set('2026-03-10T12:00:00.000Z')
    const reply = await call('POST', `/subscriptions/${id}/backfill`, { json: { from: '2026-02-22T00:00:00Z', to: '2026-02-24T09:00:00Z' } })
    expect(reply).toMatchObject({ status: 202, body: { runId: expect.any(String) } })
    expect(reply.headers.get('location')).toBe(`/runs/${reply.body.runId}`)
    expect(await finishedRun(reply.body.runId)).toMatchObject({ trigger: 'backfill', processed: 3, successful: 3, failed: 0 })
    expect(worker.callsFor(id).map((c) => c.scheduledFor)).toEqual(daily('2026-02-22T09:00:00.000Z', 3))
  })

  test('a missing, malformed, future, reversed or too long range is a 400 naming the field', async () => {
    clock.set('2026-03-10T12:00:00.000Z')
    const id = await subscription()
    const cases: [unknown, string, string][] = [
      [{ from: '2026-03-01T00:00:00Z' }, 'INVALID_BODY', 'to'],
      [{ to: '2026-03-01T00:00:00Z' }, 'INVALID_BODY', 'from'],
      [{ from: 'last week', to: '2026-03-01T00:00:00Z' }, 'INVALID_INPUT', 'from'],
      [{ from: '2026-03-01T00:00:00Z', to: 20260305 }, 'INVALID_BODY', 'to'],
      [{ from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' }, 'INVALID_INPUT', 'to'], // after the clock's now
      [{ from: '2026-03-05T00:00:00Z', to: '2026-03-01T00:00:00Z' }, 'INVALID_INPUT', 'to'],
      [{ from: '2020-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }, 'INVALID_INPUT', 'to'], // more than 1000 slots
    ]
    for (const [json, code, field] of cases) {
      expect({ json, ...refused(await call('POST', `/subscriptions/${id}/backfill`, { json })) }).toEqual({ json, status: 400, code, field })
    }
    expect(refused(await call('POST', `/subscriptions/${id}/backfill`))).toEqual({ status: 400, code: 'INVALID_BODY', field: 'from' })
    expect(refused(await call('POST', `/subscriptions/${id}/backfill`, { json: { from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z', wait: true } }))).toMatchObject({ status: 400, code: 'INVALID_BODY' })
  })

  test('a scheduler that is not started answers 503 NOT_STARTED', async () => {
    const id = await subscription()
    const idle = createAdminHandler(createSubscriptionScheduler(shared.db.pool, { workerClient: worker, logger, migrate: false }), { authorize: bearerToken(TOKEN), logger })
    const response = await idle.fetch(new Request(`http://admin.test/subscriptions/${id}/backfill`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: '2026-02-01T00:00:00Z', to: '2026-02-02T00:00:00Z' }),
    }))
    expect(response.status).toBe(503)
    expect((await response.json()).error.code).toBe('NOT_STARTED')
  })
})

describe('POST /subscriptions/:id/enroll', () => {
  test('enrols a subscription the host just added, with or without settings: 201 the first time, 200 after; 404 for no host row', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const { rows } = await shared.db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily'), (gen_random_uuid(), 'daily') RETURNING id`)
    const [plain, timed] = rows.map((r) => r.id) as [string, string]
    // Not enrolled yet: the routes that need a row say so.
    expect((await call('GET', `/subscriptions/${plain}`)).status).toBe(404)
    expect(await call('POST', `/subscriptions/${plain}/enroll`)).toMatchObject({ status: 201, body: { subscriptionId: plain, created: true, status: 'pending', nextRunAt: null } })
    expect(await call('POST', `/subscriptions/${plain}/enroll`)).toMatchObject({ status: 200, body: { created: false } })
    expect(await call('POST', `/subscriptions/${timed}/enroll`, { json: { runAt: '10:00', timezone: 'Europe/Berlin' } }))
      .toMatchObject({ status: 201, body: { runAt: '10:00', timezone: 'Europe/Berlin', nextRunAt: '2026-03-02T09:00:00.000Z' } })
    expect(await call('POST', `/subscriptions/${UNKNOWN_ID}/enroll`)).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } })
    expect(await call('POST', `/subscriptions/${plain}/enroll`, { json: { runat: '10:00' } })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY' } } })
  })
})

describe('PATCH /subscriptions/:id', () => {
  test('changes the settings sent, recomputes the next slot at once, and null clears a setting', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription({ runAt: '09:00' }, 'weekly')
    const changed = await call('PATCH', `/subscriptions/${id}`, { json: { runAt: '07:30', timezone: 'Europe/Berlin', anchor: '2026-03-04T12:00:00Z' } })
    // Wednesdays at 07:30 in Berlin (CET, UTC+1).
    expect(changed).toMatchObject({ status: 200, body: { nextRunAt: '2026-03-04T06:30:00.000Z' } })
    expect((await call('GET', `/subscriptions/${id}`)).body).toMatchObject({ runAt: '07:30', timezone: 'Europe/Berlin', anchorAt: '2026-03-04T12:00:00.000Z' })

    expect((await call('PATCH', `/subscriptions/${id}`, { json: { timezone: null, runAt: null } })).body).toEqual({ nextRunAt: '2026-03-04T09:00:00.000Z' })
    expect((await call('PATCH', `/subscriptions/${id}`, { json: { endsAt: '2026-03-03T00:00:00Z' } })).body).toEqual({ nextRunAt: null })
    expect((await call('GET', `/subscriptions/${id}`)).body).toMatchObject({ status: 'ended', endsAt: '2026-03-03T00:00:00.000Z', timezone: null, runAt: null })
    expect((await call('PATCH', `/subscriptions/${id}`, { json: { endsAt: null, startsAt: '2026-03-20T00:00:00Z' } })).body).toEqual({ nextRunAt: '2026-03-25T09:00:00.000Z' })
    const { body } = await call('GET', `/subscriptions/${id}`)
    expect(body).toMatchObject({ status: 'pending', endsAt: null, startsAt: '2026-03-20T00:00:00.000Z' })
    expect(body.history.map((h: { kind: string }) => h.kind)).toEqual(['rescheduled', 'rescheduled', 'rescheduled', 'rescheduled'])
  })

  test('bad JSON, no field, unknown fields, wrong types, malformed dates and refused values are 400s naming the field', async () => {
    const id = await subscription()
    const cases: [string, string, string | undefined][] = [
      ['{"runAt": "07:', 'INVALID_BODY', undefined],
      ['{}', 'INVALID_BODY', undefined],
      ['{"runat": "07:30"}', 'INVALID_BODY', 'runat'],
      ['{"runAt": 730}', 'INVALID_BODY', 'runAt'],
      ['{"timezone": ["UTC"]}', 'INVALID_BODY', 'timezone'],
      ['{"anchor": 1772700000000}', 'INVALID_BODY', 'anchor'],
      ['{"runAt": "7am"}', 'INVALID_INPUT', 'runAt'],
      ['{"timezone": "Mars/Olympus"}', 'INVALID_INPUT', 'timezone'],
      ['{"startsAt": "next monday"}', 'INVALID_INPUT', 'startsAt'],
      ['{"endsAt": "2026-03-10"}', 'INVALID_INPUT', 'endsAt'],
      ['{"startsAt": "2026-04-02T00:00:00Z", "endsAt": "2026-04-01T00:00:00Z"}', 'INVALID_INPUT', 'endsAt'],
    ]
    const before = await shared.scheduler.getSubscription(id)
    for (const [body, code, field] of cases) {
      expect({ body, ...refused(await call('PATCH', `/subscriptions/${id}`, { body })) }).toEqual({ body, status: 400, code, field })
    }
    expect(await shared.scheduler.getSubscription(id)).toEqual(before)
    // A body that is no object is told this route's fields, not another route's.
    const array = await call('PATCH', `/subscriptions/${id}`, { body: '[]' })
    expect(array.body.error.message).toMatch(/JSON object, such as \{"timezone": …\}; this route takes "timezone", "runAt"/)
  })
})

describe('{ note } in the body of pause, resume, skip and PATCH', () => {
  test('each keeps the note with its history entry; a note alone is no PATCH', async () => {
    clock.set('2026-03-02T08:00:00.000Z')
    const id = await subscription({ runAt: '09:00' })
    expect((await call('POST', `/subscriptions/${id}/skip`, { json: { note: 'holiday' } })).status).toBe(200)
    expect((await call('PATCH', `/subscriptions/${id}`, { json: { runAt: '07:30', note: 'before the batch' } })).status).toBe(200)
    expect((await call('POST', `/subscriptions/${id}/pause`, { json: { until: '2026-03-10T00:00:00Z', note: 'ticket #7' } })).status).toBe(200)
    const resumed = await call('POST', `/subscriptions/${id}/resume`, { json: { note: 'ticket #7 closed' } })
    expect(resumed.status).toBe(200)
    expect(resumed.body.history.map((h: { kind: string; note: string | null }) => [h.kind, h.note]).reverse()).toEqual([
      ['skipped', 'holiday'], ['rescheduled', 'before the batch'], ['paused', 'ticket #7'], ['resumed', 'ticket #7 closed'],
    ])
    const paused = await call('POST', `/subscriptions/${id}/pause`, { json: { note: 'for good' } })
    expect(paused.body).toMatchObject({ status: 'paused', pausedUntil: null })
    expect(paused.body.history[0]).toMatchObject({ kind: 'paused', note: 'for good' })
    expect(refused(await call('PATCH', `/subscriptions/${id}`, { json: { note: 'nothing else' } }))).toEqual({ status: 400, code: 'INVALID_BODY', field: undefined })
  })

  test('a note that is no text, blank or too long is a 400 naming note, and nothing changes', async () => {
    const id = await subscription()
    const before = await shared.scheduler.getSubscription(id)
    for (const note of [7, null, '', ' ', 'x'.repeat(501)]) {
      for (const [method, path, json] of [
        ['POST', `/subscriptions/${id}/pause`, { note }],
        ['POST', `/subscriptions/${id}/skip`, { note }],
        ['POST', `/subscriptions/${id}/resume`, { note }],
        ['PATCH', `/subscriptions/${id}`, { runAt: '07:30', note }],
      ] as const) {
        const reply = await call(method, path, { json })
        expect({ path, note, ...refused(reply) }).toEqual({ path, note, status: 400, code: 'INVALID_INPUT', field: 'note' })
        expect(reply.body.error.message).toMatch(/expected text of 1 to 500 characters/)
      }
    }
    // Text Postgres cannot store: a 400 naming note, not a 500 from the history's insert.
    for (const [method, path, json] of [
      ['POST', `/subscriptions/${id}/pause`, { note: 'paused by \u0000 ops' }],
      ['POST', `/subscriptions/${id}/skip`, { note: '\u0000' }],
      ['PATCH', `/subscriptions/${id}`, { runAt: '07:30', note: 'a\u0000b' }],
    ] as const) {
      const reply = await call(method, path, { json })
      expect({ path, ...refused(reply) }).toEqual({ path, status: 400, code: 'INVALID_INPUT', field: 'note' })
      expect(reply.body.error.message).toMatch(/NUL character/)
    }
    expect(refused(await call('POST', `/subscriptions/${id}/resume`, { json: { notes: 'x' } }))).toEqual({ status: 400, code: 'INVALID_BODY', field: 'notes' })
    expect(await shared.scheduler.getSubscription(id)).toEqual(before)
  })
})

describe('every route', () => {
  const routes = (id: string): [string, string, unknown][] => [
    ['GET', `/subscriptions/${id}/upcoming`, undefined],
    ['POST', `/subscriptions/${id}/skip`, undefined],
    ['POST', `/subscriptions/${id}/pause`, { until: '2026-12-01T00:00:00Z' }],
    ['POST', `/subscriptions/${id}/backfill`, { from: '2026-02-01T00:00:00Z', to: '2026-02-02T00:00:00Z' }],
    ['PATCH', `/subscriptions/${id}`, { runAt: '10:00' }],
  ]

  test('an id that is not a UUID is 400 INVALID_ID; an unknown one 404 NOT_FOUND', async () => {
    clock.set('2026-03-10T12:00:00.000Z')
    for (const [method, path, json] of routes('not-a-uuid')) {
      expect({ path, ...refused(await call(method, path, { json })) }).toMatchObject({ path, status: 400, code: 'INVALID_ID' })
    }
    for (const [method, path, json] of routes(UNKNOWN_ID)) {
      expect({ path, ...refused(await call(method, path, { json })) }).toMatchObject({ path, status: 404, code: 'NOT_FOUND' })
    }
  })

  test('PATCH and skip are 409 SUBSCRIPTION_BUSY while a call for the subscription is in flight, and work once it settled', async () => {
    const { id, run } = await callInFlight()
    for (const [method, path, json] of [['PATCH', `/subscriptions/${id}`, { runAt: '10:00' }], ['POST', `/subscriptions/${id}/skip`, undefined]] as const) {
      const reply = await call(method, path, { json })
      expect({ path, ...refused(reply) }).toEqual({ path, status: 409, code: 'SUBSCRIPTION_BUSY', field: undefined })
      expect(reply.body.error.message).toMatch(/in flight/)
    }
    await finishedRun(run.runId)
    expect(await call('PATCH', `/subscriptions/${id}`, { json: { runAt: '10:00' } })).toMatchObject({ status: 200, body: { nextRunAt: expect.any(String) } })
  })

  test("run is 409 SUBSCRIPTION_BUSY while a call is in flight and 409 SUBSCRIPTION_STATE while paused, each saying what to do; resumed, it runs", async () => {
    const { id, run } = await callInFlight()
    const busy = await call('POST', `/subscriptions/${id}/run`)
    expect(refused(busy)).toEqual({ status: 409, code: 'SUBSCRIPTION_BUSY', field: undefined })
    expect(busy.body.error.message).toMatch(/queued or in flight.*once its run has called it and recorded the outcome/)
    await finishedRun(run.runId)
    await call('POST', `/subscriptions/${id}/pause`)
    const paused = await call('POST', `/subscriptions/${id}/run`)
    expect(refused(paused)).toEqual({ status: 409, code: 'SUBSCRIPTION_STATE', field: undefined })
    expect(paused.body.error.message).toMatch(/is paused \(until resumed\).*POST \/subscriptions\/<id>\/resume/)
    await call('POST', `/subscriptions/${id}/resume`)
    clock.set('2026-03-02T08:01:00.000Z') // a new instant: the run at 08:00 is recorded for that one
    expect(await call('POST', `/subscriptions/${id}/run`)).toMatchObject({ status: 200, body: { summary: { processed: 1, successful: 1 } } })
  })

  test('a subscription path with another method is 405 listing GET and PATCH', async () => {
    const reply = await call('DELETE', `/subscriptions/${UNKNOWN_ID}`)
    expect(reply.status).toBe(405)
    expect(reply.headers.get('allow')).toBe('GET, HEAD, PATCH')
    expect((await call('GET', `/subscriptions/${UNKNOWN_ID}/skip`)).headers.get('allow')).toBe('POST')
  })
})
