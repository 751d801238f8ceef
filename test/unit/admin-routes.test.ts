/**
 * How the admin handler finds a route, without a scheduler behind it: the path below the mount
 * point (whether or not a router stripped the mount already), then the route for that path and
 * method. test/admin.*.test.ts cover the routes themselves over real HTTP.
 */
import { describe, expect, test } from 'vitest'
import { matchRoute, targetOf } from '../../src/admin/routes.js'

const ID = '3f2b9c1e-0000-4000-8000-000000000001'

describe('targetOf', () => {
  test.each([
    { pathname: '/admin/status', mount: '/admin', path: '/status' },
    { pathname: '/admin/runs/abc/', mount: '/admin', path: '/runs/abc' },
    { pathname: '/admin', mount: '/admin', path: '/' },
    { pathname: '/admin/', mount: '/admin', path: '/' },
    { pathname: '/status', mount: '', path: '/status' },
    { pathname: '/', mount: '', path: '/' },
  ])('$pathname under "$mount" is $path', ({ pathname, mount, path }) => {
    expect(targetOf(pathname, mount)).toEqual({ mount, path })
  })

  test('a path that merely starts with the mount\'s letters is not under it', () => {
    // /administrator is not /admin/istrator: it must 404, not reach the admin API.
    expect(targetOf('/administrator', '/admin').path).toBe('/administrator')
    expect(matchRoute('GET', targetOf('/adminstatus', '/admin').path)).toEqual({ kind: 'none' })
  })

  test('a path a router already stripped (Express app.use) is taken as it is', () => {
    expect(targetOf('/status', '/admin', { stripped: true })).toEqual({ mount: '/admin', path: '/status' })
    // Even one that happens to repeat the mount's name.
    expect(targetOf('/admin/status', '/admin', { stripped: true }).path).toBe('/admin/status')
  })
})

describe('matchRoute', () => {
  // Every route the README documents, and the dashboard's own data.
  test.each([
    ['GET', '/'],
    ['GET', '/dashboard.json'],
    ['GET', '/status'],
    ['POST', '/process-subscriptions'],
    ['GET', '/runs'],
    ['GET', `/runs/${ID}`],
    ['GET', '/failures'],
    ['GET', `/subscriptions/${ID}`],
    ['POST', `/subscriptions/${ID}/run`],
    ['POST', `/subscriptions/${ID}/pause`],
    ['POST', `/subscriptions/${ID}/resume`],
    ['GET', `/subscriptions/${ID}/upcoming`],
    ['POST', `/subscriptions/${ID}/skip`],
    ['POST', `/subscriptions/${ID}/backfill`],
    ['PATCH', `/subscriptions/${ID}`],
    ['GET', '/failing'],
    ['POST', '/failed/retry'],
  ])('%s %s is a route', (method, path) => {
    const match = matchRoute(method, path)
    expect(match.kind).toBe('found')
  })

  test('the :id segment is handed to the route as it came (the route validates it)', () => {
    expect(matchRoute('POST', `/subscriptions/${ID}/pause`)).toMatchObject({ kind: 'found', id: ID, route: { path: '/subscriptions/:id/pause' } })
    expect(matchRoute('GET', '/runs/not-a-uuid')).toMatchObject({ kind: 'found', id: 'not-a-uuid' })
  })

  test('a known path with another method is wrong-method, listing the methods it allows (for Allow)', () => {
    expect(matchRoute('GET', '/process-subscriptions')).toEqual({ kind: 'wrong-method', allow: ['POST'] })
    expect(matchRoute('DELETE', '/status')).toEqual({ kind: 'wrong-method', allow: ['GET'] })
    expect(matchRoute('GET', `/subscriptions/${ID}/run`)).toEqual({ kind: 'wrong-method', allow: ['POST'] })
    expect(matchRoute('DELETE', `/subscriptions/${ID}`)).toEqual({ kind: 'wrong-method', allow: ['GET', 'PATCH'] })
    expect(matchRoute('PATCH', `/subscriptions/${ID}/upcoming`)).toEqual({ kind: 'wrong-method', allow: ['GET'] })
  })

  test('/subscriptions lists, and /subscriptions/<id> is one subscription', () => {
    expect(matchRoute('GET', '/subscriptions')).toMatchObject({ kind: 'found', route: { path: '/subscriptions' } })
    expect(matchRoute('GET', `/subscriptions/${ID}`)).toMatchObject({ kind: 'found', id: ID, route: { path: '/subscriptions/:id' } })
  })

  test.each(['/nope', '/subscription', '/subscriptions//run', `/runs/${ID}/extra`, '/STATUS'])('%s matches nothing', (path) => {
    expect(matchRoute('GET', path)).toEqual({ kind: 'none' })
  })
})
