/**
 * The dashboard's session cookie. Its value is `v1.<session id>.<expiry>.<mac>`: a random id, the
 * expiry in Unix seconds, and an HMAC-SHA256 of the three under a session key. A read-only
 * session (authorize answered `'read'`) starts `r1` instead, which the MAC covers too. The key is derived from
 * a secret (the admin token, or the handler's own secret), so the cookie proves that a sign-in
 * happened and until when it holds, and carries nothing the secret could be recovered from. A new
 * secret is a new key: every cookie signed under the old one is refused.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** What a request let in may do: everything, or only read (authorize answered `'read'`). */
export type Access = 'full' | 'read'

/** Name of the cookie; the value format is versioned, so old raw-token cookies simply fail. */
export const COOKIE_NAME = 'pss_admin'
const PREFIXES: Record<Access, string> = { full: 'v1', read: 'r1' }
const KEY_LABEL = 'pss-session-v1'
const FORMAT = /^(v1|r1)\.([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/

/** A key that signs and checks sessions; never the secret itself. */
export type SessionKey = Buffer & { readonly __sessionKey: true }

/** HMAC(secret, 'pss-session-v1'): one-way, so holding the key does not reveal the secret. */
export function deriveSessionKey(secret: string | Buffer): SessionKey {
  return createHmac('sha256', secret).update(KEY_LABEL, 'utf8').digest() as SessionKey
}

/** A key no one else knows, for handlers whose authorize carries none: valid in this process only. */
export function randomSessionKey(): SessionKey {
  return deriveSessionKey(randomBytes(32))
}

function mac(key: SessionKey, payload: string): string {
  return createHmac('sha256', key).update(payload, 'utf8').digest('base64url')
}

/** A session value with `access` that expires at `expiresAt` (to the second). */
export function mintSession(key: SessionKey, expiresAt: Date, access: Access = 'full'): string {
  const payload = `${PREFIXES[access]}.${randomBytes(16).toString('base64url')}.${Math.floor(expiresAt.getTime() / 1000)}`
  return `${payload}.${mac(key, payload)}`
}

/**
 * The session's access when `value` was signed with `key` and has not expired at `now`, nor ends
 * later than a session minted now would (`maxAgeSeconds`): a shorter max age ends the longer
 * sessions too. Null otherwise.
 */
export function verifySession(key: SessionKey, value: string, now: Date, maxAgeSeconds: number): Access | null {
  const match = FORMAT.exec(value)
  if (!match) return null
  const [, prefix, id, expiry, presented] = match as unknown as [string, string, string, string, string]
  // Same length by construction (the format fixes it), as timingSafeEqual requires.
  const expected = Buffer.from(mac(key, `${prefix}.${id}.${expiry}`), 'utf8')
  if (!timingSafeEqual(expected, Buffer.from(presented, 'utf8'))) return null
  const expiresAt = Number(expiry) * 1000
  // A second of slack: an expiry is minted to the second, rounded down.
  if (expiresAt <= now.getTime() || expiresAt > now.getTime() + maxAgeSeconds * 1000 + 1000) return null
  return prefix === PREFIXES.read ? 'read' : 'full'
}

/**
 * Every value of cookie `name` on the request, in the order sent. There may be several: a page of
 * another app on the same host (another port, a sibling subdomain) can set one under a longer
 * path, which the browser sends first. Each is to be tried, so that a planted one locks nobody out.
 */
export function readCookies(request: Request, name: string): string[] {
  const values: string[] = []
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=')
    if (at !== -1 && part.slice(0, at).trim() === name) values.push(part.slice(at + 1).trim())
  }
  return values
}

/**
 * The most a request's session cookies grant: a planted cookie with a viewer's session does not
 * downgrade the operator's own, nor does a junk one hide it.
 */
export function bestSession(key: SessionKey, values: string[], now: Date, maxAgeSeconds: number): Access | null {
  let best: Access | null = null
  for (const value of values) {
    const access = verifySession(key, value, now, maxAgeSeconds)
    if (access === 'full') return access
    best ??= access
  }
  return best
}

function attributes(mount: string, secure: boolean, maxAgeSeconds: number): string {
  return `Path=${mount || '/'}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`
}

/** Set-Cookie for a session; scoped to the mount, never readable by scripts, never sent cross-site. */
export function sessionCookie(value: string, mount: string, secure: boolean, maxAgeSeconds: number): string {
  return `${COOKIE_NAME}=${value}; ${attributes(mount, secure, maxAgeSeconds)}`
}

/** Set-Cookie that makes the browser drop the session. */
export function clearedSessionCookie(mount: string, secure: boolean): string {
  return `${COOKIE_NAME}=; ${attributes(mount, secure, 0)}`
}
