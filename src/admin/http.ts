/**
 * The admin API's wire format: JSON bodies, errors as `{ error: { code, message } }` (which
 * failure gets which status: error-response.ts), and the parsing of what a request may carry
 * (ids, `wait`, `limit`, a JSON object body of at most 64 KB).
 */
import { assertUuid } from '../records/enroll.js'
import { shown } from '../error-text.js'
import { closest } from '../config/suggest.js'

export type AdminErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INVALID_ID'
  | 'INVALID_BODY'
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_STARTED'
  | 'SUBSCRIPTION_BUSY'
  | 'SUBSCRIPTION_STATE'
  | 'SUBSCRIPTION_DATA'
  | 'CALLS_PAUSED'
  | 'TOO_MANY_REQUESTS'
  | 'DATABASE_UNAVAILABLE'
  | 'DATABASE_PRIVILEGE'
  | 'INTERNAL'

/** The shape of every error response. */
export interface AdminErrorBody {
  /** `field`: the body field or query parameter at fault, when one is (a form can point at it). */
  error: { code: AdminErrorCode; message: string; field?: string | undefined }
}

/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024

/** An answer the handler chose to give; never leaves the handler as an exception. */
export class AdminHttpError extends Error {
  override name = 'AdminHttpError'

  constructor(
    readonly status: number,
    readonly code: AdminErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    /** The body field or query parameter at fault, when one is. */
    readonly field?: string,
  ) {
    super(message)
  }
}

/** A 400 for one body field or query parameter, which the answer names. */
export function invalidField(field: string, code: 'INVALID_BODY' | 'INVALID_INPUT', message: string): AdminHttpError {
  return new AdminHttpError(400, code, message, {}, field)
}

/** A body field that must be a boolean: any other type is the body's shape (400 INVALID_BODY). */
export function bodyBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidField(name, 'INVALID_BODY', `${name} must be true or false, got ${shown(value)}.`)
  return value
}

const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...COMMON_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers },
  })
}

export function html(body: string, headers: Record<string, string>, status = 200): Response {
  return new Response(body, { status, headers: { ...COMMON_HEADERS, 'content-type': 'text/html; charset=utf-8', ...headers } })
}

/** Escapes text for an HTML attribute value or text node. */
/**
 * Whether an `X-Forwarded-Proto` header (its first hop, as a TLS-terminating proxy in front sets
 * it) says the client came over https: the Node adapter's request URL and the session cookie's
 * `Secure` go by it.
 */
export function forwardedHttps(header: string | string[] | null | undefined): boolean {
  return String(header ?? '').split(',')[0]?.trim() === 'https'
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The answer to a HEAD: `answer`'s status and headers, and its body's length, without the body. */
export async function headOf(answer: Response): Promise<Response> {
  const headers = new Headers(answer.headers)
  headers.set('content-length', String((await answer.arrayBuffer()).byteLength))
  return new Response(null, { status: answer.status, headers })
}

/** `value` as a UUID; `field` names the body field or query parameter it came from (not a path's id). */
export function requireUuid(name: string, value: unknown, field?: string): string {
  try {
    assertUuid(name, value)
    return value
  } catch {
    throw new AdminHttpError(400, 'INVALID_ID', `${name} must be a UUID such as 3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9, got ${shown(value)}.`, {}, field)
  }
}

/**
 * Refuses a query parameter the route does not read, or one given twice: either way the caller
 * meant something the route would not have done.
 */
export function assertQuery(url: URL, accepted: readonly string[] | 'any', route: string): void {
  if (accepted === 'any') return
  const names = accepted.map((n) => `?${n}=`)
  const takes = names.length > 0 ? `it takes ${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0]}` : 'it takes none'
  for (const name of new Set(url.searchParams.keys())) {
    if (!accepted.includes(name)) throw invalidField(name, 'INVALID_INPUT', `Unknown query parameter ${shown(name)} for ${route}: ${takes}.`)
    if (url.searchParams.getAll(name).length > 1) throw invalidField(name, 'INVALID_INPUT', `?${name}= is given more than once; give it once.`)
  }
}

/** `?<name>=` as a UUID, or undefined when the parameter is absent. */
export function optionalUuidParam(url: URL, name: string): string | undefined {
  const raw = url.searchParams.get(name)
  return raw === null ? undefined : requireUuid(name, raw, name)
}

/** `?<name>=`, an integer in 1..max; `fallback` when the parameter is absent. */
export function parseCountParam(url: URL, name: string, fallback: number, max: number, min = 1): number {
  const raw = url.searchParams.get(name)
  if (raw === null) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw invalidField(name, 'INVALID_INPUT', `${name} must be an integer from ${min} to ${max}, got ${shown(raw)}.`)
  }
  return value
}

/** `?limit=`, an integer in 1..max. */
export function parseLimit(url: URL, fallback: number, max = 200): number {
  return parseCountParam(url, 'limit', fallback, max)
}

/** A true-or-false query parameter (`?name=true`, `1`, `false` or `0`), `fallback` when absent. */
export function parseBooleanParam(url: URL, name: string, fallback: boolean): boolean {
  const raw = url.searchParams.get(name)
  if (raw === null) return fallback
  if (raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw invalidField(name, 'INVALID_INPUT', `?${name}= must be true or false (or 1 or 0), got ${shown(raw)}.`)
}

function tooLarge(): AdminHttpError {
  return new AdminHttpError(413, 'PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES} bytes.`)
}

async function readLimited(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return Buffer.concat(chunks)
    size += value.byteLength
    if (size > MAX_BODY_BYTES) {
      await reader.cancel()
      throw tooLarge()
    }
    chunks.push(value)
  }
}

/** The body's bytes, at most MAX_BODY_BYTES of them, or undefined when there are none. */
export async function readBody(request: Request): Promise<Buffer | undefined> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge()
  if (!request.body) return undefined
  const bytes = await readLimited(request.body)
  return bytes.length === 0 ? undefined : bytes
}

/**
 * The body as a JSON object whose keys are all in `allowed`, or undefined when there is none. A
 * misspelt key is refused rather than ignored: `{"wiat": false}` would otherwise block the caller.
 */
export async function readJsonObject(request: Request, allowed: readonly string[]): Promise<Record<string, unknown> | undefined> {
  const bytes = await readBody(request)
  if (!bytes) return undefined
  const type = request.headers.get('content-type') ?? ''
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new AdminHttpError(400, 'INVALID_BODY', `Send the body as JSON, with Content-Type: application/json (got ${shown(type || 'none')}).`)
  }
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new AdminHttpError(400, 'INVALID_BODY', 'The body is not valid JSON.')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const example = allowed.length > 0 ? `, such as {${JSON.stringify(allowed[0])}: …}` : ' ({}), or no body'
    throw new AdminHttpError(400, 'INVALID_BODY', `The body must be a JSON object${example}; this route takes ${allowed.length > 0 ? allowed.map((k) => JSON.stringify(k)).join(', ') : 'no body fields'}.`)
  }
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key))
  if (unknown.length > 0) {
    const known = allowed.length > 0 ? `; this route takes ${allowed.map((k) => JSON.stringify(k)).join(', ')}` : '; this route takes no body fields'
    const near = closest(unknown[0]!, allowed)
    const hint = near === undefined ? '' : ` (did you mean ${JSON.stringify(near)}?)`
    throw invalidField(unknown[0]!, 'INVALID_BODY', `Unknown body field ${unknown.map((k) => JSON.stringify(k)).join(', ')}${hint}${known}.`)
  }
  return value as Record<string, unknown>
}
