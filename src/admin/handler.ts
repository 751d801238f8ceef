/**
 * `createAdminHandler(scheduler, options)`: the admin API and dashboard as one object that is
 * both a Node `(req, res, next?)` handler (node:http, Express, Fastify's raw request) and a
 * fetch-style `.fetch(request)` (Hono, Bun, Deno, workers). Routing is written once, over Web
 * `Request`/`Response`; the Node side adapts to it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ConfigurationError } from '../errors.js'
import { loggerOf, resolveLogger } from '../observe/logger.js'
import { clockOf } from '../observe/clock.js'
import type { SubscriptionScheduler } from '../types.js'
import { assertCsrfHeader, explicitAuthorization, judged, readOnly, unauthorized } from './auth.js'
import type { CredentialSource } from './auth.js'
import type { Access } from './session.js'
import { AdminHttpError, assertQuery, headOf, json } from './http.js'
import { errorResponse } from './error-response.js'
import { ADMIN_OPTION_KEYS, refuseUnknownKeys, resolveBasePath, resolveSessions } from './handler-options.js'
import type { AdminHandlerOptions } from './handler-options.js'
import { sendResponse, toWebRequest } from './node-adapter.js'
import { matchRoute, targetOf } from './routes.js'
import type { Target } from './routes.js'
import { bestSession, COOKIE_NAME, readCookies } from './session.js'
import { SIGN_IN_PATH, SIGN_OUT_PATH, signIn, tokenInQuery } from './sign-in.js'
import { createHeaderRefusals, createSignInLimit } from './sign-in-limit.js'
import { signInPage } from './sign-in-page.js'

export type { AdminHandlerOptions, AdminSessionOptions } from './handler-options.js'

/** A Node handler (with an optional Express `next`) that also has a fetch-style entry point. */
export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void
  fetch(request: Request): Promise<Response>
}

/** The scheduler's clock when it answered (ms since the epoch), on every API route's answer, errors included. */
const NOW_HEADER = 'x-pss-now'
/** Longest a session's check waits for the first reading of the database's clock (it is down, say). */
const CLOCK_WAIT_MS = 2_000

/**
 * The admin API and dashboard of `scheduler`, as a Node request handler (Express, Connect,
 * `node:http`) that also has `.fetch(request)` for fetch-based servers (Hono, Bun, Deno). Every
 * request is judged by `authorize`; a browser signs in once through the dashboard's form.
 *
 * @example
 * const admin = createAdminHandler(scheduler, { authorize: bearerToken(process.env.ADMIN_TOKEN!) })
 * app.use('/admin', admin)                                            // Express
 * http.createServer(createAdminHandler(scheduler, { authorize, basePath: '/admin' }))
 * honoApp.all('/admin/*', (c) => admin.fetch(c.req.raw))              // with basePath: '/admin'
 */
