/**
 * The admin API over real HTTP (node:http on a random port, real fetch) against a real,
 * started scheduler: every route's happy path, validation, and how errors map to statuses.
 */
import http from 'node:http'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { createSubscriptionScheduler, RetryableError } from '../src/index.js'
import type { RunSummary, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { listen } from './support/listen.js'
import type { Listening } from './support/listen.js'
import { seedSubscriptions } from './support/seed.js'
import { pollUntil } from './support/reliability-support.js'

const TOKEN = 'routes-test-token-0123456789abcdef'
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'
const logger = captureLogger()
const worker = createFakeWorkerClient()
let db: TestDatabase
let scheduler: SubscriptionScheduler
let server: Listening
let base: string
let ok: string[]
let bad: string

interface Reply {
  status: number
  headers: Headers
  body: any // JSON from the wire
}

async function call(method: string, path: string, init: { json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, ...init.headers }
  if (init.json !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit)
  const text = await response.text()
  const isJson = response.headers.get('content-type')?.startsWith('application/json')
  return { status: response.status, headers: response.headers, body: isJson ? JSON.parse(text) : text }
}

/** Resolves with the run once this instance settles it: the event, not a poll. */
function finished(scheduler: SubscriptionScheduler): (runId: string) => Promise<RunSummary> {
  const seen = new Map<string, RunSummary>()
  const waiting = new Map<string, (run: RunSummary) => void>()
  scheduler.on('run:finished', (run) => {
    seen.set(run.runId, run)
    waiting.get(run.runId)?.(run)
  })
  return (runId) => new Promise((resolve) => (seen.has(runId) ? resolve(seen.get(runId)!) : waiting.set(runId, resolve)))
}
let runFinished: (runId: string) => Promise<RunSummary>

beforeAll(async () => {
  db = await createTestDatabase()
  ok = await seedSubscriptions(db.pool, { count: 3 })
  ;[bad] = await seedSubscriptions(db.pool, { count: 1 }) as [string]
  worker.on(bad, { fail: new Error('customer 42 has no card on file') })
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5, retry: { limit: 0 } })
  runFinished = finished(scheduler)
  await scheduler.start()
  server = await listen(createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger }))
  base = server.base
})

afterAll(async () => {
  await server?.close()
  await scheduler?.stop({ timeoutMs: 2000 })
})

