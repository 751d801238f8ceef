/**
 * Who may use the admin API. Scripts send `Authorization: Bearer <token>`, and the host's
 * `authorize(request)` decides. A browser signs in once through the dashboard's form: the token
 * is shown to `authorize` as a bearer header, and a yes earns a signed, expiring session cookie
 * (session.ts) that never holds the token, with the access that yes gave (all, or only reading).
 * Requests with a valid session are signed in.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import { AdminHttpError } from './http.js'
import { deriveSessionKey } from './session.js'
import type { Access, SessionKey } from './session.js'

/**
 * Decides whether a request may use the admin API: `true` for everything, `'read'` for what only
 * reads (GET and HEAD: the dashboard, status, runs, failures), `false` for nothing.
 */
export type Authorize = (request: Request) => boolean | 'read' | Promise<boolean | 'read'>

/**
 * How a request proved who it is: `header` is an `Authorization` header a browser never sends by
 * itself (a bearer token), which no cross-site page can add either; everything else (the session,
 * a host's cookie, Basic credentials a browser replays) must send the CSRF header to change state.
 */
export type CredentialSource = 'header' | 'session' | 'other'

/** Schemes a browser attaches by itself, once the user has typed them for the site or its proxy. */
const AMBIENT_SCHEMES = new Set(['basic', 'digest', 'negotiate', 'ntlm'])

/** The request's `Authorization` header, unless it is one a browser may have added by itself. */
export function explicitAuthorization(request: Request): string | undefined {
  const header = request.headers.get('authorization')?.trim()
  if (!header) return undefined
  const scheme = header.split(/[ \t]/, 1)[0]!.toLowerCase()
  return AMBIENT_SCHEMES.has(scheme) ? undefined : header
}

/**
 * Asks `authorize`: the access it grants, or null for none. It must answer `true`, `false` or
 * `'read'`: any other string or an object there is a bug, not a yes.
 */
export async function judged(authorize: Authorize, request: Request): Promise<Access | null> {
  const answer: unknown = await authorize(request)
  if (answer === true) return 'full'
  if (answer === 'read') return 'read'
  if (answer === false) return null
  throw new TypeError(`The admin handler's authorize(request) must answer true, false or 'read' (or a promise of one), got ${shown(answer)}; the request was refused.`)
}

/** A read-only caller (a bearer token, or a session signed in with one) asked for a change. */
export function readOnly(method: string, path: string): AdminHttpError {
  return new AdminHttpError(
    403,
    'FORBIDDEN',
    `${method} ${path} changes state, and these credentials may only read (authorize answered 'read'). Use, or sign in with, a token that authorize answers true for.`,
  )
}

export const MIN_TOKEN_LENGTH = 16
/** What a token may hold: printable ASCII without spaces, all a header or a form carries whole. */
export const TOKEN_CHARS = /^[\x21-\x7e]+$/
/** Requests authenticated by anything but an `Authorization` header must send it to change state. */
export const CSRF_HEADER = 'x-requested-with'
export const CSRF_VALUE = 'pss-dashboard'

// The session key each bearerToken() function signs with, derived from its token. Kept beside
// the function rather than on it, so that neither the token nor the key shows on the object.
const SESSION_KEYS = new WeakMap<Authorize, SessionKey>()

/** The key sessions are signed with when `authorize` came from bearerToken(), else undefined. */
export function sessionKeyOf(authorize: Authorize): SessionKey | undefined {
  return SESSION_KEYS.get(authorize)
}

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
 * An `authorize` function that accepts `Authorization: Bearer <token>`, compared in constant
 * time. The dashboard's sessions are signed with a key derived from the token: changing the
 * token signs everyone out.
 *
 * @example
 * createAdminHandler(scheduler, { authorize: bearerToken(process.env.ADMIN_TOKEN!) })
 */
export function bearerToken(token: string): Authorize {
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    const got = typeof token === 'string' ? `${token.length} characters` : JSON.stringify(token) ?? 'undefined'
    throw new ConfigurationError(
      'token',
      `bearerToken() needs a secret of at least ${MIN_TOKEN_LENGTH} characters, got ${got}. Generate one with \`openssl rand -hex 32\` and pass it from the environment: bearerToken(process.env.ADMIN_TOKEN!), with ADMIN_TOKEN set.`,
    )
  }
  if (!TOKEN_CHARS.test(token)) {
    // A header value `Bearer <token>` ends at its first space, and the sign-in form refuses
    // anything else a header cannot carry whole (accents, control characters): it could never match.
    throw new ConfigurationError('token', 'bearerToken() needs a secret of printable ASCII without spaces or line breaks (no accents or control characters), which an Authorization header and the sign-in form carry whole. Generate one with `openssl rand -hex 32`.')
  }
  const expected = digest(token)
  const authorize: Authorize = (request) => {
    const presented = bearerOf(request)
    return presented !== undefined && timingSafeEqual(digest(presented), expected)
  }
  SESSION_KEYS.set(authorize, deriveSessionKey(token))
  return authorize
}

/** A body-less copy of the request that shows `token` as a bearer header, for `authorize`. */
export function withBearer(request: Request, token: string): Request {
  const headers = new Headers(request.headers)
  headers.set('authorization', `Bearer ${token}`)
  return new Request(request.url, { method: request.method, headers })
}

export function unauthorized(mount: string): AdminHttpError {
  return new AdminHttpError(
    401,
    'UNAUTHORIZED',
    `Send Authorization: Bearer <admin token>; in a browser, sign in with the form at ${mount || ''}/.`,
    { 'www-authenticate': 'Bearer' },
  )
}

/**
 * A cross-site page can make a signed-in browser send its cookies, but not a custom header
 * without a CORS preflight this API never grants.
 */
export function assertCsrfHeader(request: Request, source: CredentialSource): void {
  if (source === 'header' || request.headers.get(CSRF_HEADER) === CSRF_VALUE) return
  throw new AdminHttpError(
    403,
    'FORBIDDEN',
    `Requests that change state must send Authorization: Bearer <admin token>, or else X-Requested-With: ${CSRF_VALUE}: a request let in by a cookie or by headers a browser or a proxy adds by itself could come from another site.`,
  )
}
