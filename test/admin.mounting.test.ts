/**
 * One handler, three ways to serve it: fetch-style `.fetch(request)`, node:http with a
 * `basePath`, and Express's `app.use('/admin', handler)` (which strips the prefix from req.url).
 */
import http from 'node:http'
import express from 'express'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import type { AdminHandler } from '../src/admin/index.js'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { listen } from './support/listen.js'
import type { Listening } from './support/listen.js'
import { seedSubscriptions } from './support/seed.js'

const TOKEN = 'mounting-test-token-0123456789abcdef'
const auth = { authorization: `Bearer ${TOKEN}` }
const logger = captureLogger()
let scheduler: SubscriptionScheduler
const servers: Listening[] = []

async function serve(listener: http.RequestListener): Promise<string> {
  const server = await listen(listener)
  servers.push(server)
  return server.base
}

beforeAll(async () => {
  const db = await createTestDatabase()
  await seedSubscriptions(db.pool, { count: 3 })
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger, migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
})

afterAll(async () => {
  for (const server of servers) await server.close()
  await scheduler?.stop({ timeoutMs: 2000 })
})

describe('fetch-style .fetch(request)', () => {
  let admin: AdminHandler
  beforeAll(() => {
    admin = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger })
  })

  test('answers Web Requests with Web Responses', async () => {
    const response = await admin.fetch(new Request('http://admin.test/status', { headers: auth }))
    expect(response).toBeInstanceOf(Response)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.json()).toMatchObject({ total: 3 })
  })

  test('reads a JSON body from the request', async () => {
    const response = await admin.fetch(new Request('http://admin.test/process-subscriptions', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ wait: true }),
    }))
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ summary: { processed: 3, successful: 3 } })
  })

  test('with basePath, takes full URLs and URLs a router has already stripped', async () => {
    const mounted = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), basePath: '/admin', logger })
    for (const url of ['http://app.test/admin/runs?limit=1', 'http://app.test/runs?limit=1']) {
      const response = await mounted.fetch(new Request(url, { headers: auth }))
      expect(response.status).toBe(200)
      expect((await response.json()).runs).toHaveLength(1)
    }
    const started = await mounted.fetch(new Request('http://app.test/admin/process-subscriptions?wait=false', { method: 'POST', headers: auth }))
    expect(started.status).toBe(202)
    expect(started.headers.get('location')).toMatch(/^\/admin\/runs\/[0-9a-f-]{36}$/)
  })
})

describe('node:http', () => {
  test('with basePath: routes below it, 404 elsewhere, and the dashboard links inside it', async () => {
    const base = await serve(createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), basePath: '/ops', logger }))
    expect((await fetch(`${base}/ops/status`, { headers: auth })).status).toBe(200)
    expect((await fetch(`${base}/ops/status/`, { headers: auth })).status).toBe(200)
    expect((await fetch(`${base}/ops`, { headers: auth })).status).toBe(200)
    expect((await fetch(`${base}/opsx/status`, { headers: auth })).status).toBe(404)

    expect(await (await fetch(`${base}/ops/`, { headers: auth })).text()).toContain('data-base="/ops"')
    const page = await (await fetch(`${base}/ops/`)).text()
    expect(page).toContain('action="/ops/sign-in"')
    const signIn = await fetch(`${base}/ops/sign-in`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' })
    expect(signIn.headers.get('location')).toBe('/ops/')
    expect(signIn.headers.getSetCookie()[0]).toContain('; Path=/ops;')
  })

  test('a body read before the handler, and not left on req.body, is a prompt 500 that says so, not a request that never ends', async () => {
    const admin = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger })
    // What a framework's own body parser does when it keeps the result elsewhere (Fastify's request.body, Koa's ctx.request.body).
    const base = await serve((req, res) => {
      req.on('data', () => {})
      req.on('end', () => void admin(req, res))
    })
    const reply = await fetch(`${base}/process-subscriptions`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"wait": false}', signal: AbortSignal.timeout(10_000),
    })
    expect(reply.status).toBe(500)
    expect((await reply.json()).error.message).toMatch(/body was read before the admin handler.*req\.body/)
    // The sign-in form too: the form again, saying so, as a 500 (the server's fault, not the user's).
    const signIn = await fetch(`${base}/sign-in`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual', signal: AbortSignal.timeout(10_000) })
    expect(signIn.status).toBe(500)
    expect(await signIn.text()).toMatch(/body was read before the admin handler/)
  })
})

describe('Express', () => {
  let base: string
  beforeAll(async () => {
    const app = express()
    app.get('/health', (_req, res) => void res.json({ ok: true }))
    app.use('/admin', createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger }))
    // Body parsers mounted before the handler have read the body already; it must still count.
    app.use('/admin-parsed', express.json(), express.urlencoded(), createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger }))
    app.use((_req, res) => void res.status(404).json({ app: 'not found' }))
    base = await serve(app)
  })

  test("app.use('/admin', handler) serves the API under /admin and leaves the app's routes alone", async () => {
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ ok: true })
    const status = await fetch(`${base}/admin/status`, { headers: auth })
    expect(status.status).toBe(200)
    expect(await status.json()).toMatchObject({ total: 3 })
    const run = await (await fetch(`${base}/admin/runs?limit=1`, { headers: auth })).json()
    expect((await fetch(`${base}/admin/runs/${run.runs[0].runId}`, { headers: auth })).status).toBe(200)
    expect((await fetch(`${base}/admin/status`)).status).toBe(401)
    expect(await (await fetch(`${base}/elsewhere`)).json()).toEqual({ app: 'not found' })
  })

  test('the sign-in form, cookie and redirect use the mount path, whether or not a body parser read the form first', async () => {
    for (const prefix of ['/admin', '/admin-parsed']) {
      expect(await (await fetch(`${base}${prefix}/`)).text()).toContain(`action="${prefix}/sign-in"`)
      const signIn = await fetch(`${base}${prefix}/sign-in`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' })
      expect({ prefix, status: signIn.status }).toEqual({ prefix, status: 303 })
      expect(signIn.headers.get('location')).toBe(`${prefix}/`)
      const cookie = signIn.headers.getSetCookie()[0]!
      expect(cookie).toContain(`; Path=${prefix};`)
      const page = await fetch(`${base}${prefix}/`, { headers: { cookie: cookie.split(';')[0]! } })
      expect(page.status).toBe(200)
      expect(await page.text()).toContain(`data-base="${prefix}"`)
    }
  })

  test('POST bodies work whether or not express.json() ran first', async () => {
    for (const prefix of ['/admin', '/admin-parsed']) {
      const response = await fetch(`${base}${prefix}/process-subscriptions`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ wait: false }),
      })
      expect({ prefix, status: response.status }).toEqual({ prefix, status: 202 })
      expect(response.headers.get('location')).toMatch(new RegExp(`^${prefix}/runs/`))
      const bad = await fetch(`${base}${prefix}/failed/retry`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ subscriptionIds: 'all' }),
      })
      expect({ prefix, status: bad.status, code: (await bad.json()).error.code }).toEqual({ prefix, status: 400, code: 'INVALID_BODY' })
    }
  })
})
