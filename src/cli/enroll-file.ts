/**
 * `enroll --file <path>`: the entries of an `enrollMany()` read from a file (or `-`, standard
 * input), as JSON Lines (one entry per line) or one JSON array, each entry
 * `{ "subscriptionId": …, "timezone"?, "runAt"?, "anchor"?, "startsAt"?, "endsAt"?, "nextRunAt"? }` with its
 * instants as ISO 8601 text. A line that is not such an entry stops the command (exit 2) before
 * anything is written, naming the line.
 */
import { readFile } from 'node:fs/promises'
import type { EnrollEntry } from '../records/enroll-entries.js'
import { gotInstant, ISO_INSTANT_EXAMPLE, parseIsoInstant } from '../schedule/iso-instant.js'
import { UsageError } from './usage-error.js'

const INSTANT_KEYS = ['anchor', 'startsAt', 'endsAt', 'nextRunAt'] as const

/** An entry's place, as the user finds it in the file: `line 12`, or `entry 12` of an array. */
type Place = string

/** The entry with its instants as Dates; the rest is checked by enrollMany(), named by its place. */
function entryAt(value: unknown, place: Place): EnrollEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`--file: ${place} is not an object such as {"subscriptionId":"3f2b…","timezone":"Europe/Berlin","runAt":"07:00"}.`)
  }
  const entry: Record<string, unknown> = { ...value }
  for (const key of INSTANT_KEYS) {
    const given = entry[key]
    if (given === undefined || given === null) continue
    const instant = typeof given === 'string' ? parseIsoInstant(given) : null
    if (!instant) {
      const got = typeof given === 'string' ? gotInstant(given) : `; got ${JSON.stringify(given)}.`
      throw new UsageError(`--file: ${place}: ${key} must be an ISO 8601 instant such as ${ISO_INSTANT_EXAMPLE}${got}`)
    }
    entry[key] = instant
  }
  return entry as unknown as EnrollEntry
}

function parsed(text: string, place: Place): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`--file: ${place} is not JSON (${(error as Error).message}).`)
  }
}

/** The entries of `text`: a JSON array, or JSON Lines (blank lines skipped). Each keeps its place for the errors. */
export function entriesOf(text: string): { entries: EnrollEntry[]; places: Place[] } {
  const trimmed = text.trim()
  if (trimmed === '') throw new UsageError('--file: the file has no entries; write one JSON object per line, or a JSON array of them.')
  if (trimmed.startsWith('[')) {
    const array = parsed(trimmed, 'the file') as unknown[]
    if (!Array.isArray(array)) throw new UsageError('--file: the file is not a JSON array of entries.')
    const places = array.map((_, i) => `entry ${i + 1}`)
    return { entries: array.map((value, i) => entryAt(value, places[i]!)), places }
  }
  const entries: EnrollEntry[] = []
  const places: Place[] = []
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    const place = `line ${i + 1}`
    entries.push(entryAt(parsed(line, place), place))
    places.push(place)
  }
  return { entries, places }
}

/** `path`'s text; `-` reads standard input. */
export async function readEntriesFile(path: string): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new UsageError(`--file: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`)
  }
}

/** `entries[3].timezone` in an enrollMany() error, as the file's place: `line 4: timezone`. */
export function placeOfOption(option: string, places: readonly Place[]): string | null {
  const match = /^entries\[(\d+)\](?:\.(.+))?$/.exec(option)
  const place = match ? places[Number(match[1])] : undefined
  if (!match || place === undefined) return null
  return match[2] ? `${place}: ${match[2]}` : place
}
