/**
 * Who may use the admin API. The host's `authorize(request)` decides, for every request. Scripts
 * send `Authorization: Bearer <token>`. A browser cannot send that header when it navigates, so
 * the dashboard signs in once with `GET <mount>/?token=<token>`: the token is checked like a
 * header, then kept in an HttpOnly, SameSite=Strict cookie scoped to the mount path, and presented
 * to `authorize` as a bearer header on later requests.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { ConfigurationError } from '../errors.js'
import { AdminHttpError } from './http.js'

/** Decides whether a request may use the admin API. */
export type Authorize = (request: Request) => boolean | Promise<boolean>

/** How a request presented its credentials. */
export type CredentialSource = 'header' | 'cookie' | 'none'

export const MIN_TOKEN_LENGTH = 16
export const COOKIE_NAME = 'pss_admin'
/** Requests authenticated by anything but an `Authorization` header must send it to change state. */
export const CSRF_HEADER = 'x-requested-with'
export const CSRF_VALUE = 'pss-dashboard'
const COOKIE_MAX_AGE_SECONDS = 12 * 60 * 60

// Digests first: timingSafeEqual needs equal lengths, and comparing digests leaks neither the
// token's length nor how much of it matched.
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

function bearerOf(request: Request): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(request.headers.get('authorization') ?? '')
  return match?.[1]
}

/**
 * An `authorize` function that accepts `Authorization: Bearer <token>` (and the dashboard's
 * cookie, which carries the same token), compared in constant time.
 *
 * @example
 * createAdminHandler(scheduler, { authorize: bearerToken(process.env.ADMIN_TOKEN!) })
 */
export function bearerToken(token: string): Authorize {
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    const got = typeof token === 'string' ? `${token.length} characters` : JSON.stringify(token) ?? 'undefined'
    throw new ConfigurationError(
      'token',
      `bearerToken() needs a secret of at least ${MIN_TOKEN_LENGTH} characters, got ${got}. Generate one with \`openssl rand -hex 32\` and pass it from the environment: bearerToken(process.env.ADMIN_TOKEN).`,
    )
  }
  const expected = digest(token)
  return (request) => {
    const presented = bearerOf(request)
    return presented !== undefined && timingSafeEqual(digest(presented), expected)
  }
}

function cookieToken(request: Request): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name !== COOKIE_NAME) continue
    try {
      return decodeURIComponent(rest.join('='))
    } catch {
      return undefined
    }
  }
  return undefined
}

/** A body-less copy of the request that shows `token` as a bearer header, for `authorize`. */
function withBearer(request: Request, token: string): Request {
  const headers = new Headers(request.headers)
  headers.set('authorization', `Bearer ${token}`)
  return new Request(request.url, { method: request.method, headers })
}

/**
 * What `authorize` is shown: the request as it came when it has an `Authorization` header, else
 * with the dashboard cookie's token as one.
 */
export function credentials(request: Request): { request: Request; source: CredentialSource } {
  if (request.headers.get('authorization')) return { request, source: 'header' }
  const token = cookieToken(request)
  if (token) return { request: withBearer(request, token), source: 'cookie' }
  return { request, source: 'none' }
}

/** The request to show `authorize` when the dashboard signs in with `?token=`. */
export function signInRequest(request: Request, token: string): Request {
  return withBearer(request, token)
}

export function sessionCookie(token: string, mount: string, secure: boolean): string {
  return `${COOKIE_NAME}=${encodeURIComponent(token)}; Path=${mount || '/'}; Max-Age=${COOKIE_MAX_AGE_SECONDS}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`
}

export function unauthorized(mount: string): AdminHttpError {
  return new AdminHttpError(
    401,
    'UNAUTHORIZED',
    `Send Authorization: Bearer <admin token>; in a browser, open ${mount || ''}/?token=<admin token> once.`,
    { 'www-authenticate': 'Bearer' },
  )
}

/**
 * A cross-site page can make a signed-in browser send the cookie, but not a custom header
 * without a CORS preflight this API never grants.
 */
export function assertCsrfHeader(request: Request, source: CredentialSource): void {
  if (source === 'header' || request.headers.get(CSRF_HEADER) === CSRF_VALUE) return
  throw new AdminHttpError(
    403,
    'FORBIDDEN',
    `Requests that change state must send Authorization: Bearer <admin token>, or X-Requested-With: ${CSRF_VALUE} with the dashboard's cookie.`,
  )
}
