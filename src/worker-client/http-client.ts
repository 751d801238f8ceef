/**
 * The default worker client: each subscription POSTed as JSON to `{baseUrl}/process` with `ky`,
 * under a deadline that covers the whole answer; what an answer that is no success means is
 * http-errors.ts's.
 */
import ky, { isNetworkError } from 'ky'
import { methodOptions } from '../config/method-options.js'
import { ConfigurationError, RetryableError } from '../errors.js'
import { startDeadline } from '../deadline.js'
import { shown } from '../error-text.js'
import { isSchedulerError } from '../error-guards.js'
import { bodyLost, describeCause, schemeHint, shownUrl, statusError } from './http-errors.js'
import type { CappedBody } from './http-errors.js'
import type { ProcessRequest, ProcessResult, WorkerClient } from './types.js'
import pkg from '../../package.json' with { type: 'json' }

/** Who calls, for the worker's logs and gateways (`headers` may give another). Fetch says only `node`. */
const USER_AGENT = `${pkg.name}/${pkg.version}`

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
   * `Content-Type` or `Idempotency-Key`, which are part of the worker contract; those the
   * transport sets per call (`Content-Length`, `Host`, …) are refused.
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

/**
 * A {@link WorkerClient} that POSTs each {@link ProcessRequest} as JSON to `{baseUrl}/process`.
 *
 * Outcomes: 2xx resolves with the parsed JSON (or `null` for an empty body, or `{ text }`),
 * 408/409/425/429/5xx, timeouts and network errors reject with a `RetryableError`, any other
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
  // Built now so that a malformed header fails at startup, not on every call.
  const userHeaders = checkedHeaders(options.headers)
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
      // A stall of this process at the deadline is not the worker's: its answer is read first.
      const deadline = startDeadline(timeoutMs, () => call.abort(timeoutReason))
      // The status, once the worker has answered: a deadline met while its body trickles in comes after it.
      let answered: number | undefined
      try {
        call.signal.throwIfAborted()
        const headers = new Headers(userHeaders)
        headers.set('Content-Type', 'application/json')
        headers.set('Idempotency-Key', request.idempotencyKey)
        if (!headers.has('Accept')) headers.set('Accept', 'application/json, text/plain;q=0.9, */*;q=0.1')
        if (!headers.has('User-Agent')) headers.set('User-Agent', USER_AGENT)
        const response = await http.post(url, { json: request, headers, signal: call.signal })
        answered = response.status
        const body = await readCapped(response, maxBytes).catch((error: unknown) => {
          if (call.signal.aborted) throw error
          throw bodyLost(response.status, what, error)
        })
        if (response.ok) return successResult(body)
        throw statusError(response, body, what, url)
      } catch (error) {
        if (isSchedulerError(error)) throw error
        if (call.signal.aborted && call.signal.reason === timeoutReason) {
          if (answered !== undefined) throw bodyLost(answered, what, new Error(`its body did not end within the ${timeoutMs} ms timeoutMs`))
          // The client's own timeoutMs: a custom client's may be shorter than workerTimeoutMs (a trial raised the wrong one).
          throw new RetryableError(`Worker timed out after ${timeoutMs} ms ${what} (the client's timeoutMs: createHttpWorkerClient({ timeoutMs }), which the scheduler sets to its workerTimeoutMs option for a workerUrl). If the worker is just slow, raise it.`, { cause: error })
        }
        if (call.signal.aborted) {
          // Not a verdict on the subscription: the scheduler is stopping or the job expired.
          const aborted = new Error(`Call to the worker ${what} was aborted`, { cause: context.signal.reason })
          aborted.name = 'AbortError'
          throw aborted
        }
        const cause = (describeCause(error) || NO_CAUSE) + schemeHint(error, url)
        // Undici reports refused, reset and DNS failures as TypeErrors; ky wraps those it recognises.
        throw new RetryableError(isNetworkError(error) || error instanceof TypeError
          ? `Network error calling the worker ${what}: ${cause}`
          : `Call to the worker ${what} failed: ${cause}`, { cause: error })
      } finally {
        deadline.clear()
        context.signal.removeEventListener('abort', onAbort)
      }
    },
  }
}

/**
 * Node's fetch (undici) fails a call answered 407 Proxy Authentication Required as a network error
 * with no cause at all, as the Fetch standard has it: the status never reaches the client, and a
 * trial's log read "Network error calling the worker …: " and nothing more.
 */
const NO_CAUSE = "fetch gave no cause (Node's fetch fails a call answered 407 Proxy Authentication Required so, without passing on the answer: check the worker's auth and the client's headers)"

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

/** An HTTP header name (RFC 9110's token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Headers the transport sets for each call from the body and the connection: given here, they
 * make every call fail (undici refuses a `Content-Length` that is not the body's, any
 * `Transfer-Encoding` or `Expect`) or are dropped without a word (`Host`).
 */
const SET_PER_CALL = new Set(['content-length', 'transfer-encoding', 'expect', 'host', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-connection'])

/**
 * The `headers` option as Headers, each checked alone so that an error names the header, and
 * never its value: a value is often a secret, and errors are logged.
 */
function checkedHeaders(given: unknown): Headers {
  const headers = new Headers()
  if (given === undefined) return headers
  // Not shown: a value is often a secret. A Map has no own keys, and each header in it was dropped.
  if (typeof given !== 'object' || given === null || Array.isArray(given) || given instanceof Map) {
    const got = Array.isArray(given) ? 'an array' : given instanceof Map ? 'a Map' : given === null ? 'null' : `a ${typeof given}`
    throw new ConfigurationError('headers', `expected an object of header names and values, such as { Authorization: 'Bearer …' }, got ${got} (Object.fromEntries() makes one of pairs).`)
  }
  const entries = given instanceof Headers ? [...given.entries()] : Object.entries(given)
  for (const [name, value] of entries) {
    const place = `headers[${JSON.stringify(name)}]`
    if (SET_PER_CALL.has(name.toLowerCase())) {
      throw new ConfigurationError('headers', `${place} is set by the HTTP client for each call, from the body it sends and its connection: leave it out.`)
    }
    if (typeof value !== 'string') {
      throw new ConfigurationError('headers', `${place}: expected a string value, got ${value === undefined || value === null ? `${String(value)} (an environment variable that is not set?)` : `a ${typeof value}: String(it) sends it as text`}.`)
    }
    try {
      headers.append(name, value)
    } catch {
      throw new ConfigurationError('headers', HEADER_NAME.test(name)
        ? `${place}: its value is not a valid header value (a line break, a NUL or a character beyond Latin-1); the value is not shown, as it may be a secret.`
        : `${JSON.stringify(name)} is not a header name: letters, digits and !#$%&'*+-.^_\`|~ only.`)
    }
  }
  return headers
}

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
