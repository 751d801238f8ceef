/**
 * `createAdminHandler(scheduler, options)`: the admin API and dashboard as one object that is
 * both a Node `(req, res, next?)` handler (node:http, Express, Fastify's raw request) and a
 * fetch-style `.fetch(request)` (Hono, Bun, Deno, workers). Routing is written once, over Web
 * `Request`/`Response`; the Node side adapts to it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ConfigurationError } from '../errors.js'
import type { Logger } from '../observe/logger.js'
import { defaultLogger } from '../observe/logger.js'
import type { SubscriptionScheduler } from '../types.js'
import { assertCsrfHeader, credentials, sessionCookie, signInRequest, unauthorized } from './auth.js'
import type { Authorize } from './auth.js'
import { AdminHttpError, errorResponse, json } from './http.js'
import { sendResponse, toWebRequest } from './node-adapter.js'
import { matchRoute, targetOf } from './routes.js'
import type { Target } from './routes.js'

export interface AdminHandlerOptions {
  /**
   * Decides, for every request (the dashboard included), whether it may proceed. Required: the
   * API can start runs. The dashboard's cookie is shown to it as `Authorization: Bearer <token>`.
   * @example bearerToken(process.env.ADMIN_TOKEN!)
   */
  authorize: Authorize
  /**
   * Where the handler is mounted, such as `'/admin'`, for servers that pass it the full path
   * (node:http, `.fetch` behind a router). Express's `req.baseUrl` is used when present.
   * @default ''
   */
  basePath?: string
  /** Where unexpected errors are logged. @default consola, tagged `pg-subscription-scheduler` */
  logger?: Logger
}

/** A Node handler (with an optional Express `next`) that also has a fetch-style entry point. */
export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void
  fetch(request: Request): Promise<Response>
}

function resolveBasePath(value: unknown): string {
  if (value === undefined || value === '' || value === '/') return ''
  if (typeof value !== 'string' || !/^\/[^?#\s]*[^/?#\s]$/.test(value)) {
    throw new ConfigurationError('basePath', `expected a path such as '/admin' (leading slash, no trailing slash), got ${JSON.stringify(value)}.`)
  }
  return value
}

/**
 * @example
 * const admin = createAdminHandler(scheduler, { authorize: bearerToken(process.env.ADMIN_TOKEN!) })
 * app.use('/admin', admin)                                            // Express
 * http.createServer(createAdminHandler(scheduler, { authorize, basePath: '/admin' }))
 * honoApp.all('/admin/*', (c) => admin.fetch(c.req.raw))              // with basePath: '/admin'
 */
export function createAdminHandler(scheduler: SubscriptionScheduler, options: AdminHandlerOptions): AdminHandler {
  if (typeof options?.authorize !== 'function') {
    throw new ConfigurationError(
      'authorize',
      `createAdminHandler() needs an authorize(request) function; the admin API can start runs. Pass one, e.g. { authorize: bearerToken(process.env.ADMIN_TOKEN) }, with a token of at least 16 characters.`,
    )
  }
  if (typeof scheduler?.getStatus !== 'function') {
    throw new ConfigurationError('scheduler', 'expected the object createSubscriptionScheduler() returns.')
  }
  const { authorize } = options
  const basePath = resolveBasePath(options.basePath)
  const logger = options.logger ?? defaultLogger()

  async function signIn(request: Request, url: URL, { mount }: Target): Promise<Response> {
    const token = url.searchParams.get('token') ?? ''
    if (!token || !(await authorize(signInRequest(request, token)))) throw unauthorized(mount)
    const secure = url.protocol === 'https:'
    // 303 to the bare page: the token leaves the address bar and the history entry.
    return new Response(null, {
      status: 303,
      headers: { location: `${mount}/`, 'set-cookie': sessionCookie(token, mount, secure), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    })
  }

  async function handle(request: Request, target: Target): Promise<Response> {
    try {
      const url = new URL(request.url)
      if (request.method === 'GET' && target.path === '/' && url.searchParams.has('token')) return await signIn(request, url, target)
      const shown = credentials(request)
      if (!(await authorize(shown.request))) throw unauthorized(target.mount)
      const match = matchRoute(request.method, target.path)
      if (match.kind === 'none') throw new AdminHttpError(404, 'NOT_FOUND', `No admin route ${request.method} ${target.path}.`)
      if (match.kind === 'wrong-method') {
        const allow = match.allow.join(', ')
        throw new AdminHttpError(405, 'METHOD_NOT_ALLOWED', `${target.path} accepts ${allow}, not ${request.method}.`, { allow })
      }
      if (match.route.method !== 'GET') assertCsrfHeader(request, shown.source)
      return await match.route.handle({ request, url, id: match.id, mount: target.mount, scheduler })
    } catch (error) {
      return errorResponse(error, logger)
    }
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
