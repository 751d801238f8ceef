/**
 * The admin routes that steer one subscription's schedule: preview its next slots, skip one,
 * pause it (for good or until an instant), backfill a past range, and change its settings.
 *
 * Instants travel as ISO 8601 strings with a zone; `null` clears a setting. The route checks the
 * body's shape (400 INVALID_BODY for a wrong type or an unknown field, INVALID_INPUT for text that
 * is no instant); the scheduler checks the values (a time of day, a zone, an end before the
 * start), and its ConfigurationError becomes a 400 naming the field.
 */
import { SETTING_NAMES } from '../records/schedule-settings.js'
import type { ScheduleSettings } from '../records/schedule-settings.js'
import { MAX_UPCOMING_RUNS } from '../schedule/upcoming.js'
import { gotInstant, ISO_INSTANT_EXAMPLE, parseIsoInstant } from '../schedule/iso-instant.js'
import { AdminHttpError, invalidField, json, parseCountParam, readJsonObject, requireUuid } from './http.js'
import type { Route, RouteContext } from './route.js'
import { shown } from '../error-text.js'

/** The body fields of `PATCH /subscriptions/:id`: `reschedule()`'s own list, so the two never drift apart. */
const SETTING_FIELDS: readonly string[] = SETTING_NAMES
const DATE_FIELDS = new Set<string>(['anchor', 'startsAt', 'endsAt'])

function subscriptionId(context: RouteContext): string {
  return requireUuid('subscriptionId', context.id)
}

/** An instant sent as an ISO string; `null` only where `nullable` (it clears the setting). */
function instant(field: string, value: unknown, nullable: boolean): Date | null {
  if (value === null && nullable) return null
  if (typeof value !== 'string') {
    const expected = nullable ? 'an ISO 8601 string or null' : 'an ISO 8601 string'
    throw invalidField(field, 'INVALID_BODY', `${field} must be ${expected}, such as "2026-03-10T09:00:00Z"; got ${shown(value)}.`)
  }
  const date = parseIsoInstant(value)
  if (!date) throw invalidField(field, 'INVALID_INPUT', `${field} must be an ISO 8601 date and time with its zone, such as ${ISO_INSTANT_EXAMPLE}${gotInstant(value)}`)
  return date
}

/**
 * A control's `note`, as the body sent it: the scheduler checks it (text of up to 500
 * characters), and its ConfigurationError is a 400 naming `note`.
 */
export function noteIn(body: Record<string, unknown> | undefined): { note?: string } {
  return body && 'note' in body ? { note: body.note as string } : {}
}

/** A required field, present in `body`. */
function required(body: Record<string, unknown> | undefined, field: string, example: string): unknown {
  if (body === undefined || !(field in body)) throw invalidField(field, 'INVALID_BODY', `${field} is required: send ${example}.`)
  return body[field]
}

/** The settings of a PATCH body, converted to what `reschedule()` takes; at least one is needed. */
function settingsOf(body: Record<string, unknown> | undefined): ScheduleSettings {
  const given = Object.entries(body ?? {}).filter(([field]) => field !== 'note')
  if (given.length === 0) {
    throw new AdminHttpError(400, 'INVALID_BODY', `Send at least one of ${SETTING_FIELDS.join(', ')}, such as {"runAt": "07:30", "timezone": "Europe/Berlin"}; null clears one.`)
  }
  const settings: Record<string, unknown> = {}
  for (const [field, value] of given) {
    if (DATE_FIELDS.has(field)) settings[field] = instant(field, value, true)
    else if (value === null || typeof value === 'string') settings[field] = value
    else throw invalidField(field, 'INVALID_BODY', `${field} must be a string or null, got ${shown(value)}.`)
  }
  return settings as ScheduleSettings
}

/** Every route takes the id first: a malformed one is a 400 before anything else is read. */
export const scheduleRoutes: readonly Route[] = [
  {
    // A subscription the host just added, enrolled now rather than at the next sweep: 201 when
    // this made its row, 200 when it had one (its settings, if any, applied as enroll() does).
    method: 'POST',
    path: '/subscriptions/:id/enroll',
    query: [],
    handle: async (c) => {
      const id = subscriptionId(c)
      const body = await readJsonObject(c.request, SETTING_FIELDS)
      const enrolled = await c.scheduler.enroll(id, body && Object.keys(body).length > 0 ? settingsOf(body) : {})
      return json(enrolled.created ? 201 : 200, enrolled)
    },
  },
  {
    method: 'GET',
    path: '/subscriptions/:id/upcoming',
    query: ['count'],
    handle: async (c) => {
      const id = subscriptionId(c)
      const count = parseCountParam(c.url, 'count', 5, MAX_UPCOMING_RUNS)
      return json(200, { upcoming: await c.scheduler.upcoming(id, { count }) })
    },
  },
  {
    method: 'POST',
    path: '/subscriptions/:id/skip',
    query: [],
    handle: async (c) => {
      const id = subscriptionId(c)
      // With { slot }, the slot the client saw: a retried or doubled request skips it once.
      const body = await readJsonObject(c.request, ['slot', 'note'])
      const slot = body && 'slot' in body ? instant('slot', body.slot, false) : null
      return json(200, await c.scheduler.skipNext(id, { ...(slot ? { slot } : {}), ...noteIn(body) }))
    },
  },
  {
    method: 'POST',
    path: '/subscriptions/:id/pause',
    query: [],
    handle: async (c) => {
      const id = subscriptionId(c)
      const body = await readJsonObject(c.request, ['until', 'note'])
      const until = body && 'until' in body ? instant('until', body.until, false) : null
      return json(200, await c.scheduler.pause(id, { ...(until ? { until } : {}), ...noteIn(body) }))
    },
  },
  {
    method: 'POST',
    path: '/subscriptions/:id/backfill',
    query: [],
    handle: async (c) => {
      const id = subscriptionId(c)
      const body = await readJsonObject(c.request, ['from', 'to'])
      const example = '{"from": "2026-03-01T00:00:00Z", "to": "2026-03-07T23:59:59Z"}'
      const from = instant('from', required(body, 'from', example), false)!
      const to = instant('to', required(body, 'to', example), false)!
      // Never waits: a range of up to 1000 slots outlasts any HTTP client's patience.
      const { runId } = await c.scheduler.backfill(id, { from, to, wait: false })
      return json(202, { runId }, { location: `${c.mount}/runs/${runId}` })
    },
  },
  {
    method: 'PATCH',
    path: '/subscriptions/:id',
    query: [],
    handle: async (c) => {
      const id = subscriptionId(c)
      const body = await readJsonObject(c.request, [...SETTING_FIELDS, 'note'])
      return json(200, await c.scheduler.reschedule(id, settingsOf(body), noteIn(body)))
    },
  },
]