describe('happy paths', () => {
  test('POST /process-subscriptions runs now and answers 200 with the summary once it settles', async () => {
    const { status, body } = await call('POST', '/process-subscriptions')
    expect(status).toBe(200)
    expect(body.summary).toMatchObject({ runId: body.runId, trigger: 'manual', processed: 4, successful: 3, failed: 1 })
    expect(body.summary.finishedAt).toEqual(expect.any(String))
  })

  test('GET /health: the instance serving the API, running, with no circuit breaker', async () => {
    expect(await call('GET', '/health')).toMatchObject({ status: 200, body: { state: 'running', breaker: null, instanceId: scheduler.health().instanceId } })
  })

  test('GET /status, /runs, /runs/:id, /failures and /dashboard.json', async () => {
    const status = await call('GET', '/status')
    expect(status.status).toBe(200)
    expect(status.body).toMatchObject({ total: 4, counts: { completed: 3, failed: 1 }, queue: { waiting: 0, active: 0 } })
    expect(Date.parse(status.body.nextFireAt)).toBeGreaterThan(Date.now())

    const runs = await call('GET', '/runs?limit=1')
    expect(runs.status).toBe(200)
    expect(runs.body.runs).toHaveLength(1)
    const [latest] = runs.body.runs
    expect(latest).toEqual(status.body.lastRun)

    const run = await call('GET', `/runs/${latest.runId}`)
    expect(run).toMatchObject({ status: 200, body: latest })

    const failures = await call('GET', '/failures?limit=5')
    expect(failures.body.failures).toEqual([expect.objectContaining({ subscriptionId: bad, final: true, error: expect.stringContaining('no card on file') })])

    const dashboard = await call('GET', '/dashboard.json')
    expect(dashboard.status).toBe(200)
    const instances = await call('GET', '/instances')
    expect(instances).toMatchObject({ status: 200, body: { instances: [{ instanceId: scheduler.health().instanceId, state: 'running', works: true }] } })
    expect(dashboard.body).toEqual({
      status: status.body, runs: expect.any(Array), failures: failures.body.failures, failing: [expect.objectContaining({ subscriptionId: bad })],
      instances: instances.body.instances.map((i: object) => ({ ...i, seenAt: expect.any(String) })), instance: { state: 'running', breaker: null, instanceId: scheduler.health().instanceId },
    })
    expect(dashboard.body.runs[0]).toEqual(latest)
  })

  test('GET /subscriptions/:id is the row with its recent errors', async () => {
    const { status, body } = await call('GET', `/subscriptions/${bad}`)
    expect(status).toBe(200)
    expect(body).toMatchObject({ subscriptionId: bad, status: 'failed', active: true, frequency: 'daily' })
    expect(body.recentErrors).toEqual([expect.objectContaining({ subscriptionId: bad, error: expect.stringContaining('no card on file'), status: null })])
  })

  test('GET /failing lists each failing subscription once; GET /failures?runId= only that run\'s attempts', async () => {
    const [first] = (await call('GET', '/runs?limit=1')).body.runs
    const again = await call('POST', `/subscriptions/${bad}/run`)
    expect(again.body.summary).toMatchObject({ processed: 1, failed: 1 })

    const all = await call('GET', '/failures')
    expect(all.body.failures.filter((f: { subscriptionId: string }) => f.subscriptionId === bad)).toHaveLength(2)
    const failing = await call('GET', '/failing?limit=10')
    expect(failing.status).toBe(200)
    // Run again by hand, its failed slot failing again is a re-drive, not another failed run.
    expect(failing.body.failing).toEqual([expect.objectContaining({ subscriptionId: bad, status: 'failed', consecutiveFailures: 1, error: expect.stringContaining('no card on file') })])

    for (const runId of [first.runId, again.body.runId]) {
      const ofRun = await call('GET', `/failures?runId=${runId}`)
      expect(ofRun.status).toBe(200)
      expect(ofRun.body.failures).toEqual([expect.objectContaining({ runId, subscriptionId: bad })])
    }
    const quiet = (await call('GET', '/runs?limit=20')).body.runs.find((r: { failed: number }) => r.failed === 0)
    if (quiet) expect((await call('GET', `/failures?runId=${quiet.runId}`)).body.failures).toEqual([])
  })

  test('GET /runs pages back with ?before= the last run shown, and keeps only the triggers of ?trigger=', async () => {
    const all = (await call('GET', '/runs?limit=1000')).body.runs as { runId: string; trigger: string }[]
    expect(all.length).toBeGreaterThan(1)
    const [first] = (await call('GET', '/runs?limit=1')).body.runs
    const rest = await call('GET', `/runs?limit=1000&before=${first.runId}`)
    expect(rest.status).toBe(200)
    expect([first, ...rest.body.runs]).toEqual(all)
    const kept = (await call('GET', '/runs?trigger=single,manual&limit=1000')).body.runs
    expect(kept).toEqual(all.filter((r) => r.trigger === 'single' || r.trigger === 'manual'))
    expect(await call('GET', '/runs?trigger=nightly')).toMatchObject({ status: 400, body: { error: { field: 'trigger', message: '?trigger= takes cron, catch-up, manual, retry, single, rescue, backfill, or several of them comma-separated; got "nightly".' } } })
    expect(await call('GET', '/runs?trigger=manual,')).toMatchObject({ status: 400, body: { error: { field: 'trigger', message: expect.stringContaining('has an empty name in "manual,": separate trigger names with single commas') } } })
    expect(await call('GET', '/runs?before=last')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ID', field: 'before' } } })
    expect(await call('GET', `/runs?before=${UNKNOWN_ID}`)).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } })
  })

  test('GET /runs?unfinished=true lists only the runs still going; /status counts them', async () => {
    const all = (await call('GET', '/runs?limit=1000')).body.runs as { runId: string; finishedAt: string | null }[]
    expect((await call('GET', '/runs?unfinished=true')).body.runs).toEqual(all.filter((r) => r.finishedAt === null))
    // One of them back to unfinished, as a run still settling is.
    const { runId } = all.find((r) => r.finishedAt !== null)!
    const { rows: [{ finished_at }] } = await db.pool.query(`SELECT finished_at FROM subscription_scheduler.runs WHERE id = $1`, [runId])
    await db.pool.query(`UPDATE subscription_scheduler.runs SET finished_at = NULL WHERE id = $1`, [runId])
    try {
      const unfinished = (await call('GET', '/runs?unfinished=1&limit=1000')).body.runs as { runId: string }[]
      expect(unfinished.map((r) => r.runId)).toContain(runId)
      expect((await call('GET', '/runs?unfinished=false&limit=1000')).body.runs).toHaveLength(all.length)
      expect((await call('GET', '/status')).body.unfinishedRuns.count).toBe(unfinished.length)
    } finally {
      await db.pool.query(`UPDATE subscription_scheduler.runs SET finished_at = $2 WHERE id = $1`, [runId, finished_at])
    }
    expect(await call('GET', '/runs?unfinished=yes')).toMatchObject({ status: 400, body: { error: { field: 'unfinished', message: '?unfinished= must be true or false (or 1 or 0), got "yes".' } } })
  })

  test('POST /subscriptions/:id/pause, then /resume', async () => {
    const paused = await call('POST', `/subscriptions/${ok[0]}/pause`)
    expect(paused).toMatchObject({ status: 200, body: { subscriptionId: ok[0], status: 'paused', pausedReason: 'manual' } })
    expect(await call('POST', `/subscriptions/${ok[0]}/resume`, { json: { forgive: 'yes' } })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY', field: 'forgive', message: 'forgive must be true or false, got "yes".' } } })
    const resumed = await call('POST', `/subscriptions/${ok[0]}/resume`, { json: { forgive: true } })
    expect(resumed).toMatchObject({ status: 200, body: { subscriptionId: ok[0], status: 'pending', pausedReason: null } })
  })

  test('POST /calls/pause holds every run (409 CALLS_PAUSED, naming the note) until POST /calls/resume; /status shows the pause', async () => {
    const paused = await call('POST', '/calls/pause', { json: { note: 'worker deploy' } })
    expect(paused).toMatchObject({ status: 200, body: { callsPaused: { pausedAt: expect.any(String), note: 'worker deploy' } } })
    expect((await call('GET', '/status')).body.callsPaused).toEqual(paused.body.callsPaused)
    const refused = await call('POST', '/process-subscriptions')
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'CALLS_PAUSED', message: expect.stringContaining('calls are paused fleet-wide since') } } })
    expect(refused.body.error.message).toContain('("worker deploy")')
    expect((await call('POST', '/calls/pause', { json: { reason: 'x' } })).status).toBe(400)
    const resumed = await call('POST', '/calls/resume', { json: {} })
    expect(resumed).toMatchObject({ status: 200, body: { resumed: paused.body.callsPaused } })
    expect(await call('POST', '/calls/resume')).toMatchObject({ status: 200, body: { resumed: null } })
    expect((await call('GET', '/status')).body.callsPaused).toBeNull()
  })

  test('POST /subscriptions/:id/run processes that one subscription: 200 waiting, 202 not', async () => {
    const waited = await call('POST', `/subscriptions/${ok[1]}/run`)
    expect(waited.status).toBe(200)
    expect(waited.body.summary).toMatchObject({ trigger: 'single', processed: 1, successful: 1 })

    const started = await call('POST', `/subscriptions/${ok[1]}/run`, { json: { wait: false } })
    expect(started.status).toBe(202)
    expect(started.body).toEqual({ runId: expect.any(String) })
    expect(started.headers.get('location')).toBe(`/runs/${started.body.runId}`)
    expect(await runFinished(started.body.runId)).toMatchObject({ processed: 1, successful: 1 })
  })

  test('POST /failed/retry re-drives the failed subscriptions, or only those named', async () => {
    worker.on(bad, { result: { ok: true } })
    const named = await call('POST', '/failed/retry', { json: { subscriptionIds: [bad] } })
    expect(named.status).toBe(200)
    expect(named.body.summary).toMatchObject({ trigger: 'retry', processed: 1, successful: 1, failed: 0 })
    expect((await call('GET', `/subscriptions/${bad}`)).body.status).toBe('completed')

    const none = await call('POST', '/failed/retry?wait=false')
    expect(none.status).toBe(202)
    expect(await runFinished(none.body.runId)).toMatchObject({ processed: 0 })
  })

  test('?wait=false and {"wait": false} both answer 202 at once with where to follow the run', async () => {
    for (const request of [call('POST', '/process-subscriptions?wait=false'), call('POST', '/process-subscriptions', { json: { wait: false } })]) {
      const { status, body, headers } = await request
      expect(status).toBe(202)
      expect(headers.get('location')).toBe(`/runs/${body.runId}`)
      const run = await call('GET', `/runs/${body.runId}`)
      expect(run.status).toBe(200)
      await runFinished(body.runId)
    }
  })
  test('a waited run still going after waitSeconds (25 by default) is answered 202, saying so and where to follow it: a proxy in front never cuts the answer', async () => {
    const [slow] = await seedSubscriptions(db.pool, { count: 1 })
    worker.on(slow!, { delayMs: 4000 })
    const waited = await call('POST', `/subscriptions/${slow}/run?waitSeconds=1`)
    expect(waited.status).toBe(202)
    expect(waited.headers.get('location')).toBe(`/runs/${waited.body.runId}`)
    expect(waited.body).toEqual({
      runId: expect.any(String),
      finished: false,
      message: `Run ${waited.body.runId} is still going after 1 s, the most this request waits (waitSeconds): follow it at /runs/${waited.body.runId}. It goes on; do not start it again.`,
    })
    expect(await runFinished(waited.body.runId)).toMatchObject({ processed: 1, successful: 1 })
    // Within its bound, a waited run is answered with its summary, as without one.
    const inTime = await call('POST', `/subscriptions/${ok[2]}/run`, { json: { waitSeconds: 60 } })
    expect(inTime).toMatchObject({ status: 200, body: { summary: { processed: 1, successful: 1 } } })
  })
})

