/**
 * Signing in and out of the dashboard. `POST <mount>/sign-in` takes the token from a form (or
 * the JSON an Express body parser made of it), shows it to `authorize` as a bearer header, and
 * on a yes sets the session cookie and sends the browser back to the dashboard with a 303.
 * Failures answer with the form again, saying what was wrong.
 */
import type { Authorize } from './auth.js'
import { judged, TOKEN_CHARS, withBearer } from './auth.js'
import { AdminHttpError, forwardedHttps, readBody } from './http.js'
import { clearedSessionCookie, mintSession, sessionCookie } from './session.js'
import type { SessionKey } from './session.js'
import { signInPage } from './sign-in-page.js'
import type { SignInLimit } from './sign-in-limit.js'

export const SIGN_IN_PATH = '/sign-in'
export const SIGN_OUT_PATH = '/sign-out'

/** How the handler signs its sessions. */
export interface SessionSettings {
  key: SessionKey
  maxAgeSeconds: number
  /** The scheduler's clock (the database's, by default): every replica mints and checks by the same time. */
  now: () => Date
}

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i
// What a header can carry: the token is shown to authorize as `Authorization: Bearer <token>`.

function fieldsOf(bytes: Buffer, type: string): Record<string, unknown> {
  if (FORM_TYPE.test(type)) return Object.fromEntries(new URLSearchParams(bytes.toString('utf8')))
  if (JSON_TYPE.test(type)) {
    try {
      const value: unknown = JSON.parse(bytes.toString('utf8'))
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
    } catch {
      // Reported below, as for any other body that is not a form.
    }
  }
  throw new AdminHttpError(400, 'INVALID_BODY', 'Send the token as a form field named "token" (Content-Type: application/x-www-form-urlencoded).')
}

async function readToken(request: Request): Promise<string> {
  const bytes = await readBody(request)
  const fields = bytes ? fieldsOf(bytes, request.headers.get('content-type') ?? '') : {}
  const unknown = Object.keys(fields).filter((key) => key !== 'token')
  if (unknown.length > 0) {
    throw new AdminHttpError(400, 'INVALID_BODY', `Unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}; the sign-in form takes "token" only.`)
  }
  const token = typeof fields.token === 'string' ? fields.token.trim() : ''
  if (token === '') throw new AdminHttpError(400, 'INVALID_INPUT', 'Enter the admin token.')
  if (!TOKEN_CHARS.test(token)) throw new AdminHttpError(400, 'INVALID_INPUT', 'An admin token is printable ASCII without spaces; check what was pasted.')
  return token
}

function formError(mount: string, error: AdminHttpError): Response {
  // The user's mistakes are a 400 (a 401 or 413 as such); the server's own failures keep their 5xx.
  const status = error.status === 413 ? 413 : error.status === 401 ? 401 : error.status >= 500 ? 500 : 400
  return signInPage(mount, { status, error: { code: error.code, message: error.message } })
}

/**
 * `POST /sign-in`. No CSRF check: signing a browser in needs the token, and whoever has it can
 * use the API anyway.
 */
export async function signIn(request: Request, mount: string, authorize: Authorize, settings: SessionSettings, limit: SignInLimit): Promise<Response> {
  const blockedMs = limit.blockedForMs()
  if (blockedMs !== null) {
    const seconds = Math.max(1, Math.ceil(blockedMs / 1000))
    const page = signInPage(mount, { status: 429, error: { code: 'TOO_MANY_REQUESTS', message: `Too many tokens were refused this minute; try again in ${seconds} s.` } })
    page.headers.set('retry-after', String(seconds))
    return page
  }
  let token: string
  try {
    token = await readToken(request)
  } catch (error) {
    if (error instanceof AdminHttpError) return formError(mount, error)
    throw error
  }
  const access = await judged(authorize, withBearer(request, token))
  if (!access) {
    limit.refused()
    return formError(mount, new AdminHttpError(401, 'UNAUTHORIZED', 'That token was not accepted. Check it and try again.'))
  }
  const expiresAt = new Date(settings.now().getTime() + settings.maxAgeSeconds * 1000)
  // Through .fetch too (Hono behind a proxy builds an http:// URL).
  const secure = securedRequest(request)
  return new Response(null, {
    status: 303,
    headers: {
      location: `${mount}/`,
      'set-cookie': sessionCookie(mintSession(settings.key, expiresAt, access), mount, secure, settings.maxAgeSeconds),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    },
  })
}

/** `GET /?token=…`: no longer a way in. The token has reached this server's logs by now. */
export function tokenInQuery(mount: string): Response {
  return signInPage(mount, {
    status: 400,
    error: {
      code: 'INVALID_INPUT',
      message: `Signing in with ?token= in the address is no longer supported: addresses end up in proxy and access logs. Sign in with this form, remove the token from bookmarks, and consider rotating it.`,
    },
  })
}

/** The `Set-Cookie` that signs a browser out. */
export function signOutCookie(request: Request, mount: string): string {
  return clearedSessionCookie(mount, securedRequest(request))
}

/** Whether the browser reached us over TLS: the URL says so, or a proxy in front does (through .fetch too, as the Node adapter judges it). */
function securedRequest(request: Request): boolean {
  return new URL(request.url).protocol === 'https:' || forwardedHttps(request.headers.get('x-forwarded-proto'))
}
