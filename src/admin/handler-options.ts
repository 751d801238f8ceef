/**
 * `createAdminHandler()`'s options, and how each is checked before anything is served: a
 * misspelt key or a path a router could confuse is refused with what to write instead.
 */
import { closest } from '../config/suggest.js'
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import type { Logger } from '../observe/logger.js'
import { MIN_TOKEN_LENGTH, sessionKeyOf } from './auth.js'
import type { Authorize } from './auth.js'
import { routeRoots } from './routes.js'
import { deriveSessionKey, randomSessionKey } from './session.js'
import { SIGN_IN_PATH, SIGN_OUT_PATH } from './sign-in.js'
import type { SessionSettings } from './sign-in.js'

export interface AdminHandlerOptions {
  /**
   * Decides whether a request may proceed. Required: the API can start runs. The dashboard's
   * sign-in form shows it the typed token as `Authorization: Bearer <token>`; a yes earns a
   * signed session cookie, and requests carrying a valid one are let in without asking again.
   * @example bearerToken(process.env.ADMIN_TOKEN!)
   */
  authorize: Authorize
  /** The dashboard's sign-in sessions. */
  session?: AdminSessionOptions | undefined
  /**
   * Where the handler is mounted, such as `'/admin'`, for servers that pass it the full path
   * (node:http, `.fetch` behind a router). Express's `req.baseUrl` is used when present.
   * @default ''
   */
  basePath?: string | undefined
  /** Where unexpected errors and refused sign-ins are logged. @default the scheduler's `logger` */
  logger?: Logger | undefined
}

export interface AdminSessionOptions {
  /**
   * Signs sessions when `authorize` is your own function (at least 16 characters). Without it,
   * each handler signs with a random key of its own: sessions then hold on that process only,
   * and end when it restarts. Not needed (and refused) with `bearerToken()`, whose sessions are
   * signed with a key derived from its token.
   */
  secret?: string | undefined
  /** How long a sign-in lasts, in seconds (60 to 2592000). @default 43200 (12 hours) */
  maxAgeSeconds?: number | undefined
}

export const ADMIN_OPTION_KEYS: ReadonlySet<string> = new Set(['authorize', 'session', 'basePath', 'logger'] satisfies (keyof AdminHandlerOptions)[])

export function resolveBasePath(value: unknown): string {
  if (value === undefined || value === '' || value === '/') return ''
  // Plain segments only: a request's path arrives with '.' and '..' resolved, '%2e' and '\'
  // rewritten by browsers, and '//' is no path a router matches.
  // No ';': the path goes into the session cookie's Path attribute, which a ';' would end.
  if (typeof value !== 'string' || !/^(\/[A-Za-z0-9_~!$&'()*+,=:@.-]+)+$/.test(value) || value.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new ConfigurationError('basePath', `expected a path such as '/admin': a leading slash, plain segments (letters, digits, - . _ ~ and the like; no %, ;, backslash, '.' or '..' segment, or empty segment), no trailing slash; got ${shown(value)}.`)
  }
  const root = value.split('/')[1] ?? ''
  if (routeRoots([SIGN_IN_PATH, SIGN_OUT_PATH]).has(root)) {
    throw new ConfigurationError(
      'basePath',
      `${shown(value)} starts with '/${root}', which is also where admin routes start (/${root}…): behind a router that strips the mount path ` +
        `(Hono's mount), a request for a route below it could not be told from one for the mount itself. Mount it elsewhere, such as '/admin'.`,
    )
  }
  return value
}

/** Refuses the first key of `given` not in `known`, naming the nearest known one. */
export function refuseUnknownKeys(given: object, known: ReadonlySet<string>, of: string, prefix = ''): void {
  const unknown = Object.keys(given).find((key) => !known.has(key))
  if (unknown === undefined) return
  const near = closest(unknown, [...known])
  throw new ConfigurationError(`${prefix}${unknown}`, `unknown option of ${of}${near ? ` (did you mean \`${near}\`?)` : ''}; it takes ${[...known].join(', ')}.`)
}

const DEFAULT_MAX_AGE_SECONDS = 12 * 60 * 60
const MAX_MAX_AGE_SECONDS = 30 * 24 * 60 * 60
const SESSION_OPTION_KEYS: ReadonlySet<string> = new Set(['secret', 'maxAgeSeconds'] satisfies (keyof AdminSessionOptions)[])

export function resolveSessions(authorize: Authorize, options: AdminSessionOptions | undefined, now: () => Date): SessionSettings {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new ConfigurationError('session', `expected { secret?, maxAgeSeconds? }, got ${shown(options)}.`)
  }
  // A misspelt secret would leave each replica signing with a random key of its own: every
  // sign-in would hold on one process only, behind a load balancer a sign-out at each hop.
  refuseUnknownKeys(options ?? {}, SESSION_OPTION_KEYS, "createAdminHandler()'s session", 'session.')
  const { secret, maxAgeSeconds = DEFAULT_MAX_AGE_SECONDS } = options ?? {}
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 60 || maxAgeSeconds > MAX_MAX_AGE_SECONDS) {
    throw new ConfigurationError('session.maxAgeSeconds', `expected a whole number of seconds from 60 to ${MAX_MAX_AGE_SECONDS} (30 days), got ${shown(maxAgeSeconds)}.`)
  }
  const tokenKey = sessionKeyOf(authorize)
  if (secret === undefined) return { key: tokenKey ?? randomSessionKey(), maxAgeSeconds, now }
  if (tokenKey) {
    throw new ConfigurationError('session.secret', 'bearerToken() already signs sessions with a key derived from its token (a new token signs everyone out); remove session.secret, which is for an authorize function of your own.')
  }
  if (typeof secret !== 'string' || secret.length < MIN_TOKEN_LENGTH) {
    const got = typeof secret === 'string' ? `${secret.length} characters` : typeof secret
    throw new ConfigurationError('session.secret', `expected a secret of at least ${MIN_TOKEN_LENGTH} characters, got ${got}. Generate one with \`openssl rand -hex 32\`.`)
  }
  return { key: deriveSessionKey(secret), maxAgeSeconds, now }
}
