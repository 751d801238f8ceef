/**
 * Node `IncomingMessage`/`ServerResponse` to Web `Request`/`Response` and back, so the admin
 * routes are written once. Knows Express's mounting (`req.baseUrl`, `req.originalUrl`) and its
 * body parsers, which may have read the body before the handler runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { AdminHttpError, forwardedHttps } from './http.js'
import { targetOf } from './routes.js'
import type { Target } from './routes.js'

/** What Express (and connect-style routers) add to a request. */
interface MountedRequest extends IncomingMessage {
  originalUrl?: string | undefined
  baseUrl?: string | undefined
  body?: unknown
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE'])

/**
 * The request body as a stream that reads nothing until the routes ask for it. A body nobody
 * reads is then left to Node, which discards it once the response is sent; a body read in part
 * (too large) is drained, so the connection stays usable.
 */
function lazyBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  let onData: ((chunk: Buffer) => void) | undefined
  let settled = false
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!onData) {
        onData = (chunk) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 1) <= 0) req.pause()
        }
        req.on('data', onData)
        req.once('end', () => {
          if (!settled) controller.close()
          settled = true
        })
        req.once('error', (error) => {
          if (!settled) controller.error(error)
          settled = true
        })
        req.once('close', () => {
          if (!settled) controller.error(new Error('The client closed the request before sending its body.'))
          settled = true
        })
      }
      req.resume()
    },
    cancel() {
      settled = true
      if (onData) req.off('data', onData)
      req.resume()
    },
  })
}

/** A body some code read before the handler, and kept elsewhere: there is nothing left to read. */
function consumedBody(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.error(new AdminHttpError(500, 'INTERNAL',
        'The request body was read before the admin handler got it, and is not on req.body (a body parser mounted in front of it?). ' +
        'Mount the handler before body parsers, or set req.body to what they parsed.'))
    },
  })
}

function bodyOf(req: MountedRequest): BodyInit | undefined {
  if (BODYLESS.has(req.method ?? 'GET')) return undefined
  // A body parser got there first: use what it parsed.
  if (req.body !== undefined && req.readableEnded) {
    if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) return req.body as string | Buffer<ArrayBuffer>
    return JSON.stringify(req.body)
  }
  // Read to its end by other code: listening for it would wait forever.
  if (req.readableEnded) return consumedBody()
  return lazyBody(req)
}

function headersOf(req: MountedRequest, parsedBody: boolean): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(':') || value === undefined) continue // HTTP/2 pseudo-headers
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  if (parsedBody) {
    // Re-serialized from a body parser's object: the original length and type no longer apply.
    headers.delete('content-length')
    if (typeof req.body === 'object' && !Buffer.isBuffer(req.body)) headers.set('content-type', 'application/json')
  }
  return headers
}

function originOf(req: IncomingMessage): string {
  const encrypted = (req.socket as TLSSocket | undefined)?.encrypted === true
  const protocol = encrypted || forwardedHttps(req.headers['x-forwarded-proto']) ? 'https' : 'http'
  const host = req.headers.host ?? ''
  try {
    return new URL(`${protocol}://${host}`).origin
  } catch {
    return `${protocol}://localhost`
  }
}

// Not new URL(raw, base): a request path such as '//host/x' would be read as another host.
function splitUrl(raw: string): { pathname: string; search: string } {
  const at = raw.indexOf('?')
  const pathname = at === -1 ? raw : raw.slice(0, at)
  return { pathname: pathname.startsWith('/') ? pathname : `/${pathname}`, search: at === -1 ? '' : raw.slice(at) }
}

export function toWebRequest(req: MountedRequest, basePath: string): { request: Request; target: Target } {
  const raw = req.url ?? '/'
  const full = splitUrl(typeof req.originalUrl === 'string' ? req.originalUrl : raw)
  // Mounted with app.use('/admin', handler): Express has moved the prefix from req.url to
  // req.baseUrl. Otherwise the full path arrives, and basePath says what to strip.
  const mount = req.baseUrl?.replace(/\/+$/, '')
  const target = typeof req.originalUrl === 'string' && mount
    ? targetOf(splitUrl(raw).pathname, mount, { stripped: true })
    : targetOf(full.pathname, basePath)
  const body = bodyOf(req)
  const request = new Request(`${originOf(req)}${full.pathname}${full.search}`, {
    method: req.method ?? 'GET',
    headers: headersOf(req, body !== undefined && !(body instanceof ReadableStream)),
    body,
    duplex: 'half',
  } as RequestInit)
  return { request, target }
}

export async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer())
  res.statusCode = response.status
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value)
  }
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  // A HEAD's answer says the length of the body it leaves out.
  if (!response.headers.has('content-length')) res.setHeader('content-length', body.length)
  res.end(body)
}
