/**
 * The shape of an admin route: what routes.ts and schedule-routes.ts declare, and the handler
 * calls. Kept apart from both route tables so that neither imports the other.
 */
import type { SubscriptionScheduler } from '../types.js'
import type { Access } from './session.js'

export interface RouteContext {
  request: Request
  url: URL
  /** The `:id` segment of the path, when the route has one. */
  id: string | undefined
  /** Path the handler is mounted at, without a trailing slash ('' at the root). */
  mount: string
  scheduler: SubscriptionScheduler
  /** What the caller may do: everything, or only read (authorize answered `'read'`). */
  access: Access
}

export type Method = 'GET' | 'POST' | 'PATCH'

export interface Route {
  method: Method
  /** Segments; ':id' matches any one segment. */
  path: string
  /**
   * The query parameters it reads, each at most once; any other is refused, as an unknown body
   * field is. `'any'` for the dashboard's page, whose address a browser may decorate.
   */
  query: readonly string[] | 'any'
  handle(context: RouteContext): Promise<Response>
}
