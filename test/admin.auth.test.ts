/**
 * Who may use the admin API: bearer tokens on every route, the dashboard's sign-in cookie, the
 * CSRF header cookie requests need to change state, and the configuration errors that keep a
 * host from mounting it unprotected.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import type { AdminHandlerOptions } from '../src/admin/index.js'
import { ConfigurationError, createSubscriptionScheduler, isConfigurationError } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

const TOKEN = 'auth-test-token-0123456789abcdef'
const ID = '00000000-0000-4000-8000-000000000000'
const logger = captureLogger()
let scheduler: SubscriptionScheduler
let server: http.Server
let base: string

const ROUTES: [string, string][] = [
  ['GET', '/'],
  ['GET', '/dashboard.json'],
  ['GET', '/status'],
  ['GET', '/runs'],
  ['GET', `/runs/${ID}`],
  ['GET', '/failures'],
  ['GET', `/subscriptions/${ID}`],
  ['POST', '/process-subscriptions'],
  ['POST', `/subscriptions/${ID}/run`],
  ['POST', `/subscriptions/${ID}/pause`],
  ['POST', `/subscriptions/${ID}/resume`],
  ['POST', '/failed/retry'],
  ['GET', '/no-such-route'], // no route enumeration without credentials
]

beforeAll(async () => {
  const db = await createTestDatabase()
  await seedSubscriptions(db.pool, { count: 2 })
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger, migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
  server = http.createServer(createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger }))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve))
  await scheduler?.stop({ timeoutMs: 2000 })
})

describe('bearer token', () => {
  test.each([
    ['no credentials', {}],
    ['a wrong token', { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }],
    ['a longer token', { authorization: `Bearer ${TOKEN}0` }],
    ['another scheme', { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
    ['a wrong cookie', { cookie: 'pss_admin=not-the-token' }],
  ])('every route answers 401 UNAUTHORIZED with WWW-Authenticate to %s', async (_, headers: Record<string, string>) => {
    for (const [method, path] of ROUTES) {
      const response = await fetch(`${base}${path}`, { method, headers })
      const body = await response.json()
      expect({ method, path, status: response.status, code: body.error.code }).toEqual({ method, path, status: 401, code: 'UNAUTHORIZED' })
      expect(response.headers.get('www-authenticate')).toBe('Bearer')
      expect(body.error.message).toContain('/?token=')
    }
  })

  test('the right token opens every route, and mutations need no extra header', async () => {
    const response = await fetch(`${base}/process-subscriptions?wait=false`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(response.status).toBe(202)
    const page = await fetch(`${base}/`, { headers: { authorization: `bearer ${TOKEN}` } })
    expect(page.status).toBe(200)
  })
})

describe('dashboard sign-in cookie', () => {
  async function signIn(token: string): Promise<Response> {
    return await fetch(`${base}/?token=${encodeURIComponent(token)}`, { redirect: 'manual' })
  }

  test('GET /?token= sets an HttpOnly, SameSite=Strict cookie and redirects to the bare page', async () => {
    const response = await signIn(TOKEN)
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
    const [cookie] = response.headers.getSetCookie()
    expect(cookie).toMatch(/^pss_admin=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/)

    const jar = cookie!.split(';')[0]!
    const status = await fetch(`${base}/status`, { headers: { cookie: jar } })
    expect(status.status).toBe(200)
    const page = await fetch(`${base}/`, { headers: { cookie: jar } })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
  })

  test('a wrong token sets no cookie', async () => {
    for (const token of ['', 'wrong-token-wrong-token-wrong']) {
      const response = await signIn(token)
      expect(response.status).toBe(401)
      expect(response.headers.getSetCookie()).toEqual([])
    }
  })

  test('state changes with the cookie need X-Requested-With: pss-dashboard (CSRF)', async () => {
    const cookie = `pss_admin=${encodeURIComponent(TOKEN)}`
    const forged = await fetch(`${base}/process-subscriptions?wait=false`, { method: 'POST', headers: { cookie } })
    expect(forged.status).toBe(403)
    expect(await forged.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringContaining('X-Requested-With: pss-dashboard') } })
    const wrongValue = await fetch(`${base}/failed/retry?wait=false`, { method: 'POST', headers: { cookie, 'x-requested-with': 'XMLHttpRequest' } })
    expect(wrongValue.status).toBe(403)

    const fromDashboard = await fetch(`${base}/process-subscriptions?wait=false`, { method: 'POST', headers: { cookie, 'x-requested-with': 'pss-dashboard' } })
    expect(fromDashboard.status).toBe(202)
  })

  test('over https the cookie is Secure', async () => {
    const handler = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), basePath: '/ops', logger })
    const response = await handler.fetch(new Request(`https://admin.example/ops/?token=${TOKEN}`))
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/ops/')
    expect(response.headers.getSetCookie()[0]).toMatch(/; Path=\/ops; .*HttpOnly; SameSite=Strict; Secure$/)
  })
})

describe('configuration', () => {
  test('bearerToken() refuses an empty or short token, without echoing it', () => {
    for (const token of ['', 'short-secret', 'x'.repeat(15), undefined as unknown as string]) {
      let thrown: unknown
      try {
        bearerToken(token)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(ConfigurationError)
      expect((thrown as ConfigurationError).option).toBe('token')
      expect((thrown as Error).message).toContain('at least 16 characters')
      if (token) expect((thrown as Error).message).not.toContain(token)
    }
    expect(typeof bearerToken('x'.repeat(16))).toBe('function')
  })

  test('createAdminHandler() without authorize throws a ConfigurationError naming the fix', () => {
    for (const options of [{}, { authorize: 'secret' }, undefined]) {
      let thrown: unknown
      try {
        createAdminHandler(scheduler, options as unknown as AdminHandlerOptions)
      } catch (error) {
        thrown = error
      }
      expect(isConfigurationError(thrown)).toBe(true)
      expect(thrown).toMatchObject({ option: 'authorize', message: expect.stringContaining('bearerToken(process.env.ADMIN_TOKEN)') })
    }
    // @ts-expect-error authorize is required by the type as well
    expect(() => createAdminHandler(scheduler, { basePath: '/admin' })).toThrow(ConfigurationError)
  })

  test('a malformed basePath is a ConfigurationError', () => {
    for (const basePath of ['admin', '/admin/', '/ad min']) {
      expect(() => createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), basePath })).toThrow(/basePath/)
    }
  })

  test('a custom authorize sees the dashboard cookie as a bearer header, and may be async', async () => {
    const seen: (string | null)[] = []
    const handler = createAdminHandler(scheduler, {
      logger,
      authorize: async (request) => {
        seen.push(request.headers.get('authorization'))
        return request.headers.get('authorization') === 'Bearer my-own-scheme-value'
      },
    })
    const response = await handler.fetch(new Request('http://admin.test/status', { headers: { cookie: 'other=1; pss_admin=my-own-scheme-value' } }))
    expect(response.status).toBe(200)
    expect(seen).toEqual(['Bearer my-own-scheme-value'])
  })
})
