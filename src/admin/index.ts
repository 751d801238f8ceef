/**
 * The admin HTTP API and live dashboard. Mount the handler where your app serves operators:
 *
 * - Express: `app.use('/admin', createAdminHandler(scheduler, { authorize }))`
 * - node:http: `http.createServer(createAdminHandler(scheduler, { authorize, basePath: '/admin' }))`
 * - Hono and other fetch-style servers: `app.all('/admin/*', (c) => admin.fetch(c.req.raw))`,
 *   with `basePath: '/admin'`.
 *
 * Scripts send `Authorization: Bearer <token>`, which `authorize` judges. A browser signs in once
 * with the dashboard's form (a POST; the token never goes in a URL) and gets an HttpOnly,
 * SameSite=Strict cookie (`pss_admin`, path = mount, 12 hours by default) holding a signed,
 * expiring session, not the token. Requests that change state with that cookie must also send
 * `X-Requested-With: pss-dashboard`, which the dashboard does. An `authorize` that answers
 * `'read'` gives read-only access: the request, or the session it signs in, may only read.
 */
export { createAdminHandler } from './handler.js'
export type { AdminHandler, AdminHandlerOptions, AdminSessionOptions } from './handler.js'
export { bearerToken } from './auth.js'
export type { Authorize } from './auth.js'
export type { AdminErrorBody, AdminErrorCode } from './http.js'
