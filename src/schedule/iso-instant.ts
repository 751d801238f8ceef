/**
 * Instants as the admin API and the CLI take them: ISO 8601 text with a date, a time and an
 * explicit zone offset. `Date.parse` alone would do for neither: it reads a string without an
 * offset in the server's own zone (so the same request would mean different instants on
 * different machines), and it rolls an impossible date over (`2026-02-30` becomes 2 March)
 * instead of refusing it.
 */

/** What an error message shows as a valid instant. */
export const ISO_INSTANT_EXAMPLE = '2026-03-10T09:00:00Z (or with an offset: 2026-03-10T10:00:00+01:00)'

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/i

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
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
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) return null
  if (Number(offsetHours) > 23 || Number(offsetMinutes) > 59) return null
  const date = new Date(text.trim())
  return Number.isNaN(date.getTime()) ? null : date
}
