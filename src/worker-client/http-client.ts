import { STATUS_CODES } from 'node:http'
import ky, { isNetworkError } from 'ky'
import { methodOptions } from '../config/method-options.js'
import { ConfigurationError, PermanentError, RetryableError, isSchedulerError, shown } from '../errors.js'
import type { ProcessRequest, ProcessResult, WorkerClient } from './types.js'

export interface HttpWorkerClientOptions {
  /** Absolute http(s) URL of the worker, e.g. `'http://worker.internal:8080'`. Calls go to `POST {baseUrl}/process`. */
  baseUrl: string
  /**
   * Budget for one call, from sending the request to reading the last byte of the answer.
   * @default 30_000
   */
  timeoutMs?: number | undefined
  /**
   * Sent with every call, e.g. `{ Authorization: 'Bearer …' }`. Cannot override
   * `Content-Type` or `Idempotency-Key`, which are part of the worker contract.
   * @default {}
   */
  headers?: Record<string, string> | undefined
  /**
   * The transport, for instrumentation or a custom agent.
   * @default globalThis.fetch
   */
  fetch?: typeof globalThis.fetch | undefined
  /**
   * At most this many bytes of a worker's answer are read and kept, in results and error messages.
   * @default 4096
   */
  maxStoredResponseBytes?: number | undefined
}

const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_MAX_STORED_BYTES = 4096
// setTimeout silently fires after 1 ms beyond this, which would make every call "time out".
const MAX_TIMEOUT_MS = 2_147_483_647
// Client errors that are about timing or load, not about the request: retrying can help.
const RETRYABLE_4XX = new Set([408, 425, 429])
const MONTHS = /(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i

/**
 * A {@link WorkerClient} that POSTs each {@link ProcessRequest} as JSON to `{baseUrl}/process`.
 *
 * Outcomes: 2xx resolves with the parsed JSON (or `null` for an empty body, or `{ text }`),
 * 408/425/429/5xx, timeouts and network errors reject with a `RetryableError`, any other
 * status rejects with a `PermanentError`, and an abort via `context.signal` rejects with an
 * error named `AbortError`. The client never retries by itself: the scheduler owns retries.
 */
export function createHttpWorkerClient(given: HttpWorkerClientOptions): WorkerClient {
  // A typo (`timout`) would otherwise leave the default in force without a word.
  const options = methodOptions('createHttpWorkerClient', given, ['baseUrl', 'timeoutMs', 'headers', 'fetch', 'maxStoredResponseBytes']) as HttpWorkerClientOptions
  const url = processUrl(options.baseUrl)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new ConfigurationError('timeoutMs', `expected a positive number of milliseconds up to ${MAX_TIMEOUT_MS}, got ${shown(timeoutMs)}. Omit it for the default of ${DEFAULT_TIMEOUT_MS}.`)
  }
  const maxBytes = options.maxStoredResponseBytes ?? DEFAULT_MAX_STORED_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new ConfigurationError('maxStoredResponseBytes', `expected a positive whole number of bytes, got ${shown(maxBytes)}. Omit it for the default of ${DEFAULT_MAX_STORED_BYTES}.`)
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new ConfigurationError('fetch', 'expected a fetch-compatible function. Omit it to use globalThis.fetch.')
  }
  let userHeaders: Headers
  try {
    // Built now so that a malformed header fails at startup, not on every call.
    userHeaders = new Headers(options.headers)
  } catch (error) {
    throw new ConfigurationError('headers', `expected an object of valid header names and values: ${(error as Error).message}`, { cause: error })
  }
  // Messages are logged and stored: a token in the query string is named, not shown.
  const target = `POST ${shownUrl(url)}`
  const http = ky.create({
    retry: 0, // the scheduler owns retries, backoff and Retry-After
    timeout: false, // our own deadline also covers reading the body, which ky's does not
    throwHttpErrors: false, // statuses are classified below, and ky would buffer up to 10 MiB of error body
    redirect: 'manual', // a POST must not silently turn into a GET elsewhere: a redirect means baseUrl is wrong
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })

  return {
    async process(request, context) {
      const what = `for subscription ${request.subscriptionId} at ${target}`
      const call = new AbortController()
      const timeoutReason = new Error('timeout')
      const onAbort = (): void => call.abort(context.signal.reason)
      if (context.signal.aborted) onAbort()
      else context.signal.addEventListener('abort', onAbort, { once: true })
      const timer = setTimeout(() => call.abort(timeoutReason), timeoutMs)
      try {
        call.signal.throwIfAborted()
        const headers = new Headers(userHeaders)
        headers.set('Content-Type', 'application/json')
        headers.set('Idempotency-Key', request.idempotencyKey)
        if (!headers.has('Accept')) headers.set('Accept', 'application/json, text/plain;q=0.9, */*;q=0.1')
        const response = await http.post(url, { json: request, headers, signal: call.signal })
        const body = await readCapped(response, maxBytes).catch((error: unknown) => {
          if (call.signal.aborted) throw error
          throw bodyLost(response.status, what, error)
        })
        if (response.ok) return successResult(body)
        throw statusError(response, body, what, url)
      } catch (error) {
        if (isSchedulerError(error)) throw error
        if (call.signal.aborted && call.signal.reason === timeoutReason) {
          throw new RetryableError(`Worker timed out after ${timeoutMs} ms ${what}. If the worker is just slow, raise the scheduler's workerTimeoutMs option (timeoutMs of createHttpWorkerClient()).`, { cause: error })
        }
        if (call.signal.aborted) {
          // Not a verdict on the subscription: the scheduler is stopping or the job expired.
          const aborted = new Error(`Call to the worker ${what} was aborted`, { cause: context.signal.reason })
          aborted.name = 'AbortError'
          throw aborted
        }
        const cause = describeCause(error) + schemeHint(error, url)
        // Undici reports refused, reset and DNS failures as TypeErrors; ky wraps those it recognises.
        throw new RetryableError(isNetworkError(error) || error instanceof TypeError
          ? `Network error calling the worker ${what}: ${cause}`
          : `Call to the worker ${what} failed: ${cause}`, { cause: error })
      } finally {
        clearTimeout(timer)
        context.signal.removeEventListener('abort', onAbort)
      }
    },
  }
}

