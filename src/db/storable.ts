/**
 * What the worker says ends up in Postgres: its answer in a jsonb column, its errors in a text
 * column. Postgres refuses NUL characters and broken UTF-16 in both, so everything stored is
 * cleaned first, and bounded in bytes without cutting a character in half.
 */
import { inspect } from 'node:util'

/** Replaces what Postgres cannot store: NUL, and lone surrogates (half an emoji). */
export function storableText(text: string): string {
  return text.toWellFormed().replaceAll('\u0000', '\uFFFD')
}

interface Truncated {
  truncated: true
  text: string
}

function isTruncated(value: unknown): value is Truncated {
  return typeof value === 'object' && value !== null && (value as Truncated).truncated === true && typeof (value as Truncated).text === 'string'
}

/** `{ truncated: true, text }` whose JSON form fits in `maxBytes`. */
function truncatedWithin(text: string, maxBytes: number): Truncated {
  let low = 0
  let high = text.length
  // Escaping can make JSON longer than the text (quotes, control characters): search the prefix.
  while (low < high) {
    const mid = Math.ceil((low + high) / 2)
    const candidate = { truncated: true as const, text: storableText(text.slice(0, mid)) }
    if (Buffer.byteLength(JSON.stringify(candidate)) <= maxBytes) low = mid
    else high = mid - 1
  }
  return { truncated: true, text: storableText(text.slice(0, low)) }
}

/** `{ text }`, as an answer that is not JSON is stored; `{ truncated: true, text }` when it had to be cut. */
function textWithin(text: string, maxBytes: number): { text: string } | Truncated {
  const whole = { text: storableText(text) }
  return Buffer.byteLength(JSON.stringify(whole)) <= maxBytes ? whole : truncatedWithin(text, maxBytes)
}

/**
 * A worker's answer as it can be stored: unchanged when its JSON fits in `maxBytes`, else
 * `{ truncated: true, text }` holding the start of it. Never larger than `maxBytes` as JSON.
 */
/** Escapes Postgres refuses in jsonb: NUL, and surrogates (a lone one is JSON-escaped as \udXXX). */
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/i

export function boundResponse(response: unknown, maxBytes: number): unknown {
  if (response === undefined || response === null) return null
  // The common answer, small and clean, is stored as it is: one stringify, no copy.
  let plain: string | undefined
  try {
    plain = JSON.stringify(response)
  } catch {
    plain = undefined
  }
  if (plain !== undefined && plain.length <= maxBytes / 3 && !UNSTORABLE_ESCAPE.test(plain)) return response
  let json: string | undefined
  try {
    json = JSON.stringify(response, (_key, value: unknown) => (typeof value === 'string' ? storableText(value) : value))
  } catch {
    // A cycle or a BigInt: kept as Node prints it, which shows what JSON cannot.
    return textWithin(typeof response === 'object' ? inspect(response, { depth: 4, breakLength: Infinity }) : String(response), maxBytes)
  }
  // A function or a symbol, which JSON leaves out.
  if (json === undefined) return textWithin(inspect(response), maxBytes)
  json = json.replaceAll('\\u0000', '\\ufffd')
  if (Buffer.byteLength(json) <= maxBytes) return JSON.parse(json) as unknown
  // The HTTP client already cut a large answer: shorten its text rather than wrap it again.
  return truncatedWithin(isTruncated(response) ? response.text : json, maxBytes)
}
