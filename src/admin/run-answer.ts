/**
 * How a route that starts a run answers. A caller that does not wait gets 202 and where to
 * watch the run at once. A caller that waits gets 200 with the run's summary once it has
 * finished, but never waits past `waitSeconds` (25 by default): a run still going then is
 * answered 202 like an unwaited one, and says so. Without that bound a run held up by its worker
 * (a `Retry-After` of an hour, a slow worker) kept the request open until a proxy in front cut it
 * with a 504, while the run went on: which invites a second click, and a second run.
 */
import type { SubscriptionScheduler, RunStarted } from '../types.js'
import type { RunSummary } from '../records/runs.js'
import { waitForRun } from '../records/wait-for-run.js'
import { bodyBoolean, invalidField, json, parseBooleanParam } from './http.js'
import type { RouteContext } from './route.js'
import { shown } from '../error-text.js'

/** Under the 30 s a proxy's or a load balancer's timeout often is. */
export const DEFAULT_WAIT_SECONDS = 25
export const MAX_WAIT_SECONDS = 300
/** Between two reads of the run, for a run another instance finishes (this one's are heard at once). */
const POLL_MS = 250

/** The body keys and query parameters that say how a caller waits. */
export const WAIT_KEYS = ['wait', 'waitSeconds'] as const

/** `false` when the caller does not wait, else the most seconds it waits. */
export type Wait = false | number

/**
 * `wait` (true or false; true unless said) and `waitSeconds` (1 to 300), each from the JSON body
 * or the query, not both.
 */
export function parseWait(url: URL, body: Record<string, unknown> | undefined): Wait {
  const wait = fromBodyOrQuery(url, body, 'wait', (value) => bodyBoolean('wait', value), () => parseBooleanParam(url, 'wait', true))
  const seconds = fromBodyOrQuery(url, body, 'waitSeconds', (value) => checkedSeconds(value, 'INVALID_BODY'), () => {
    const raw = url.searchParams.get('waitSeconds')
    return raw === null ? undefined : checkedSeconds(/^\d+$/.test(raw) ? Number(raw) : raw, 'INVALID_INPUT')
  })
  if (!wait) {
    if (seconds !== undefined) throw invalidField('waitSeconds', 'INVALID_INPUT', 'waitSeconds bounds a wait, and wait is false: drop one of them.')
    return false
  }
  return seconds ?? DEFAULT_WAIT_SECONDS
}

function fromBodyOrQuery<T>(url: URL, body: Record<string, unknown> | undefined, key: string, ofBody: (value: unknown) => T, ofQuery: () => T): T {
  if (!body || !(key in body)) return ofQuery()
  if (url.searchParams.has(key)) throw invalidField(key, 'INVALID_INPUT', `${key} is given both in the body and as ?${key}=; give it once.`)
  return ofBody(body[key])
}

function checkedSeconds(value: unknown, code: 'INVALID_BODY' | 'INVALID_INPUT'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_WAIT_SECONDS) {
    throw invalidField('waitSeconds', code, `waitSeconds must be a whole number of seconds from 1 to ${MAX_WAIT_SECONDS}, got ${shown(value)}.`)
  }
  return value
}

/** Starts the run (never waiting on it there), then answers as the caller asked to wait. */
export async function answerRun(context: RouteContext, start: () => Promise<RunStarted>, wait: Wait): Promise<Response> {
  const { runId } = await start()
  const location = `${context.mount}/runs/${runId}`
  if (wait === false) return json(202, { runId }, { location })
  const summary = await finishedWithin(context.scheduler, runId, wait * 1000)
  if (summary) return json(200, { runId, summary })
  return json(202, {
    runId,
    finished: false,
    message: `Run ${runId} is still going after ${wait} s, the most this request waits (waitSeconds): follow it at ${location}. It goes on; do not start it again.`,
  }, { location })
}

/** The run's summary once it has finished, or undefined if it has not within `ms`. */
async function finishedWithin(scheduler: SubscriptionScheduler, runId: string, ms: number): Promise<RunSummary | undefined> {
  const signal = AbortSignal.timeout(ms)
  try {
    return await waitForRun((id) => scheduler.getRun(id), runId, { signal, pollMs: POLL_MS, finishedHere: (listener) => scheduler.on('run:finished', listener) })
  } catch (error) {
    if (signal.aborted) return undefined
    throw error
  }
}
