/**
 * The admin API's routes, each a thin translation between HTTP and one scheduler method. Paths
 * are relative to where the handler is mounted.
 */
import { isRunTrigger, RUN_TRIGGERS } from '../db/names.js'
import type { RunTrigger } from '../db/names.js'
import type { ListedStatus } from '../records/subscription-list.js'
import { dashboardPage } from './dashboard-html.js'
import { noteIn, scheduleRoutes } from './schedule-routes.js'
import { bodyBoolean, invalidField, json, optionalUuidParam, parseBooleanParam, parseCountParam, parseLimit, readJsonObject, requireUuid } from './http.js'
import { answerRun, parseWait, WAIT_KEYS } from './run-answer.js'
import { SIGN_OUT_PATH, signOutCookie } from './sign-in.js'
import type { Method, Route, RouteContext } from './route.js'
import { shown } from '../error-text.js'

/** `?trigger=`: one trigger name, or several, comma-separated; undefined when absent. */
function parseTriggers(url: URL): RunTrigger[] | undefined {
  const raw = url.searchParams.get('trigger')
  if (raw === null) return undefined
  const names = raw.split(',')
  if (names.includes('')) throw invalidField('trigger', 'INVALID_INPUT', `?trigger= has an empty name in ${shown(raw)}: separate trigger names with single commas, as in ?trigger=cron,manual.`)
  const bad = names.find((name) => !isRunTrigger(name))
  if (bad !== undefined) throw invalidField('trigger', 'INVALID_INPUT', `?trigger= takes ${RUN_TRIGGERS.join(', ')}, or several of them comma-separated; got ${shown(bad)}.`)
  return names as RunTrigger[]
}

function id(context: RouteContext, name = 'id'): string {
  return requireUuid(name, context.id)
}

export const routes: readonly Route[] = [
  { method: 'GET', path: '/', query: 'any', handle: async (c) => dashboardPage(c.mount, c.access) },
  {
    method: 'GET',
    path: '/dashboard.json',
    query: [],
    handle: async ({ scheduler }) => {
      const [status, runs, failures, failing, instances] = await Promise.all([
        scheduler.getStatus(),
        scheduler.listRuns({ limit: 10 }),
        scheduler.listFailures({ limit: 20 }),
        scheduler.listFailing({ limit: 20 }),
        scheduler.listInstances(),
      ])
      return json(200, { status, runs, failures, failing, instances, instance: scheduler.health() })
    },
  },
  {
    method: 'POST',
    path: SIGN_OUT_PATH,
    query: [],
    handle: async (c) => {
      await readJsonObject(c.request, [])
      return json(200, { signedOut: true }, { 'set-cookie': signOutCookie(c.request, c.mount) })
    },
  },
  { method: 'GET', path: '/status', query: [], handle: async ({ scheduler }) => json(200, await scheduler.getStatus()) },
  { method: 'GET', path: '/health', query: [], handle: async ({ scheduler }) => json(200, scheduler.health()) },
  { method: 'GET', path: '/instances', query: [], handle: async ({ scheduler }) => json(200, { instances: await scheduler.listInstances() }) },
  {
    method: 'POST',
    path: '/process-subscriptions',
    query: WAIT_KEYS,
    handle: async (c) => {
      const wait = parseWait(c.url, await readJsonObject(c.request, WAIT_KEYS))
      return answerRun(c, () => c.scheduler.runNow({ wait: false }), wait)
    },
  },
  // Up to 1000, the scheduler's own cap: the dashboard's 14-day chart counts runs from this list.
  {
    method: 'GET', path: '/runs', query: ['limit', 'before', 'trigger', 'unfinished', 'subscriptionId'],
    // ?before= the last run's id pages back; ?trigger=cron,manual keeps those triggers;
    // ?unfinished=true only the runs still going; ?subscriptionId= one subscription's runs of its own.
    handle: async (c) => {
      const before = optionalUuidParam(c.url, 'before')
      const subscriptionId = optionalUuidParam(c.url, 'subscriptionId')
      const unfinished = parseBooleanParam(c.url, 'unfinished', false)
      return json(200, { runs: await c.scheduler.listRuns({ limit: parseLimit(c.url, 20, 1000), before, trigger: parseTriggers(c.url), unfinished, subscriptionId }) })
    },
  },
  { method: 'GET', path: '/runs/:id', query: [], handle: async (c) => json(200, await c.scheduler.getRun(id(c, 'runId'))) },
  {
    method: 'GET',
    path: '/failures',
    // ?before=<id of the last entry> for the next page back; ?final=true the attempts that gave their slot up, false those retried.
    query: ['runId', 'limit', 'before', 'final'],
    handle: async (c) => {
      const runId = optionalUuidParam(c.url, 'runId')
      const limit = parseLimit(c.url, 20, 1000)
      // Checked by listFailures(), as the library's callers' are.
      const before = c.url.searchParams.get('before') ?? undefined
      const final = c.url.searchParams.has('final') ? parseBooleanParam(c.url, 'final', false) : undefined
      return json(200, { failures: await c.scheduler.listFailures({ limit, ...(runId ? { runId } : {}), ...(before !== undefined ? { before } : {}), ...(final !== undefined ? { final } : {}) }) })
    },
  },
  {
    method: 'GET',
    path: '/failing',
    query: ['limit'],
    handle: async (c) => json(200, { failing: await c.scheduler.listFailing({ limit: parseLimit(c.url, 20, 1000) }) }),
  },
  {
    method: 'GET',
    path: '/subscriptions',
    // ?status= (as the counts have them, 'inactive' too), ?userId=, ?after=<the last subscriptionId of the page before>.
    query: ['status', 'userId', 'limit', 'after'],
    handle: async (c) => {
      const q = (name: string) => c.url.searchParams.get(name) ?? undefined
      const after = optionalUuidParam(c.url, 'after')
      const page = { limit: parseLimit(c.url, 50, 1000), ...(q('status') ? { status: q('status') as ListedStatus } : {}), ...(q('userId') ? { userId: q('userId') } : {}), ...(after ? { after } : {}) }
      return json(200, { subscriptions: await c.scheduler.listSubscriptions(page) })
    },
  },
  {
    method: 'GET',
    path: '/subscriptions/:id',
    // ?errors= recent failed attempts (default 10), ?history= history entries (default 20), each 0 to 1000, as the library takes them.
    query: ['errors', 'history'],
    handle: async (c) => json(200, await c.scheduler.getSubscription(id(c, 'subscriptionId'), { errors: parseCountParam(c.url, 'errors', 10, 1000, 0), history: parseCountParam(c.url, 'history', 20, 1000, 0) })),
  },
  {
    method: 'POST',
    path: '/subscriptions/:id/run',
    query: WAIT_KEYS,
    handle: async (c) => {
      const subscriptionId = id(c, 'subscriptionId')
      const wait = parseWait(c.url, await readJsonObject(c.request, WAIT_KEYS))
      return answerRun(c, () => c.scheduler.runSubscription(subscriptionId, { wait: false }), wait)
    },
  },
  // Pause (with or without an end), skip, upcoming, backfill and PATCH: schedule-routes.ts.
  ...scheduleRoutes,
  {
    method: 'POST',
    path: '/subscriptions/:id/resume',
    query: [],
    handle: async (c) => {
      const subscriptionId = id(c, 'subscriptionId')
      // { forgive: true }: under catchUp 'all', the slots the pause deferred are not called.
      const body = await readJsonObject(c.request, ['note', 'forgive'])
      // A wrong type is the body's shape (INVALID_BODY), as for every other field (a trial's "yes").
      return json(200, await c.scheduler.resume(subscriptionId, { ...noteIn(body), ...(body && 'forgive' in body ? { forgive: bodyBoolean('forgive', body.forgive) } : {}) }))
    },
  },
  // Calls paused fleet-wide: an operator's switch for an incident at the worker service.
  {
    method: 'POST',
    path: '/calls/pause',
    query: [],
    handle: async (c) => json(200, { callsPaused: await c.scheduler.pauseCalls(noteIn(await readJsonObject(c.request, ['note']))) }),
  },
  {
    method: 'POST',
    path: '/calls/resume',
    query: [],
    handle: async (c) => {
      await readJsonObject(c.request, [])
      return json(200, { resumed: await c.scheduler.resumeCalls() })
    },
  },
  {
    method: 'POST',
    path: '/failed/retry',
    query: WAIT_KEYS,
    handle: async (c) => {
      const body = await readJsonObject(c.request, [...WAIT_KEYS, 'subscriptionIds'])
      const wait = parseWait(c.url, body)
      const ids = body?.subscriptionIds
      if (ids !== undefined && !Array.isArray(ids)) {
        throw invalidField('subscriptionIds', 'INVALID_BODY', `subscriptionIds must be an array of UUIDs, got ${shown(ids)}.`)
      }
      const subscriptionIds = ids?.map((value, i) => requireUuid(`subscriptionIds[${i}]`, value, 'subscriptionIds'))
      return answerRun(c, () => c.scheduler.retryFailed({ ...(subscriptionIds ? { subscriptionIds } : {}), wait: false }), wait)
    },
  },
]

