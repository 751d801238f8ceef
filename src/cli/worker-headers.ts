/**
 * Headers for the worker calls a command makes (`worker`, `run-now`, `retry-failed`,
 * `backfill`): a worker behind auth needs them, and a URL with credentials is refused. They come
 * from SUBSCRIPTION_WORKER_HEADERS only, never a flag, so that a token stays out of the process
 * list and the shell's history. The format is OpenTelemetry's for OTEL_EXPORTER_OTLP_HEADERS:
 * `Name=value` pairs separated by commas, values percent-encoded (`Authorization=Bearer%20abc`).
 * An error names the pair by its place and its name, never its value: a value is a secret.
 */
import { createHttpWorkerClient, HEADER_NAME } from '../worker-client/http-client.js'
import type { WorkerClient } from '../worker-client/types.js'
import { UsageError } from './usage-error.js'

export const WORKER_HEADERS_VARIABLE = 'SUBSCRIPTION_WORKER_HEADERS'


const FORMAT =
  `Set ${WORKER_HEADERS_VARIABLE} to Name=value pairs separated by commas, values percent-encoded ` +
  '(a space is %20, a comma %2C), such as Authorization=Bearer%20<token>,X-Team=billing.'

/** The headers SUBSCRIPTION_WORKER_HEADERS gives; undefined when it is unset or blank. */
export function parseWorkerHeaders(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined || text.trim() === '') return undefined
  const headers: Record<string, string> = {}
  const pairs = text.split(',')
  for (const [index, pair] of pairs.entries()) {
    const place = `${WORKER_HEADERS_VARIABLE}: pair ${index + 1} of ${pairs.length}`
    if (pair.trim() === '') throw new UsageError(`${place} is empty (two commas in a row, or one at an end). ${FORMAT}`)
    const equals = pair.indexOf('=')
    if (equals < 0) throw new UsageError(`${place} has no '=' between a name and its value. ${FORMAT}`)
    const name = pair.slice(0, equals).trim()
    if (!HEADER_NAME.test(name)) throw new UsageError(`${place}: ${JSON.stringify(name)} is not a header name. ${FORMAT}`)
    let value: string
    try {
      value = decodeURIComponent(pair.slice(equals + 1).trim())
    } catch {
      throw new UsageError(`${place} (${name}): its value has a '%' that starts no percent-encoding. ${FORMAT}`)
    }
    if (/[\r\n\0]/.test(value)) throw new UsageError(`${place} (${name}): its value holds a line break or NUL, which no header may carry.`)
    const seen = Object.keys(headers).find((other) => other.toLowerCase() === name.toLowerCase())
    if (seen !== undefined) throw new UsageError(`${place}: ${name} is given twice. Give each header once.`)
    headers[name] = value
  }
  return headers
}

/** The HTTP client's advice in the CLI's terms: a command takes a worker's headers from SUBSCRIPTION_WORKER_HEADERS, not a `headers` option. */
export function inCliTerms(reason: string): string {
  return reason.replace(/pass them in `headers`, e\.g\. \{ Authorization: 'Basic …' \}\./, `export them in ${WORKER_HEADERS_VARIABLE} instead, e.g. Authorization=Basic%20<base64 of user:password>.`)
}

/**
 * The HTTP worker client with SUBSCRIPTION_WORKER_HEADERS's headers; undefined when the variable
 * is unset or there is no URL (the scheduler then builds its own client from the URL, or has none).
 * `from`: where the URL came from (`--worker-url` or SUBSCRIPTION_WORKER_URL), for its error.
 */
export function workerClientWithHeaders(url: string | undefined, env: NodeJS.ProcessEnv, from = '--worker-url or SUBSCRIPTION_WORKER_URL'): WorkerClient | undefined {
  const headers = parseWorkerHeaders(env[WORKER_HEADERS_VARIABLE])
  if (headers === undefined || !url) return undefined
  try {
    return createHttpWorkerClient({ baseUrl: url, headers })
  } catch (error) {
    // No cause: it says the same again, of the client's option, which the user never typed. A
    // header the client refuses came from the variable, not from the URL.
    const headerRefused = (error as { option?: unknown }).option === 'headers'
    const reason = (error as Error).message.replace(/^Invalid option `(baseUrl|headers)`: /, '')
    throw new UsageError(`${headerRefused ? WORKER_HEADERS_VARIABLE : from}: ${inCliTerms(reason)}`)
  }
}
