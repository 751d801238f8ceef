/**
 * Who may use the admin API: bearer tokens on every route, the dashboard's sign-in form and its
 * signed session cookie (never the token), sign-out, the CSRF header cookie requests need to
 * change state, and the configuration errors that keep a host from mounting it unprotected.
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import type { AdminHandlerOptions } from '../src/admin/index.js'
import { ConfigurationError, createSubscriptionScheduler, isConfigurationError } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { deriveSessionKey, mintSession } from '../src/admin/session.js'
import { createTestDatabase } from './support/database.js'
import { listen } from './support/listen.js'
import type { Listening } from './support/listen.js'
import { seedSubscriptions } from './support/seed.js'

const TOKEN = 'auth-test-token-0123456789abcdef'
const ID = '00000000-0000-4000-8000-000000000000'
const logger = captureLogger()
let scheduler: SubscriptionScheduler
let server: Listening
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
  ['POST', `/subscriptions/${ID}/enroll`],
  ['POST', `/subscriptions/${ID}/pause`],
  ['POST', `/subscriptions/${ID}/resume`],
  ['POST', '/failed/retry'],
  ['GET', '/failing'],
  ['POST', '/sign-out'],
  ['GET', '/no-such-route'], // no route enumeration without credentials
]

beforeAll(async () => {
  const db = await createTestDatabase()
  await seedSubscriptions(db.pool, { count: 2 })
  scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger, migrate: false, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
  server = await listen(createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger }))
  base = server.base
})

afterAll(async () => {
  await server?.close()
  await scheduler?.stop({ timeoutMs: 2000 })
})

/** Posts the sign-in form as a browser does. */
async function signIn(token: string, url = `${base}/sign-in`): Promise<Response> {
  return await fetch(url, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' })
}

/** The `name=value` part of the response's session cookie. */
function jarOf(response: Response): string {
  const [cookie] = response.headers.getSetCookie()
  expect(cookie).toBeDefined()
  return cookie!.split(';')[0]!
}

const b64 = (value: string | Buffer, encoding: BufferEncoding) => Buffer.from(value).toString(encoding)

describe('bearer token', () => {
  test.each([
    ['no credentials', {}],
    ['a wrong token', { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }],
    ['a longer token', { authorization: `Bearer ${TOKEN}0` }],
    ['another scheme', { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
    ['a wrong cookie', { cookie: 'pss_admin=not-the-token' }],
    // What the cookie used to hold: the raw token no longer signs anyone in.
    ['the raw token as the cookie', { cookie: `pss_admin=${encodeURIComponent(TOKEN)}` }],
  ])('every route answers 401 with WWW-Authenticate to %s; the page with the sign-in form', async (_, headers: Record<string, string>) => {
    for (const [method, path] of ROUTES) {
      const response = await fetch(`${base}${path}`, { method, headers })
      expect(response.headers.get('www-authenticate')).toBe('Bearer')
      expect(response.headers.getSetCookie()).toEqual([])
      if (path === '/') {
        expect(response.status).toBe(401)
        expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
        expect(await response.text()).toContain('<form id="sign-in" method="post" action="/sign-in">')
        continue
      }
      const body = await response.json()
      expect({ method, path, status: response.status, code: body.error.code }).toEqual({ method, path, status: 401, code: 'UNAUTHORIZED' })
      expect(body.error.message).toContain('sign in with the form at /')
    }
  })

  test('the right token opens every route, and mutations need no extra header', async () => {
    const response = await fetch(`${base}/process-subscriptions?wait=false`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(response.status).toBe(202)
    const page = await fetch(`${base}/`, { headers: { authorization: `bearer ${TOKEN}` } })
    expect(page.status).toBe(200)
  })
})

describe('dashboard sign-in form and session cookie', () => {
  test('GET /sign-in and an unauthenticated GET / show the form, which posts to /sign-in under a strict CSP', async () => {
    for (const [path, status] of [['/sign-in', 200], ['/', 401]] as const) {
      const response = await fetch(`${base}${path}`)
      expect(response.status).toBe(status)
      const csp = response.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("form-action 'self'")
      // One script, the line that keeps the address's #fragment through the sign-in: by its nonce only.
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1]
      expect(nonce).toBeDefined()
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/)
      const page = await response.text()
      expect(page).toContain('<input id="token" name="token" type="password"')
      expect(page.match(/<script[^>]*>/g)).toEqual([`<script nonce="${nonce}">`])
    }
  })

  test('POST /sign-in with the token sets an HttpOnly, SameSite=Strict session cookie and 303s to the dashboard', async () => {
    const response = await signIn(TOKEN)
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
    const [cookie] = response.headers.getSetCookie()
    const match = /^pss_admin=v1\.[\w-]{22}\.(\d+)\.[\w-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/.exec(cookie ?? '')
    expect(match, cookie).not.toBeNull()
    // It expires with the cookie: 12 hours from now.
    expect(Number(match![1]) * 1000 - Date.now()).toBeGreaterThan(43_200_000 - 60_000)
    expect(Number(match![1]) * 1000 - Date.now()).toBeLessThanOrEqual(43_200_000)

    const jar = jarOf(response)
    expect((await fetch(`${base}/status`, { headers: { cookie: jar } })).status).toBe(200)
    const page = await fetch(`${base}/`, { headers: { cookie: `other=1; ${jar}` } })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('id="run-now"')
  })

  test('the cookie is Secure when the request came over https, or a proxy in front says so, through .fetch as through node:http', async () => {
    const fetchStyle = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), basePath: '/admin', logger: captureLogger() })
    const post = (url: string, headers: Record<string, string> = {}) =>
      fetchStyle.fetch(new Request(url, { method: 'POST', headers, body: new URLSearchParams({ token: TOKEN }) }))
    const cookieOf = async (response: Promise<Response>) => (await response).headers.getSetCookie()[0] ?? ''
    // Hono on @hono/node-server builds an http:// URL behind a TLS-terminating proxy.
    expect(await cookieOf(post('http://app.test/admin/sign-in', { 'x-forwarded-proto': 'https' }))).toMatch(/; Path=\/admin; .*; Secure$/)
    expect(await cookieOf(post('https://app.test/admin/sign-in'))).toMatch(/; Secure$/)
    expect(await cookieOf(post('http://app.test/admin/sign-in'))).not.toContain('Secure')
    const viaNode = await signIn(TOKEN, `${base}/sign-in`)
    expect(viaNode.headers.getSetCookie()[0]).not.toContain('Secure')
    const forwarded = await fetch(`${base}/sign-in`, { method: 'POST', redirect: 'manual', headers: { 'x-forwarded-proto': 'https' }, body: new URLSearchParams({ token: TOKEN }) })
    expect(forwarded.headers.getSetCookie()[0]).toMatch(/; Secure$/)
  })

  test('the cookie holds neither the token nor anything it can be read back from', async () => {
    const values = await Promise.all([signIn(TOKEN), signIn(TOKEN)].map(async (r) => jarOf(await r).slice('pss_admin='.length)))
    // A random session id: two sign-ins, two cookies.
    expect(values[0]).not.toBe(values[1])
    const sha = createHash('sha256').update(TOKEN).digest()
    const forms = [TOKEN, encodeURIComponent(TOKEN), b64(TOKEN, 'base64'), b64(TOKEN, 'base64url'), b64(TOKEN, 'hex'), sha.toString('hex'), sha.toString('base64url')]
    for (const value of values) {
      for (const form of forms) expect(value).not.toContain(form.slice(0, 12))
      // No part decodes to it either.
      for (const part of value.split('.')) {
        for (const encoding of ['base64url', 'hex'] as const) expect(Buffer.from(part, encoding).toString('latin1')).not.toContain(TOKEN.slice(0, 8))
      }
    }
  })

  test('an expired or altered session is refused; a live one from the same key is accepted', async () => {
    const key = deriveSessionKey(TOKEN)
    const live = mintSession(key, new Date(Date.now() + 60_000))
    expect((await fetch(`${base}/status`, { headers: { cookie: `pss_admin=${live}` } })).status).toBe(200)

    const expired = mintSession(key, new Date(Date.now() - 1000))
    expect((await fetch(`${base}/status`, { headers: { cookie: `pss_admin=${expired}` } })).status).toBe(401)
    const page = await fetch(`${base}/`, { headers: { cookie: `pss_admin=${expired}` } })
    expect(page.status).toBe(401)
    expect(await page.text()).toContain('id="sign-in"')

    // Its expiry moved a year on, its signature kept.
    const [version, id, , mac] = expired.split('.')
    const extended = [version, id, String(Math.floor(Date.now() / 1000) + 365 * 86_400), mac].join('.')
    expect((await fetch(`${base}/status`, { headers: { cookie: `pss_admin=${extended}` } })).status).toBe(401)
  })

  test('a session signed in under one token is refused by a handler configured with another', async () => {
    const jar = jarOf(await signIn(TOKEN))
    const rotated = createAdminHandler(scheduler, { authorize: bearerToken(`${TOKEN}-rotated`), logger })
    const refused = await rotated.fetch(new Request('http://admin.test/status', { headers: { cookie: jar } }))
    expect(refused.status).toBe(401)
    const same = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger })
    expect((await same.fetch(new Request('http://admin.test/status', { headers: { cookie: jar } }))).status).toBe(200)
  })

  test('a wrong token answers 401 with the form and an error; bad input 400; no cookie either way', async () => {
    const wrong = await signIn('wrong-token-wrong-token-wrong')
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer')
    expect(wrong.headers.getSetCookie()).toEqual([])
    const page = await wrong.text()
    expect(page).toContain('data-code="UNAUTHORIZED">That token was not accepted.')
    expect(page).toContain('id="sign-in"')

    const cases: [RequestInit, number, string, string][] = [
      [{ body: new URLSearchParams({ token: '' }) }, 400, 'INVALID_INPUT', 'Enter the admin token.'],
      [{ body: new URLSearchParams({ token: 'two words here' }) }, 400, 'INVALID_INPUT', 'printable ASCII'],
      [{ body: new URLSearchParams({ token: TOKEN, remember: '1' }) }, 400, 'INVALID_BODY', 'Unknown field &#34;remember&#34;'],
      [{ body: `token=${TOKEN}`, headers: { 'content-type': 'text/plain' } }, 400, 'INVALID_BODY', 'form field named &#34;token&#34;'],
      [{}, 400, 'INVALID_INPUT', 'Enter the admin token.'],
    ]
    for (const [init, status, code, message] of cases) {
      const response = await fetch(`${base}/sign-in`, { method: 'POST', redirect: 'manual', ...init })
      const text = await response.text()
      expect({ status: response.status, code: /data-code="(\w+)"/.exec(text)?.[1] }).toEqual({ status, code })
      expect(text).toContain(message)
      expect(response.headers.getSetCookie()).toEqual([])
    }
  })

  test('GET /?token= no longer signs in: 400 with the form and a note, and no cookie', async () => {
    const response = await fetch(`${base}/?token=${TOKEN}`, { redirect: 'manual' })
    expect(response.status).toBe(400)
    expect(response.headers.getSetCookie()).toEqual([])
    const page = await response.text()
    expect(page).toContain('data-code="INVALID_INPUT">Signing in with ?token= in the address is no longer supported')
    expect(page).toContain('id="sign-in"')
  })

  test('GET and POST /sign-in?token= are refused the same way: 400, the note, no cookie', async () => {
    const requests = [
      fetch(`${base}/sign-in?token=${TOKEN}`, { redirect: 'manual' }),
      // With no body, as a script would send it: the note, not "Enter the admin token."
      fetch(`${base}/sign-in?token=${TOKEN}`, { method: 'POST', redirect: 'manual' }),
      // A right token in the form does not make the address's one acceptable.
      fetch(`${base}/sign-in?token=${TOKEN}`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: TOKEN }) }),
    ]
    for (const response of await Promise.all(requests)) {
      expect(response.status).toBe(400)
      expect(response.headers.getSetCookie()).toEqual([])
      expect(await response.text()).toContain('data-code="INVALID_INPUT">Signing in with ?token= in the address is no longer supported')
    }
  })

  test('each refused token is logged; past 10 in a minute the form answers 429 with Retry-After, the right token too, while bearer requests go on', async () => {
    const own = captureLogger()
    const limited = await listen(createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger: own }))
    try {
      for (let i = 1; i <= 10; i++) expect((await signIn(`guess-${i}-0123456789abcdef`, `${limited.base}/sign-in`)).status).toBe(401)
      expect(own.messages('warn')[0]).toBe('Admin sign-in refused: the token was not accepted (1 this minute).')
      expect(own.messages('warn').at(-1)).toMatch(/refused 10 times this minute: the form answers 429 until the minute is over/)
      const blocked = await signIn(TOKEN, `${limited.base}/sign-in`)
      expect(blocked.status).toBe(429)
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(60)
      expect(blocked.headers.getSetCookie()).toEqual([])
      expect(await blocked.text()).toContain('data-code="TOO_MANY_REQUESTS">Too many tokens were refused this minute')
      const bearer = await fetch(`${limited.base}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
      expect(bearer.status).toBe(200)
      // A wrong bearer header is judged each time (401, never 429), and said, once per power of ten a minute.
      for (let i = 1; i <= 10; i++) expect((await fetch(`${limited.base}/status`, { headers: { authorization: `Bearer guess-${i}-0123456789abcdef` } })).status).toBe(401)
      expect(own.messages('warn').filter((m) => m.startsWith('Admin API refused'))).toEqual([
        'Admin API refused a request: its Authorization header was not accepted (a client with an old token, or someone guessing).',
        'Admin API refused 10 requests this minute whose Authorization header was not accepted: a client with an old token, or someone guessing.',
      ])
    } finally {
      await limited.close()
    }
  })

  test("without a logger of its own, the handler logs through the scheduler's", async () => {
    const schedulers = captureLogger()
    const { pool } = await createTestDatabase()
    const own = createSubscriptionScheduler(pool, { workerClient: createFakeWorkerClient(), logger: schedulers, migrate: false })
    const handler = await listen(createAdminHandler(own, { authorize: bearerToken(TOKEN) }))
    try {
      expect((await signIn('guess-0123456789abcdef', `${handler.base}/sign-in`)).status).toBe(401)
      expect(schedulers.messages('warn')).toEqual(['Admin sign-in refused: the token was not accepted (1 this minute).'])
    } finally {
      await handler.close()
    }
  })

  test('state changes with the cookie need X-Requested-With: pss-dashboard (CSRF)', async () => {
    const cookie = jarOf(await signIn(TOKEN))
    const forged = await fetch(`${base}/process-subscriptions?wait=false`, { method: 'POST', headers: { cookie } })
    expect(forged.status).toBe(403)
    expect(await forged.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringContaining('X-Requested-With: pss-dashboard') } })
    const wrongValue = await fetch(`${base}/failed/retry?wait=false`, { method: 'POST', headers: { cookie, 'x-requested-with': 'XMLHttpRequest' } })
    expect(wrongValue.status).toBe(403)
    const signOut = await fetch(`${base}/sign-out`, { method: 'POST', headers: { cookie } })
    expect(signOut.status).toBe(403)
    expect(signOut.headers.getSetCookie()).toEqual([])

    const fromDashboard = await fetch(`${base}/process-subscriptions?wait=false`, { method: 'POST', headers: { cookie, 'x-requested-with': 'pss-dashboard' } })
    expect(fromDashboard.status).toBe(202)
  })

  test('a valid session is let in when a proxy in front adds Basic credentials', async () => {
    const cookie = jarOf(await signIn(TOKEN))
    const authorization = `Basic ${Buffer.from('proxy:secret').toString('base64')}`
    expect((await fetch(`${base}/status`, { headers: { cookie, authorization } })).status).toBe(200)
    const page = await fetch(`${base}/`, { headers: { cookie, authorization } })
    expect(page.status).toBe(200)
    expect(await page.text()).not.toContain('id="sign-in"')
    // A wrong bearer token is still judged, and refused, session or not.
    expect((await fetch(`${base}/status`, { headers: { cookie, authorization: 'Bearer not-the-admin-token' } })).status).toBe(401)
  })

  test("a cookie another app on the host planted before the operator's (a longer path is sent first) locks nobody out", async () => {
    // A page on another port of the same host, or a sibling subdomain, may set pss_admin too: the
    // browser sends the longer path's first. Only the first was read, so the dashboard said
    // "Signed out" and stayed so (a security trial).
    const jar = jarOf(await signIn(TOKEN))
    const expired = mintSession(deriveSessionKey(TOKEN), new Date(Date.now() - 1000))
    for (const planted of ['pss_admin=junk', `pss_admin=${expired}`]) {
      expect((await fetch(`${base}/dashboard.json`, { headers: { cookie: `${planted}; ${jar}` } })).status, planted).toBe(200)
      const changed = await fetch(`${base}/subscriptions/${ID}/pause`, { method: 'POST', headers: { cookie: `${planted}; ${jar}`, 'x-requested-with': 'pss-dashboard' } })
      expect(changed.status, planted).not.toBe(401)
    }
    expect((await fetch(`${base}/status`, { headers: { cookie: 'pss_admin=junk; pss_admin=more-junk' } })).status).toBe(401)
  })

  test('POST /sign-out clears the cookie', async () => {
    const cookie = jarOf(await signIn(TOKEN))
    const response = await fetch(`${base}/sign-out`, { method: 'POST', headers: { cookie, 'x-requested-with': 'pss-dashboard' } })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ signedOut: true })
    expect(response.headers.getSetCookie()).toEqual(['pss_admin=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict'])
  })

  test('over https the cookie is Secure, and both the cookie and the redirect use the mount', async () => {
    const handler = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), basePath: '/ops', logger })
    const form = await handler.fetch(new Request('https://admin.example/ops/'))
    expect(await form.text()).toContain('action="/ops/sign-in"')
    const response = await handler.fetch(new Request('https://admin.example/ops/sign-in', { method: 'POST', body: new URLSearchParams({ token: TOKEN }) }))
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/ops/')
    expect(response.headers.getSetCookie()[0]).toMatch(/; Path=\/ops; Max-Age=\d+; HttpOnly; SameSite=Strict; Secure$/)
    const signOut = await handler.fetch(new Request('https://admin.example/ops/sign-out', { method: 'POST', headers: { cookie: jarOf(response), 'x-requested-with': 'pss-dashboard' } }))
    expect(signOut.headers.getSetCookie()).toEqual(['pss_admin=; Path=/ops; Max-Age=0; HttpOnly; SameSite=Strict; Secure'])
    // Behind a TLS proxy, through .fetch: the URL is http, the proxy says https.
    const proxied = await handler.fetch(new Request('http://admin.example/ops/sign-out', { method: 'POST', headers: { cookie: jarOf(response), 'x-requested-with': 'pss-dashboard', 'x-forwarded-proto': 'https' } }))
    expect(proxied.headers.getSetCookie()).toEqual(['pss_admin=; Path=/ops; Max-Age=0; HttpOnly; SameSite=Strict; Secure'])
  })

  test('session.maxAgeSeconds sets how long a sign-in lasts', async () => {
    const handler = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), session: { maxAgeSeconds: 600 }, logger })
    const response = await handler.fetch(new Request('http://admin.test/sign-in', { method: 'POST', body: new URLSearchParams({ token: TOKEN }) }))
    const [cookie] = response.headers.getSetCookie()
    expect(cookie).toContain('; Max-Age=600;')
    const expiry = Number(/^pss_admin=v1\.[\w-]+\.(\d+)\./.exec(cookie!)![1])
    expect(expiry * 1000 - Date.now()).toBeLessThanOrEqual(600_000)
    expect(expiry * 1000 - Date.now()).toBeGreaterThan(540_000)
  })

  test("sessions are minted and checked by the scheduler's clock (the database's), not the host's: replicas whose host clocks differ accept each other's", async () => {
    const db = await createTestDatabase()
    // The scheduler's clock ten minutes ahead of this host's, as the database's is of a host behind it.
    const aheadMs = 600_000
    const behind = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger, migrate: false, clock: { now: () => new Date(Date.now() + aheadMs) } })
    const handler = createAdminHandler(behind, { authorize: bearerToken(TOKEN), session: { maxAgeSeconds: 600 }, logger })
    const status = (cookie: string) => handler.fetch(new Request('http://admin.test/status', { headers: { cookie: `pss_admin=${cookie}` } })).then((r) => r.status)
    const key = deriveSessionKey(TOKEN)
    // Signed in on a replica whose clock is right: accepted here, though it ends 20 minutes from this host's now.
    expect(await status(mintSession(key, new Date(Date.now() + aheadMs + 600_000)))).toBe(200)
    // Ended by the database's clock, though not by this host's: refused, the refusal stamped with that clock as any answer is.
    const refused = await handler.fetch(new Request('http://admin.test/status', { headers: { cookie: `pss_admin=${mintSession(key, new Date(Date.now() + aheadMs - 60_000))}` } }))
    expect(refused.status).toBe(401)
    expect(Math.abs(Number(refused.headers.get('x-pss-now')) - (Date.now() + aheadMs))).toBeLessThan(5_000)
    // What this replica mints ends by the same clock.
    const signedIn = await handler.fetch(new Request('http://admin.test/sign-in', { method: 'POST', body: new URLSearchParams({ token: TOKEN }) }))
    const expiry = Number(/^pss_admin=v1\.[\w-]+\.(\d+)\./.exec(signedIn.headers.getSetCookie()[0]!)![1])
    expect(expiry * 1000 - (Date.now() + aheadMs)).toBeGreaterThan(540_000)
    expect(expiry * 1000 - (Date.now() + aheadMs)).toBeLessThanOrEqual(600_000)
  })

  test('a shorter session.maxAgeSeconds also ends the sessions signed in under a longer one', async () => {
    const long = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger })
    const signedIn = await long.fetch(new Request('http://admin.test/sign-in', { method: 'POST', body: new URLSearchParams({ token: TOKEN }) }))
    const cookie = signedIn.headers.getSetCookie()[0]!.split(';')[0]!
    const status = (handler: typeof long) => handler.fetch(new Request('http://admin.test/status', { headers: { cookie } })).then((r) => r.status)
    expect(await status(long)).toBe(200)
    // Restarted with 10 minutes: the 12-hour session it holds is refused, a fresh one is not.
    const short = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), session: { maxAgeSeconds: 600 }, logger })
    expect(await status(short)).toBe(401)
    const fresh = await short.fetch(new Request('http://admin.test/sign-in', { method: 'POST', body: new URLSearchParams({ token: TOKEN }) }))
    const freshCookie = fresh.headers.getSetCookie()[0]!.split(';')[0]!
    expect((await short.fetch(new Request('http://admin.test/status', { headers: { cookie: freshCookie } }))).status).toBe(200)
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

  test('bearerToken() refuses a token with spaces, which no Authorization header could carry whole', () => {
    for (const token of [' '.repeat(16), 'correct horse battery staple', `${'x'.repeat(16)}\n`, 'sécret-admin-token-123456', `${'x'.repeat(16)}\u200b`, `${'x'.repeat(16)}\x01`]) {
      expect(() => bearerToken(token)).toThrow(expect.objectContaining({ option: 'token', message: expect.stringContaining('without spaces') }))
    }
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
      expect(thrown).toMatchObject({ option: 'authorize', message: expect.stringContaining('bearerToken(process.env.ADMIN_TOKEN!)') })
    }
    // @ts-expect-error authorize is required by the type as well
    expect(() => createAdminHandler(scheduler, { basePath: '/admin' })).toThrow(ConfigurationError)
  })

  test('a malformed basePath is a ConfigurationError', () => {
    // ';' would end the session cookie's Path attribute early: the cookie would never come back.
    for (const basePath of ['admin', '/admin/', '/ad min', '/../admin', '/admin/..', '/a/./b', '/admin/%2e', '/admin//x', '/admin\\x', '/a;b']) {
      expect(() => createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), basePath }), basePath).toThrow(/basePath/)
    }
    expect(() => createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), basePath: '/ops/admin-v2' })).not.toThrow()
  })

  test("a basePath that starts where routes start is refused: behind a router that strips it (Hono's mount), its routes could not be told from it", () => {
    for (const [basePath, root] of [['/subscriptions', 'subscriptions'], ['/runs', 'runs'], ['/runs/admin', 'runs'], ['/status', 'status'], ['/sign-in', 'sign-in']]) {
      expect(() => createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), basePath }), basePath).toThrow(
        expect.objectContaining({ option: 'basePath', message: expect.stringContaining(`starts with '/${root}', which is also where admin routes start`) }),
      )
    }
    // A segment that only begins like a route, or a route's name further down, is another path.
    for (const basePath of ['/runs-admin', '/ops/runs', '/admin/subscriptions']) {
      expect(() => createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), basePath }), basePath).not.toThrow()
    }
  })

  test('an unknown option (a typo such as basepath) is a ConfigurationError naming it', () => {
    const typo = { authorize: bearerToken(TOKEN), basepath: '/admin' } as unknown as AdminHandlerOptions
    expect(() => createAdminHandler(scheduler, typo)).toThrow(expect.objectContaining({ option: 'basepath', message: expect.stringContaining('(did you mean `basePath`?); it takes authorize, session, basePath, logger') }))
    // In session too: a misspelt secret would leave each replica signing with a key of its own.
    const secrt = { authorize: () => true, session: { secrt: 'x'.repeat(32) } } as unknown as AdminHandlerOptions
    expect(() => createAdminHandler(scheduler, secrt)).toThrow(expect.objectContaining({ option: 'session.secrt', message: expect.stringContaining("session (did you mean `secret`?); it takes secret, maxAgeSeconds") }))
    expect(() => createAdminHandler(scheduler, { authorize: () => true, session: 'secret' as never })).toThrow(/`session`.*expected \{ secret\?, maxAgeSeconds\? \}/)
  })

  test('session options are checked: a secret only with a custom authorize, of 16 characters or more; a sane max age', () => {
    const custom = () => true
    const cases: [AdminHandlerOptions['session'], AdminHandlerOptions['authorize'], string][] = [
      [{ secret: 'x'.repeat(32) }, bearerToken(TOKEN), 'remove session.secret'],
      [{ secret: 'short' }, custom, 'at least 16 characters, got 5 characters'],
      [{ maxAgeSeconds: 10 }, custom, 'from 60 to 2592000'],
      [{ maxAgeSeconds: 90.5 }, custom, 'whole number'],
    ]
    for (const [session, authorize, message] of cases) {
      let thrown: unknown
      try {
        createAdminHandler(scheduler, { authorize, session, logger })
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(ConfigurationError)
      expect((thrown as ConfigurationError).option).toMatch(/^session\./)
      expect((thrown as Error).message).toContain(message)
    }
  })
})

describe('a custom authorize', () => {
  const OWN = 'my-own-scheme-value-0123'
  function recording(seen: (string | null)[]) {
    return async (request: Request) => {
      seen.push(request.headers.get('authorization'))
      return request.headers.get('authorization') === `Bearer ${OWN}` || request.headers.get('cookie')?.includes('host_session=ok') === true
    }
  }
  const form = (token: string) => new Request('http://admin.test/sign-in', { method: 'POST', body: new URLSearchParams({ token }) })

  test('sees the sign-in form\'s token as a bearer header, may be async, and its yes earns a session used without asking again', async () => {
    const seen: (string | null)[] = []
    const handler = createAdminHandler(scheduler, { logger, authorize: recording(seen) })
    expect((await handler.fetch(form('not-accepted-value'))).status).toBe(401)
    const signedIn = await handler.fetch(form(OWN))
    expect(signedIn.status).toBe(303)
    expect(seen).toEqual(['Bearer not-accepted-value', `Bearer ${OWN}`])
    const jar = jarOf(signedIn)
    expect(jar).not.toContain(OWN)
    expect((await handler.fetch(new Request('http://admin.test/status', { headers: { cookie: jar } }))).status).toBe(200)
    expect(seen).toHaveLength(2)
  })

  test('without session.secret, sessions are this handler\'s own; with one, every handler sharing it accepts them', async () => {
    const authorize = recording([])
    const [a, b] = [createAdminHandler(scheduler, { logger, authorize }), createAdminHandler(scheduler, { logger, authorize })]
    const jar = jarOf(await a.fetch(form(OWN)))
    expect((await b.fetch(new Request('http://admin.test/status', { headers: { cookie: jar } }))).status).toBe(401)

    const session = { secret: 'shared-session-secret-0123456789' }
    const [c, d] = [createAdminHandler(scheduler, { logger, authorize, session }), createAdminHandler(scheduler, { logger, authorize, session })]
    const shared = jarOf(await c.fetch(form(OWN)))
    expect((await d.fetch(new Request('http://admin.test/status', { headers: { cookie: shared } }))).status).toBe(200)
    const other = createAdminHandler(scheduler, { logger, authorize, session: { secret: 'another-session-secret-01234567' } })
    expect((await other.fetch(new Request('http://admin.test/status', { headers: { cookie: shared } }))).status).toBe(401)
  })

  test('Basic credentials, which a browser replays by itself, do not spare a cookie request the CSRF header', async () => {
    const handler = createAdminHandler(scheduler, { logger, authorize: recording([]) })
    const headers = { cookie: 'host_session=ok', authorization: `Basic ${Buffer.from('proxy:secret').toString('base64')}` }
    const forged = await handler.fetch(new Request('http://admin.test/process-subscriptions?wait=false', { method: 'POST', headers }))
    expect(forged.status).toBe(403)
    const fromDashboard = await handler.fetch(new Request('http://admin.test/process-subscriptions?wait=false', { method: 'POST', headers: { ...headers, 'x-requested-with': 'pss-dashboard' } }))
    expect(fromDashboard.status).toBe(202)
    // An authorize that accepts Basic itself: a browser that has the password sends it to any page's form post too.
    const basic = createAdminHandler(scheduler, { logger, authorize: (request) => request.headers.get('authorization') === headers.authorization })
    const byProxyPassword = await basic.fetch(new Request('http://admin.test/failed/retry?wait=false', { method: 'POST', headers: { authorization: headers.authorization } }))
    expect(byProxyPassword.status).toBe(403)
    expect((await basic.fetch(new Request('http://admin.test/status', { headers: { authorization: headers.authorization } }))).status).toBe(200)
  })

  test('an answer that is not a boolean is refused (500, logged), not taken as a yes; the sign-in form says so as a form', async () => {
    const log = captureLogger()
    const handler = createAdminHandler(scheduler, { logger: log, authorize: (() => 'false') as never })
    const response = await handler.fetch(new Request('http://admin.test/status', { headers: { authorization: 'Bearer whatever-value' } }))
    expect(response.status).toBe(500)
    expect(log.messages('error').join('\n')).toContain(`authorize(request) must answer true, false or 'read' (or a promise of one), got "false"`)
    const form = await handler.fetch(new Request('http://admin.test/sign-in', { method: 'POST', body: new URLSearchParams({ token: 'whatever-value' }) }))
    expect(form.status).toBe(500)
    expect(form.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await form.text()).toContain('data-code="INTERNAL"')
    expect(form.headers.getSetCookie()).toEqual([])
  })

  test("an answer of 'read' lets a request read but not change state (403), by bearer header or by a session, which keeps that access; the page hides the actions", async () => {
    const VIEWER = 'viewer-token-value-0123456789'
    const viewer = bearerToken(VIEWER)
    const admin = bearerToken(OWN)
    const handler = createAdminHandler(scheduler, {
      logger,
      session: { secret: 'read-only-session-secret-0123' },
      authorize: async (request) => (await admin(request)) || ((await viewer(request)) ? 'read' : false),
    })
    const ask = (path: string, init: { method?: string; headers?: Record<string, string> } = {}) => handler.fetch(new Request(`http://admin.test${path}`, init))
    const bearer = { authorization: `Bearer ${VIEWER}` }
    expect((await ask('/status', { headers: bearer })).status).toBe(200)
    expect((await ask('/dashboard.json', { headers: bearer })).status).toBe(200)
    const refused = await ask('/process-subscriptions?wait=false', { method: 'POST', headers: bearer })
    expect(refused.status).toBe(403)
    expect(await refused.json()).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringContaining("these credentials may only read (authorize answered 'read')") } })
    expect((await ask(`/subscriptions/${ID}/pause`, { method: 'POST', headers: bearer })).status).toBe(403)

    const jar = jarOf(await handler.fetch(form(VIEWER)))
    expect(jar).toMatch(/^pss_admin=r1\./)
    const csrf = { cookie: jar, 'x-requested-with': 'pss-dashboard' }
    expect((await ask('/runs', { headers: { cookie: jar } })).status).toBe(200)
    expect((await ask('/failed/retry', { method: 'POST', headers: csrf })).status).toBe(403)
    const page = await (await ask('/', { headers: { cookie: jar } })).text()
    expect(page).toContain('data-access="read"')
    // The access is signed: the same session relabelled as a full one is no session at all.
    expect((await ask('/status', { headers: { cookie: jar.replace('=r1.', '=v1.') } })).status).toBe(401)
    // Signing out is no change of state, and is allowed.
    expect((await ask('/sign-out', { method: 'POST', headers: csrf })).status).toBe(200)

    const full = jarOf(await handler.fetch(form(OWN)))
    expect(full).toMatch(/^pss_admin=v1\./)
    // A viewer's session planted before the operator's (another app on the host set it) does not
    // take the operator's access down to reading.
    expect((await ask('/process-subscriptions?wait=false', { method: 'POST', headers: { cookie: `${jar}; ${full}`, 'x-requested-with': 'pss-dashboard' } })).status).toBe(202)
    expect((await ask('/process-subscriptions?wait=false', { method: 'POST', headers: { cookie: full, 'x-requested-with': 'pss-dashboard' } })).status).toBe(202)
    expect(await (await ask('/', { headers: { cookie: full } })).text()).toContain('data-access="full"')
  })

  test('still sees requests as they came when there is no session (the host\'s own cookies), and those need the CSRF header to change state', async () => {
    const handler = createAdminHandler(scheduler, { logger, authorize: recording([]) })
    const cookie = 'host_session=ok'
    expect((await handler.fetch(new Request('http://admin.test/status', { headers: { cookie } }))).status).toBe(200)
    const forged = await handler.fetch(new Request('http://admin.test/process-subscriptions?wait=false', { method: 'POST', headers: { cookie } }))
    expect(forged.status).toBe(403)
  })
})
