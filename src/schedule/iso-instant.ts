/**
 * Instants as the admin API and the CLI take them: ISO 8601 text with a date, a time and an
 * explicit zone offset. `Date.parse` alone would do for neither: it reads a string without an
 * offset in the server's own zone (so the same request would mean different instants on
 * different machines), and it rolls an impossible date over (`2026-02-30` becomes 2 March)
 * instead of refusing it.
 */

import { daysInMonth } from './local-time.js'

/**
 * An instant as the library writes one into a history line (`toISOString()`, or without its
 * milliseconds), to find inside the line's text: the CLI and the dashboard both write those in
 * the subscription's zone. A RegExp source, unanchored and without groups.
 */
export const HISTORY_INSTANT_SOURCE = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?Z`

/** What an error message shows as a valid instant. */
export const ISO_INSTANT_EXAMPLE = '2026-03-10T09:00:00Z (or with an offset: 2026-03-10T10:00:00+01:00)'

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/i

/**
 * What is wrong with `text` when it has the shape of an ISO instant but names no instant: its day,
 * time or offset does not exist (`2026-02-30`, `24:00`, `+25:00`). Null otherwise: it is fine, or
 * not of that shape at all (the caller's message says what the shape is).
 */
export function isoInstantFlaw(text: unknown): string | null {
  const match = typeof text === 'string' ? ISO_INSTANT.exec(text.trim()) : null
  if (!match) return null
  const [, year, month, day, hour, minute, second = '00', , offsetHours = '0', offsetMinutes = '0'] = match
  const [y, mo, d] = [year, month, day].map(Number) as [number, number, number]
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return `${year}-${month}-${day} is not a day of the calendar`
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return `${hour}:${minute}:${second} is not a time of day`
  if (Number(offsetHours) > 23 || Number(offsetMinutes) > 59) return `${match[7]} is not a zone offset`
  return null
}

/** `; got "<text>"`, and what is wrong with it if it has an instant's shape: the end of a refusal. */
export function gotInstant(text: string): string {
  const flaw = isoInstantFlaw(text)
  return `; got ${JSON.stringify(text)}${flaw ? `: ${flaw}` : ''}.`
}

/**
 * The instant `text` names, or null when it is not an ISO 8601 date and time with a zone
 * (`Z`, or an offset such as `+01:00`), or names a day, hour or minute that does not exist.
 */
export function parseIsoInstant(text: unknown): Date | null {
  if (typeof text !== 'string') return null
  const match = ISO_INSTANT.exec(text.trim())
  if (!match) return null
  const [, year, month, day, hour, minute, second = '0', , offsetHours = '0', offsetMinutes = '0'] = match
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number]
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return null
  if (Number(offsetHours) > 23 || Number(offsetMinutes) > 59) return null
  const date = new Date(text.trim())
  return Number.isNaN(date.getTime()) ? null : date
}
