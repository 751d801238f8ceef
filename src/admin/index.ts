/**
 * The admin HTTP API and live dashboard. Mount the handler where your app serves operators:
 *
 * - Express: `app.use('/admin', createAdminHandler(scheduler, { authorize }))`
 * - node:http: `http.createServer(createAdminHandler(scheduler, { authorize, basePath: '/admin' }))`
 * - Hono and other fetch-style servers: `app.all('/admin/*', (c) => admin.fetch(c.req.raw))`,
 *   with `basePath: '/admin'`.
 *
 * Every request, the dashboard included, must pass `authorize`. Scripts send
 * `Authorization: Bearer <token>`. A browser signs in once by opening `<mount>/?token=<token>`:
 * the token is checked, kept in an HttpOnly, SameSite=Strict cookie (`pss_admin`, path = mount,
 * 12 hours) and removed from the address bar by a redirect. Requests that change state with that
 * cookie must also send `X-Requested-With: pss-dashboard`, which the dashboard does.
 */
export { createAdminHandler } from './handler.js'
export type { AdminHandler, AdminHandlerOptions } from './handler.js'
export { bearerToken } from './auth.js'
export type { Authorize } from './auth.js'
export type { AdminErrorBody, AdminErrorCode } from './http.js'