/** `{baseUrl}/process`, with or without a trailing slash on baseUrl; throws a ConfigurationError for anything but absolute http(s). */
function processUrl(baseUrl: unknown): string {
  const fix = 'Pass the absolute http(s) URL of the worker, e.g. \'http://worker.internal:8080\'.'
  let parsed: URL
  try {
    parsed = new URL(String(baseUrl))
  } catch {
    throw new ConfigurationError('baseUrl', `${JSON.stringify(baseUrl)} is not an absolute URL. ${fix}`)
  }
  if (typeof baseUrl !== 'string' || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new ConfigurationError('baseUrl', `${JSON.stringify(baseUrl)} is not an http(s) URL. ${fix}`)
  }
  if (parsed.username || parsed.password) {
    // fetch refuses such URLs, and they would leak the secret into every error message.
    throw new ConfigurationError('baseUrl', `${parsed.protocol}//${parsed.host} carries credentials in the URL. Remove them and pass them in \`headers\`, e.g. { Authorization: 'Basic …' }.`)
  }
  const path = parsed.pathname.replace(/\/+$/, '')
  if (/\/process$/.test(path)) {
    // The client appends /process itself: this URL would send every call to …/process/process.
    const base = new URL(parsed.href)
    base.pathname = path.slice(0, -'/process'.length) || '/'
    base.hash = ''
    throw new ConfigurationError('baseUrl', `${JSON.stringify(baseUrl)} ends in /process, and calls go to {baseUrl}/process: they would reach ${path}/process. Pass the worker's base URL, ${JSON.stringify(base.href.replace(/\/$/, ''))}.`)
  }
  parsed.pathname = `${path}/process`
  parsed.hash = ''
  return parsed.href
}

interface CappedBody { text: string, truncated: boolean }

/** Reads at most `maxBytes` of the body and drops the rest, so a huge answer costs no memory. */
async function readCapped(response: Response, maxBytes: number): Promise<CappedBody> {
  if (!response.body) return { text: '', truncated: false }
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  let truncated = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.byteLength
    if (size > maxBytes) {
      truncated = true
      // Not awaited: cancelling tears the connection down and we have nothing more to learn from it.
      reader.cancel().catch(() => {})
      break
    }
  }
  const bytes = Buffer.concat(chunks).subarray(0, maxBytes)
  // `stream: true` holds back a multi-byte character cut in half by the cap instead of emitting U+FFFD.
  return { text: new TextDecoder().decode(bytes, { stream: truncated }), truncated }
}

function successResult({ text, truncated }: CappedBody): ProcessResult {
  // Workers answer all sorts of things on success; none of them is worth failing the slot over.
  if (truncated) return { truncated: true, text }
  if (text.trim() === '') return null
  try {
    return JSON.parse(text) as unknown
  } catch {
    return { text }
  }
}

/** Statuses that send a client elsewhere with a Location, which the client does not follow. */
const REDIRECTS = new Set([301, 302, 303, 307, 308])