describe('validation and errors', () => {
  test('waitSeconds is a whole number of seconds from 1 to 300, given once, and only with a wait', async () => {
    for (const query of ['waitSeconds=0', 'waitSeconds=301', 'waitSeconds=1.5', 'waitSeconds=soon', 'wait=false&waitSeconds=5']) {
      const reply = await call('POST', `/process-subscriptions?${query}`)
      expect(reply.status, query).toBe(400)
      expect(reply.body.error.message, query).toMatch(/waitSeconds/)
    }
    expect((await call('POST', '/process-subscriptions', { json: { waitSeconds: '5' } })).body.error).toMatchObject({ code: 'INVALID_BODY', message: 'waitSeconds must be a whole number of seconds from 1 to 300, got "5".' })
    expect((await call('POST', '/process-subscriptions?waitSeconds=5', { json: { waitSeconds: 5 } })).status).toBe(400)
  })

  test('ids that are not UUIDs are 400 INVALID_ID', async () => {
    for (const [method, path] of [['GET', '/runs/42'], ['GET', '/subscriptions/nope'], ['POST', '/subscriptions/1%20OR%201=1/run'], ['POST', '/subscriptions/x/pause'], ['POST', '/subscriptions/x/resume']] as const) {
      const { status, body } = await call(method, path)
      expect({ path, status, code: body.error.code }).toEqual({ path, status: 400, code: 'INVALID_ID' })
    }
    const listed = await call('POST', '/failed/retry', { json: { subscriptionIds: [bad, 'not-a-uuid'] } })
    expect(listed).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ID', field: 'subscriptionIds', message: expect.stringContaining('subscriptionIds[1]') } } })
    expect(await call('POST', '/failed/retry', { json: { subscriptionIds: 'x' } })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY', field: 'subscriptionIds' } } })
    expect(await call('POST', '/failed/retry', { json: { wait: 'yes' } })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_BODY', field: 'wait' } } })
  })

  test('ids that are UUIDs but unknown are 404 NOT_FOUND', async () => {
    for (const [method, path] of [['GET', `/runs/${UNKNOWN_ID}`], ['GET', `/subscriptions/${UNKNOWN_ID}`], ['POST', `/subscriptions/${UNKNOWN_ID}/pause`], ['POST', `/subscriptions/${UNKNOWN_ID}/run`], ['GET', `/failures?runId=${UNKNOWN_ID}`]] as const) {
      const { status, body } = await call(method, path)
      expect({ path, status, code: body.error.code }).toEqual({ path, status: 404, code: 'NOT_FOUND' })
    }
  })

  test('unknown routes are 404, known routes with the wrong method 405 with Allow', async () => {
    expect(await call('GET', '/nothing-here')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } })
    expect(await call('GET', '/subscription')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } })
    const get = await call('GET', '/process-subscriptions')
    expect(get).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } })
    expect(get.headers.get('allow')).toBe('POST')
    const del = await call('DELETE', '/status')
    expect(del.status).toBe(405)
    expect(del.headers.get('allow')).toBe('GET, HEAD')
  })

  test('HEAD answers as GET does, without the body but with its length; unauthenticated it is 401 too', async () => {
    const get = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
    const length = (await get.arrayBuffer()).byteLength
    const head = await fetch(`${base}/status`, { method: 'HEAD', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'))
    expect(Number(head.headers.get('content-length'))).toBe(length)
    expect((await head.arrayBuffer()).byteLength).toBe(0)
    expect((await fetch(`${base}/status`, { method: 'HEAD' })).status).toBe(401)
    expect((await fetch(`${base}/process-subscriptions`, { method: 'HEAD', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405)
  })

  test('a method a Web Request cannot carry (TRACE) is refused, and the server carries on', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(`${base}/status`, { method: 'TRACE', headers: { authorization: `Bearer ${TOKEN}` } }, (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
      request.on('error', reject)
      request.end()
    })
    expect(status).toBe(400)
    expect((await call('GET', '/status')).status).toBe(200)
  })

  test('bodies must be JSON objects, with known fields, of at most 64 KB', async () => {
    const cases: [BodyInit, string | undefined, number, string][] = [
      ['{"wait": fal', 'application/json', 400, 'INVALID_BODY'],
      ['[1, 2]', 'application/json', 400, 'INVALID_BODY'],
      ['null', 'application/json', 400, 'INVALID_BODY'],
      ['wait=false', 'application/x-www-form-urlencoded', 400, 'INVALID_BODY'],
      ['{"wiat": false}', 'application/json', 400, 'INVALID_BODY'],
      ['{"wait": "no"}', 'application/json', 400, 'INVALID_BODY'],
      // 10 KB of brackets: describing the field's value overflowed the stack, a 500 (a security trial).
      [`{"wait": ${'['.repeat(5_000)}${']'.repeat(5_000)}}`, 'application/json', 400, 'INVALID_BODY'],
      [JSON.stringify({ wait: false, pad: 'x'.repeat(70_000) }), 'application/json', 413, 'PAYLOAD_TOO_LARGE'],
    ]
    for (const [body, type, status, code] of cases) {
      const reply = await call('POST', '/process-subscriptions', { body, headers: type ? { 'content-type': type } : {} })
      expect({ body: String(body).slice(0, 20), status: reply.status, code: reply.body.error?.code }).toEqual({ body: String(body).slice(0, 20), status, code })
    }
    // Streamed, with no Content-Length to refuse it up front.
    const chunk = new TextEncoder().encode(`{"pad": "${'x'.repeat(40_000)}`)
    const stream = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(chunk); c.enqueue(chunk); c.close() } })
    const streamed = await call('POST', '/process-subscriptions', { body: stream, headers: { 'content-type': 'application/json' } })
    expect(streamed).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } })
    // The connection is still usable after a refused body.
    expect((await call('GET', '/status')).status).toBe(200)
  })

  test('GET /failures pages back with ?before= (the id of the last entry) and keeps ?final= attempts only; an unknown before is 404', async () => {
    const retried = (await seedSubscriptions(db.pool, { count: 1 }))[0]!
    // One attempt retried, then the slot given up: two entries of one run, final false then true.
    worker.on(retried, { fail: new RetryableError('busy') })
    // Its own queues: the instance of this file (retry limit 0) would give the slot up at once.
    const own = createSubscriptionScheduler(db.pool, { workerClient: worker, logger: captureLogger(), migrate: false, pollingIntervalSeconds: 0.5, queuePrefix: 'paging', retry: { limit: 1, delaySeconds: 1, maxDelaySeconds: 1 } })
    await own.start()
    try {
      await own.runSubscription(retried)
    } finally {
      await own.stop({ timeoutMs: 2000 })
    }
    const newest = (await call('GET', '/failures?limit=1')).body.failures as { id: string; subscriptionId: string; final: boolean }[]
    expect(newest).toEqual([expect.objectContaining({ id: expect.stringMatching(/^\d+$/), subscriptionId: retried, final: true })])
    const next = (await call('GET', `/failures?limit=1&before=${newest[0]!.id}`)).body.failures as typeof newest
    expect(next).toEqual([expect.objectContaining({ subscriptionId: retried, final: false })])
    const all = (await call('GET', '/failures?limit=200')).body.failures as typeof newest
    const pages: typeof newest = []
    for (let before = ''; ; ) {
      const page = (await call('GET', `/failures?limit=2${before}`)).body.failures as typeof newest
      pages.push(...page)
      if (page.length < 2) break
      before = `&before=${page.at(-1)!.id}`
    }
    expect(pages).toEqual(all)
    expect(((await call('GET', '/failures?final=false&limit=200')).body.failures as typeof newest).map((f) => f.final)).toEqual(all.filter((f) => !f.final).map(() => false))
    expect(((await call('GET', '/failures?final=true&limit=200')).body.failures as typeof newest)).toEqual(all.filter((f) => f.final))
    expect(await call('GET', '/failures?before=999999999')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', message: expect.stringContaining('No failure entry with id 999999999') } } })
    for (const before of ['abc', '0', '-1', '1.5']) {
      expect(await call('GET', `/failures?before=${before}`)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT', field: 'before' } } })
    }
    await expect(scheduler.listFailures({ before: 12 as unknown as string })).rejects.toThrow(/before.*string of at most 18 digits/)
  })

  test('GET /subscriptions lists them by status (inactive too, as the counts) or user, in id order, a page at a time after the last id', async () => {
    const ids = await seedSubscriptions(db.pool, { count: 5 })
    const [paused, inactive] = ids as [string, string]
    await scheduler.pause(paused)
    await db.pool.query(`UPDATE subscriptions SET active = false WHERE id = $1`, [inactive])
    const { rows } = await db.pool.query<{ user_id: string }>(`SELECT user_id::text FROM subscriptions WHERE id = $1`, [ids[2]])
    const list = async (query: string) => ((await call('GET', `/subscriptions?${query}`)).body.subscriptions as { subscriptionId: string; status: string; active: boolean; userId: string }[])
    expect((await list('status=paused')).map((s) => s.subscriptionId)).toEqual([paused])
    expect(await list('status=inactive')).toEqual([expect.objectContaining({ subscriptionId: inactive, active: false })])
    expect(await list(`userId=${rows[0]!.user_id}`)).toEqual([expect.objectContaining({ subscriptionId: ids[2], userId: rows[0]!.user_id, frequency: 'daily' })])
    const all = await list('limit=1000')
    expect(all.map((s) => s.subscriptionId)).toEqual([...all.map((s) => s.subscriptionId)].sort())
    const { rows: counted } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM subscription_processing`)
    expect(all).toHaveLength(counted[0]!.n)
    const paged: typeof all = []
    for (let after = ''; ; ) {
      const page = await list(`limit=2${after}`)
      paged.push(...page)
      if (page.length < 2) break
      after = `&after=${page.at(-1)!.subscriptionId}`
    }
    expect(paged).toEqual(all)
    expect(await call('GET', '/subscriptions?status=sleeping')).toMatchObject({ status: 400, body: { error: { field: 'status', message: expect.stringContaining('pending, queued, processing, completed, failed, paused, ended, inactive') } } })
    expect(await call('GET', '/subscriptions?after=12')).toMatchObject({ status: 400, body: { error: { field: 'after' } } })
    await expect(scheduler.listSubscriptions({ status: 'paused', userId: '' })).rejects.toThrow(/userId/)
    // Postgres cannot hold a NUL in text: refused before the query, not a 500.
    expect(await call('GET', '/subscriptions?userId=x%00y')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT', field: 'userId', message: expect.stringContaining('NUL') } } })
  })

  test("GET /subscriptions/:id takes ?history= and ?errors=, for a subscription's whole history", async () => {
    const [id] = await seedSubscriptions(db.pool, { count: 1 })
    for (let i = 0; i < 12; i++) {
      await scheduler.pause(id!)
      await scheduler.resume(id!)
    }
    expect((await call('GET', `/subscriptions/${id}`)).body.history).toHaveLength(20)
    expect((await call('GET', `/subscriptions/${id}?history=1000&errors=3`)).body.history).toHaveLength(24)
    // None, as getSubscription(id, { history: 0 }) and the CLI's --history 0 give.
    expect((await call('GET', `/subscriptions/${id}?history=0&errors=0`)).body).toMatchObject({ history: [], recentErrors: [] })
  })

  test("a user's subscriptions are found through the host's index on user_id, not by reading every subscription; the id is read as user_id's type", async () => {
    const own = await createTestDatabase()
    await own.pool.query('CREATE INDEX subscriptions_user_id_lookup ON subscriptions (user_id)')
    const ids = await seedSubscriptions(own.pool, { count: 5000, status: 'paused' })
    await own.pool.query('ANALYZE subscriptions; ANALYZE subscription_processing')
    const { rows } = await own.pool.query<{ user_id: string }>(`SELECT user_id::text FROM subscriptions WHERE id = $1`, [ids[1234]])
    const userId = rows[0]!.user_id
    const lookups = async () => (await own.pool.query<{ n: string }>(`SELECT idx_scan::text AS n FROM pg_stat_user_indexes WHERE indexrelname = 'subscriptions_user_id_lookup'`)).rows[0]!.n
    const before = Number(await lookups())
    const lister = createSubscriptionScheduler(own.pool, { workerClient: worker, logger })

    expect((await lister.listSubscriptions({ userId })).map((s) => s.subscriptionId)).toEqual([ids[1234]])
    // A uuid is a uuid however it is spelt; one no uuid can be names no user.
    expect((await lister.listSubscriptions({ userId: userId.toUpperCase() })).map((s) => s.subscriptionId)).toEqual([ids[1234]])
    expect(await lister.listSubscriptions({ userId: 'not-a-uuid' })).toEqual([])
    // A user's id looked up as a subscription's (pasted into the dashboard's search) says whose it is.
    await expect(lister.getSubscription(userId)).rejects.toThrow(`${userId} is no subscription's id but a user's (subscriptions.user_id): listSubscriptions({ userId }) lists their subscriptions`)
    await expect(lister.getSubscription(UNKNOWN_ID)).rejects.toThrow(`Subscription ${UNKNOWN_ID} is not enrolled`)
    // So do the controls, which would enrol a subscription the host just added.
    for (const control of [() => lister.upcoming(userId), () => lister.pause(userId), () => lister.runSubscription(userId)]) {
      await expect(control()).rejects.toThrow(`${userId} is no subscription's id but a user's (subscriptions.user_id)`)
    }
    await expect(lister.upcoming(UNKNOWN_ID)).rejects.toThrow('no row in subscriptions has that id: there is no such subscription')
    // Each backend reports its statistics within seconds of going idle.
    await pollUntil(async () => Number(await lookups()) > before, { timeoutMs: 30_000, what: "a scan of the index on user_id" })
  })

  test('bad query parameters are 400 INVALID_INPUT', async () => {
    for (const path of ['/runs?limit=0', '/runs?limit=1001', '/runs?limit=ten', '/failures?limit=-1', '/failing?limit=1001', '/failing?limit=1.5']) {
      expect(await call('GET', path)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT', message: expect.stringContaining('limit') } } })
    }
    expect((await call('GET', '/runs?limit=1000')).status).toBe(200)
    // As many failing subscriptions as the CLI's `failing --limit` lists.
    expect((await call('GET', '/failing?limit=1000')).status).toBe(200)
    for (const path of [`/subscriptions/${UNKNOWN_ID}?history=-1`, `/subscriptions/${UNKNOWN_ID}?errors=1001`, `/subscriptions/${UNKNOWN_ID}?history=all`]) {
      expect(await call('GET', path)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT' } } })
    }
    for (const runId of ['42', '', 'not-a-uuid']) {
      expect(await call('GET', `/failures?runId=${runId}`)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ID', field: 'runId', message: expect.stringContaining('runId must be a UUID') } } })
    }
    const maybe = await call('POST', '/process-subscriptions?wait=maybe')
    expect(maybe).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT', field: 'wait' } } })
    // The message names every accepted form: 1 and 0 are, as in most query strings.
    expect((maybe.body as { error: { message: string } }).error.message).toBe('?wait= must be true or false (or 1 or 0), got "maybe".')
  })

  test('a query parameter the route does not read, one given twice, or wait given twice is 400 INVALID_INPUT naming it', async () => {
    expect(await call('GET', '/failures?offset=20')).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_INPUT', field: 'offset', message: 'Unknown query parameter "offset" for GET /failures: it takes ?runId=, ?limit=, ?before= and ?final=.' } },
    })
    expect(await call('GET', '/runs?LIMIT=5')).toMatchObject({ status: 400, body: { error: { field: 'LIMIT', message: expect.stringContaining('it takes ?limit=') } } })
    expect(await call('GET', '/status?verbose=1')).toMatchObject({ status: 400, body: { error: { field: 'verbose', message: expect.stringContaining('it takes none') } } })
    expect(await call('GET', '/runs?limit=5&limit=6')).toMatchObject({ status: 400, body: { error: { field: 'limit', message: '?limit= is given more than once; give it once.' } } })
    const both = await call('POST', '/process-subscriptions?wait=true', { json: { wait: false } })
    expect(both).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT', field: 'wait', message: expect.stringContaining('give it once') } } })
    // The dashboard's page takes whatever a browser adds to its address.
    expect((await call('GET', '/?utm_source=mail')).status).toBe(200)
  })

  test('a scheduler that is not started answers 503 NOT_STARTED', async () => {
    const idle = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false })
    const handler = createAdminHandler(idle, { authorize: bearerToken(TOKEN), logger })
    const response = await handler.fetch(new Request('http://admin.test/process-subscriptions', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } }))
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual({ error: { code: 'NOT_STARTED', message: expect.stringContaining('start()') } })
  })

  test('a database that cannot be reached is 503 DATABASE_UNAVAILABLE with a Retry-After (an outage, not a bug), without its address; the log has it', async () => {
    const unreachable = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/nowhere', max: 1, connectionTimeoutMillis: 2000 })
    unreachable.on('error', () => {})
    const down = createSubscriptionScheduler(unreachable, { workerClient: worker, logger, migrate: false })
    const handler = createAdminHandler(down, { authorize: bearerToken(TOKEN), logger })
    try {
      for (const path of ['/status', '/runs', `/subscriptions/${UNKNOWN_ID}`]) {
        const response = await handler.fetch(new Request(`http://admin.test${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }))
        expect(response.status, path).toBe(503)
        expect(response.headers.get('retry-after'), path).toBe('5')
        const body = await response.json()
        expect(body, path).toEqual({ error: { code: 'DATABASE_UNAVAILABLE', message: expect.stringContaining('database could not be reached') } })
        expect(JSON.stringify(body)).not.toContain('127.0.0.1')
      }
      // A server that refuses the connection (no such database, no such role): out of reach too.
      for (const url of [db.url.replace(/\/[^/?]+(\?|$)/, '/no_such_database$1'), db.url.replace(/\/\/[^@/]+@/, '//no_such_role@')]) {
        const refusing = new pg.Pool({ connectionString: url, max: 1 })
        refusing.on('error', () => {})
        try {
          const handler = createAdminHandler(createSubscriptionScheduler(refusing, { workerClient: worker, logger, migrate: false }), { authorize: bearerToken(TOKEN), logger })
          const response = await handler.fetch(new Request('http://admin.test/status', { headers: { authorization: `Bearer ${TOKEN}` } }))
          expect(response.status, url).toBe(503)
          expect((await response.json()).error.code).toBe('DATABASE_UNAVAILABLE')
        } finally {
          await refusing.end()
        }
      }
      expect(logger.messages('warn').some((m) => m.includes('ECONNREFUSED') || m.includes('127.0.0.1:1'))).toBe(true)
    } finally {
      await unreachable.end()
    }
  })

  test('an unexpected error is 500 INTERNAL with a generic message, and is logged', async () => {
    const handler = createAdminHandler(scheduler, { authorize: () => { throw new Error('session store at 10.0.0.7 is down') }, logger })
    const response = await handler.fetch(new Request('http://admin.test/status'))
    expect(response.status).toBe(500)
    const body = await response.json()
    expect(body.error.code).toBe('INTERNAL')
    expect(JSON.stringify(body)).not.toContain('10.0.0.7')
    expect(logger.messages('error').some((m) => m.includes('session store at 10.0.0.7 is down'))).toBe(true)
  })
})
