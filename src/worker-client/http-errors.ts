/**
 * What the HTTP worker client makes of an answer that is no success, or of a call that failed:
 * a `RetryableError` or a `PermanentError` whose message says what happened and what to do, with
 * the URL shown without its secrets, and `Retry-After` read as the worker meant it.
 */
import { STATUS_CODES } from 'node:http'
import { PermanentError, RetryableError } from '../errors.js'

/** An answer's body as far as it was read (at most `maxStoredResponseBytes`). */
export interface CappedBody { text: string, truncated: boolean }

const RETRYABLE_4XX = new Set([408, 409, 425, 429])
const MONTHS = /(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i

/** Statuses that send a client elsewhere with a Location, which the client does not follow. */
const REDIRECTS = new Set([301, 302, 303, 307, 308])

export function statusError(response: Response, body: CappedBody, what: string, url: string): Error {
  const { status } = response
  const reason = response.statusText || STATUS_CODES[status] || ''
  const location = response.headers.get('location')
  const detail = body.text.trim() === '' ? ' (empty body)' : `: ${body.text}${body.truncated ? '… [truncated]' : ''}`
  const hint = REDIRECTS.has(status) && location !== null && location.trim() === ''
    ? ' (a redirect with an empty Location: the worker must answer 2xx to a POST /process)'
    : REDIRECTS.has(status) && location !== null
    ? ` (redirect to ${shownLocation(location, url)}: point baseUrl at the final URL)`
    : status >= 300 && status < 400 ? ' (not a success: the worker must answer 2xx to a POST /process)'
    : status === 409 ? IN_PROGRESS : ''
  const message = `Worker answered ${status}${reason ? ` ${reason}` : ''} ${what}${hint}${detail}`
  if (isRetryableStatus(status)) {
    const retryAfter = response.headers.get('retry-after')
    const retryAfterMs = parseRetryAfter(retryAfter, response.headers.get('date'))
    // Else a worker's header thrown away (`2.5`, an ISO date) would leave no trace anywhere.
    const ignored = retryAfterMs === undefined && retryAfter !== null && retryAfter.trim() !== ''
      ? ` (its Retry-After ${JSON.stringify(retryAfter.slice(0, 40))} is neither whole seconds nor an HTTP-date: ignored)`
      : ''
    return new RetryableError(`${message}${ignored}`, { status, retryAfterMs })
  }
  return new PermanentError(`${message}${PERMANENT}`, { status })
}

/**
 * A 409 to a call carrying an Idempotency-Key says a call under the same key is still being
 * processed (the IETF Idempotency-Key draft; Stripe's API): the first call of a slot that timed
 * out, say. It is retried, with the same key, so the answer the worker then has is the slot's.
 */
const IN_PROGRESS = ' (a call under this Idempotency-Key still in progress: retried with the same key)'

/**
 * What a permanent answer's message ends with: no retry in its run, and what does try it again.
 * It said "not retried", and a trial's team read that the sweeps would leave the slot alone.
 */
const PERMANENT = ' (permanent: no retry in this run; later sweeps try it again after a delay, retryFailed() at once)'

/**
 * The error of an answer whose body could not be read (the connection reset, a gzip body that is
 * not), with its status, which failures and events report: a 2xx is retried, as a network error
 * is (its answer was not read whole), and said to be one, since a worker that answered it may have
 * done the work already. Its retry carries the same Idempotency-Key. A trial's failures table read
 * a cut 200 as no answer at all (its status was left out).
 */
export function bodyLost(status: number, what: string, error: unknown): RetryableError | PermanentError {
  const message = `Worker answered ${status} ${what}, but reading its body failed (${describeCause(error)})`
  if (status < 300) {
    return new RetryableError(`${message}; the worker may have done the work: a retry carries the same Idempotency-Key, for it to answer without doing it twice.`, { cause: error, status })
  }
  // The status line said no: the answer is the status's, as when its body is read (a 404 is
  // permanent however its body ended). Its status is the failure's.
  if (isRetryableStatus(status)) return new RetryableError(`${message}; a retry carries the same Idempotency-Key.`, { cause: error, status })
  return new PermanentError(`${message}${PERMANENT}`, { cause: error, status })
}

/** Statuses a retry may cure: 408, 409 (its key still in progress), 425, 429 and 5xx. */
function isRetryableStatus(status: number): boolean {
  return (status >= 500 && status <= 599) || RETRYABLE_4XX.has(status)
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
export function describeCause(error: unknown): string {
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
export function schemeHint(error: unknown, url: string): string {
  if (!url.startsWith('https:') || !/WRONG_VERSION_NUMBER|wrong version number|packet length too long/i.test(describeCause(error))) return ''
  return ' (the worker does not speak TLS there: if it serves plain HTTP, use an http:// URL)'
}