/** Where a request landed: the mount point, and the path below it. */
export interface Target {
  /** Without a trailing slash; '' at the root. */
  mount: string
  /** Starts with '/'; no trailing slash but the root's. */
  path: string
}

/**
 * The target of `pathname` under `mount`. The mount is stripped when it is there: node:http and
 * some routers pass the full path, others (Express, Hono's mount) have stripped it already.
 */
export function targetOf(pathname: string, mount: string, { stripped = false } = {}): Target {
  let path = pathname
  if (!stripped && mount && (pathname === mount || pathname.startsWith(`${mount}/`))) path = pathname.slice(mount.length)
  path = path.replace(/\/+$/, '')
  return { mount, path: path === '' ? '/' : path }
}

export type RouteMatch =
  | { kind: 'found'; route: Route; id: string | undefined }
  | { kind: 'wrong-method'; allow: Method[] }
  | { kind: 'none' }

function matchPath(pattern: string, path: string): { id: string | undefined } | undefined {
  const want = pattern.split('/')
  const got = path.split('/')
  if (want.length !== got.length) return undefined
  let id: string | undefined
  for (const [i, segment] of want.entries()) {
    const actual = got[i] ?? ''
    if (segment === ':id') {
      if (actual === '') return undefined
      id = actual
    } else if (segment !== actual) {
      return undefined
    }
  }
  return { id }
}

/**
 * The first segment of every route's path below the mount ('runs', 'subscriptions', …), with
 * `extra` paths (the sign-in form's). A mount path must not start with one: a router that strips
 * the mount path (Hono's `mount`) passes a route that starts with it, which reads as unstripped.
 */
export function routeRoots(extra: readonly string[]): ReadonlySet<string> {
  return new Set([...routes.map((route) => route.path), ...extra].map((path) => path.split('/')[1] ?? '').filter((root) => root !== ''))
}

/** `path` is relative to the mount point, starts with '/', and has no trailing slash but the root's. */
export function matchRoute(method: string, path: string): RouteMatch {
  const allow: Method[] = []
  for (const route of routes) {
    const match = matchPath(route.path, path)
    if (!match) continue
    if (route.method === method) return { kind: 'found', route, id: match.id }
    allow.push(route.method)
  }
  return allow.length > 0 ? { kind: 'wrong-method', allow } : { kind: 'none' }
}
