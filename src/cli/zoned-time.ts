/**
 * Times as the CLI prints them: the wall time in a zone, written as ISO 8601 with that zone's
 * offset, then the zone's name: `2026-03-03T07:30:00+01:00 (Europe/Berlin)`. The offset makes
 * the text an exact instant that `--until`, `--from` and the others take back as it is; the name
 * says which rules (DST) the wall time follows.
 */
import { HISTORY_INSTANT_SOURCE } from '../schedule/iso-instant.js'

const formats = new Map<string, Intl.DateTimeFormat>()

function formatFor(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset',
    })
    formats.set(zone, format)
  }
  return format
}

/** `GMT+01:00` → `+01:00`; `GMT` (no offset) → `Z`. */
function offsetOf(name: string): string {
  const offset = name.replace(/^GMT/, '')
  return offset === '' || /^[+-]00:00$/.test(offset) ? 'Z' : offset
}

/**
 * `2026-03-03T07:30:00+01:00`: the instant as a wall time in `zone`, with its offset; with its
 * milliseconds when it has some (`…:47.282Z`), so that pasted back into a flag it is the same
 * instant (a slot taken at a sweep's time is seldom on a whole second).
 */
export function isoInZone(date: Date, zone: string): string {
  const parts = Object.fromEntries(formatFor(zone).formatToParts(date).map((part) => [part.type, part.value]))
  const ms = date.getTime() % 1000
  const fraction = ms === 0 ? '' : `.${String((ms + 1000) % 1000).padStart(3, '0')}`
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${fraction}${offsetOf(parts.timeZoneName ?? 'GMT')}`
}

/** `2026-03-03T07:30:00+01:00 (Europe/Berlin)`, or `—` for no time. */
export function timeInZone(date: Date | null, zone: string): string {
  return date === null ? '—' : `${isoInZone(date, zone)} (${zone})`
}

const UTC_INSTANT = new RegExp(HISTORY_INSTANT_SOURCE, 'g')

/**
 * A history line's text with every UTC instant in it written as a wall time in `zone`, as the
 * lines around it are: `next slot 2026-12-06T08:00:00.000Z` in Berlin reads
 * `next slot 2026-12-06T09:00:00+01:00`. Each is still the same instant, which a flag takes back.
 */
export function instantsInZone(text: string, zone: string): string {
  return text.replace(UTC_INSTANT, (iso) => {
    const date = new Date(iso)
    return Number.isNaN(date.getTime()) ? iso : isoInZone(date, zone)
  })
}