export function createAdminHandler(scheduler: SubscriptionScheduler, options: AdminHandlerOptions): AdminHandler {
  if (options && typeof options === 'object') refuseUnknownKeys(options, ADMIN_OPTION_KEYS, 'createAdminHandler()')
  if (typeof options?.authorize !== 'function') {
    throw new ConfigurationError(
      'authorize',
      `createAdminHandler() needs an authorize(request) function; the admin API can start runs. Pass one, e.g. { authorize: bearerToken(process.env.ADMIN_TOKEN!) }, with a token of at least 16 characters.`,
    )
  }
  if (typeof scheduler?.getStatus !== 'function') {
    throw new ConfigurationError('scheduler', 'expected the object createSubscriptionScheduler() returns.')
  }
  const { authorize } = options
  const basePath = resolveBasePath(options.basePath)
  const logger = options.logger === undefined ? loggerOf(scheduler) : resolveLogger(options.logger)
  const clock = clockOf(scheduler)
  const sessions = resolveSessions(authorize, options.session, () => clock.now())
  const signInLimit = createSignInLimit(logger)
  const headerRefusals = createHeaderRefusals(logger)

  /**
   * A bearer header (any scheme a browser does not send by itself) is always `authorize`'s to
   * judge. Otherwise a valid session stands for the yes `authorize` gave at sign-in, whatever
   * Basic credentials a proxy in front added; failing that, `authorize` sees the request as it
   * came (a host may recognise its own cookies or a proxy's headers).
   */
  async function authenticate(request: Request): Promise<{ source: CredentialSource; access: Access } | undefined> {
    const by = (source: CredentialSource, access: Access | null) => (access ? { source, access } : undefined)
    if (explicitAuthorization(request)) {
      const access = await judged(authorize, request)
      if (!access) headerRefusals.refused()
      return by('header', access)
    }
    const cookies = readCookies(request, COOKIE_NAME)
    // A process that serves the admin API without start() has not read the database's clock yet.
    if (cookies.length > 0) await clock.ready(CLOCK_WAIT_MS)
    const signedIn = cookies.length > 0 ? bestSession(sessions.key, cookies, sessions.now(), sessions.maxAgeSeconds) : null
    if (signedIn) return by('session', signedIn)
    return by('other', await judged(authorize, request))
  }

  async function handle(request: Request, target: Target): Promise<Response> {
    // HEAD (a monitor's probe) is the GET without its body, but with its length.
    if (request.method === 'HEAD') return await headOf(await handle(new Request(request.url, { headers: request.headers }), target))
    try {
      const url = new URL(request.url)
      const { mount, path } = target
      if (path === SIGN_IN_PATH) {
        // A token in the address is in the logs whatever the method: refused, as GET /?token= is.
        if (url.searchParams.has('token') && (request.method === 'POST' || request.method === 'GET')) return tokenInQuery(mount)
        if (request.method === 'POST') {
          // The session it mints ends by the database's clock: read it first, without start() too.
          await clock.ready(CLOCK_WAIT_MS)
          return await signIn(request, mount, authorize, sessions, signInLimit).catch((error: unknown) => signInFailed(error, mount))
        }
        if (request.method === 'GET') return signInPage(mount, { status: 200 })
        throw new AdminHttpError(405, 'METHOD_NOT_ALLOWED', `${path} accepts GET, POST, not ${request.method}.`, { allow: 'GET, POST' })
      }
      const isPage = request.method === 'GET' && path === '/'
      if (isPage && url.searchParams.has('token')) return tokenInQuery(mount)
      const caller = await authenticate(request)
      if (!caller) {
        if (isPage) return signInPage(mount, { status: 401 })
        throw unauthorized(mount)
      }
      const match = matchRoute(request.method, path)
      if (match.kind === 'none') throw new AdminHttpError(404, 'NOT_FOUND', `No admin route ${request.method} ${path}.`)
      if (match.kind === 'wrong-method') {
        // HEAD is answered wherever GET is.
        const allow = match.allow.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method])).join(', ')
        throw new AdminHttpError(405, 'METHOD_NOT_ALLOWED', `${path} accepts ${allow}, not ${request.method}.`, { allow })
      }
      if (match.route.method !== 'GET') {
        assertCsrfHeader(request, caller.source)
        // Signing out changes nothing but the browser's own cookie.
        if (caller.access === 'read' && path !== SIGN_OUT_PATH) throw readOnly(request.method, path)
      }
      assertQuery(url, match.route.query, `${match.route.method} ${match.route.path}`)
      return stamped(await match.route.handle({ request, url, id: match.id, mount, scheduler, access: caller.access }))
    } catch (error) {
      return stamped(errorResponse(error, logger))
    }
  }

  /** With the scheduler's time as it answered: the page says "5 min ago" by it, not by the browser's clock. */
  function stamped(response: Response): Response {
    response.headers.set(NOW_HEADER, String(clock.now().getTime()))
    return response
  }

  /** The sign-in form says a failure on the server in its own terms (the form, not JSON), and the log has it. */
  function signInFailed(error: unknown, mount: string): Response {
    logger.error(`Admin sign-in failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    return signInPage(mount, { status: 500, error: { code: 'INTERNAL', message: 'Signing in failed on the server; its log has the details.' } })
  }

  async function handleNode(req: IncomingMessage): Promise<Response> {
    let converted: ReturnType<typeof toWebRequest>
    try {
      converted = toWebRequest(req, basePath)
    } catch (error) {
      // Methods such as TRACE, which a Web Request refuses to represent.
      return errorResponse(new AdminHttpError(400, 'INVALID_INPUT', `This request cannot be handled: ${(error as Error).message}`), logger)
    }
    return await handle(converted.request, converted.target)
  }

  const node = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void => {
    handleNode(req)
      .then((response) => sendResponse(res, response))
      .catch((error: unknown) => {
        if (next) return next(error)
        logger.error(`Admin response could not be sent: ${(error as Error).message}`)
        if (!res.headersSent) sendResponse(res, json(500, { error: { code: 'INTERNAL', message: 'The response could not be sent.' } })).catch(() => res.destroy())
        else res.destroy()
      })
  }

  return Object.assign(node, {
    fetch: (request: Request) => handle(request, targetOf(new URL(request.url).pathname, basePath)),
  })
}
