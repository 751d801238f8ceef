/**
 * Which instants the scheduler can store: Postgres takes a timestamp as `toISOString()` writes it
 * only within the years 1 to 9999, and refuses the extended form (`+010000-…`) with an error that
 * names no option.
 */

/** The first and last instants of the years 1 to 9999, which Postgres takes as `toISOString()` writes them. */
const FIRST_STORABLE_MS = Date.parse('0001-01-01T00:00:00.000Z')
const LAST_STORABLE_MS = Date.parse('9999-12-31T23:59:59.999Z')

/**
 * Why `value` is no instant the scheduler can store (`null`: it is one): not a valid Date, or one
 * outside the years 1 to 9999, whose ISO form (`+010000-…`) Postgres refuses.
 */
export function unstorableDate(value: unknown): string | null {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) return 'a valid Date'
  const ms = value.getTime()
  return ms < FIRST_STORABLE_MS || ms > LAST_STORABLE_MS ? 'a Date in the years 1 to 9999' : null
}