function statusError(response: Response, body: CappedBody, what: string, url: string): Error {
  const { status } = response
  const reason = response.statusText || STATUS_CODES[status] || ''
  const location = response.headers.get('location')
  const detail = body.text.trim() === '' ? ' (empty body)' : `: ${body.text}${body.truncated ? '… [truncated]' : ''}`
  const hint = REDIRECTS.has(status) && location !== null && location.trim() === ''
    ? ' (a redirect with an empty Location: the worker must answer 2xx to a POST /process)'
    : REDIRECTS.has(status) && location !== null
    ? ` (redirect to ${shownLocation(location, url)}: point baseUrl at the final URL)`
    : status >= 300 && status < 400 ? ' (not a success: the worker must answer 2xx to a POST /process)' : ''
  const message = `Worker answered ${status}${reason ? ` ${reason}` : ''} ${what}${hint}${detail}`
  if (status >= 500 || RETRYABLE_4XX.has(status)) {
    return new RetryableError(message, { status, retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), response.headers.get('date')) })
  }
  return new PermanentError(`${message}${PERMANENT}`, { status })
}

/** What a permanent answer's message ends with: that no retry follows, and what does. */
const PERMANENT = ' (permanent: not retried; retryFailed() calls it again once fixed)'

/**
 * The error of an answer whose body could not be read (the connection reset, say): retried, as
 * a network error is, but said to have had its status, since a worker that answered 2xx may have
 * done the work already. Its retry carries the same Idempotency-Key.
 */
function bodyLost(status: number, what: string, error: unknown): RetryableError {
  return new RetryableError(
    `Worker answered ${status} ${what}, but the connection failed while its body was read (${describeCause(error)}); ` +
      'the worker may have done the work: the retry carries the same Idempotency-Key, for it to answer without doing it twice.',
    { cause: error },
  )
}

/**
 * A URL as messages show it: without credentials or fragment, and with each query parameter's
 * value left out (`?token=…`), since messages are logged, stored with the failure and sent with events.
 */
export function shownUrl(href: string): string {
  const url = new URL(href)
  const query = [...url.searchParams.keys()].map((name) => `${encodeURIComponent(name)}=…`).join('&')
  // No credentials, no fragment (it can carry a token too), and the query's names only.
  return `${url.protocol}//${url.host}${url.pathname}${query ? `?${query}` : ''}`
}

/** A redirect's `Location` (relative to the URL called), as messages show it. */
function shownLocation(location: string, base: string): string {
  try {
    return shownUrl(new URL(location, base).href)
  } catch {
    return 'a Location that is not a URL'
  }
}

/**
 * `Retry-After` as milliseconds from now: delta-seconds or an HTTP-date; `undefined` for anything
 * else. An HTTP-date is the worker's clock: it is read against the response's own `Date` (same
 * clock), so a worker whose clock is off from this host's is still waited for as long as it asked.
 */
function parseRetryAfter(value: string | null, dateHeader: string | null): number | undefined {
  const trimmed = value?.trim()
  if (!trimmed) return undefined
  if (/^\d+$/.test(trimmed)) {
    // Longer than any cap (retry.maxDelaySeconds): the longest wait there is, not none at all.
    const ms = Number(trimmed) * 1000
    return Number.isSafeInteger(ms) ? ms : Number.MAX_SAFE_INTEGER
  }
  const at = httpDateMs(trimmed)
  if (!Number.isFinite(at)) return undefined
  const sent = httpDateMs(dateHeader)
  return Math.max(0, at - (Number.isFinite(sent) ? sent : Date.now()))
}

/** An HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`) in ms since the epoch; NaN for anything else. */
function httpDateMs(text: string | null): number {
  // Date.parse accepts nearly anything ("1.5" is a date in V8), so insist on a month name first.
  return text !== null && MONTHS.test(text) ? Date.parse(text) : Number.NaN
}

/** The innermost cause's message (`connect ECONNREFUSED 127.0.0.1:8080`), which says far more than `fetch failed`. */
function describeCause(error: unknown): string {
  let current = error
  let message = String(error)
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code
    message = typeof code === 'string' && !current.message.includes(code) ? `${code}: ${current.message}` : current.message
    current = current.cause
  }
  return message.trim()
}

/** The likely fix when TLS met a server that does not speak it (an https URL for a plain http worker). */
function schemeHint(error: unknown, url: string): string {
  if (!url.startsWith('https:') || !/WRONG_VERSION_NUMBER|wrong version number|packet length too long/i.test(describeCause(error))) return ''
  return ' (the worker does not speak TLS there: if it serves plain HTTP, use an http:// URL)'
}
