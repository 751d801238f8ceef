/**
 * The dashboard's drill-down views in a real headless Chromium, against a started scheduler: the
 * subscription page (opened from a link and from the search box) with its times in the
 * subscription's own zone, its failed attempts and its buttons; the run page with its failures;
 * and the scheduling controls that wait for routes the engine adds. Leaves
 * docs/dashboard-subscription.png behind.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { createSubscriptionScheduler, PermanentError } from '../src/index.js'
import type { RunSummary, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { browserUnavailable, launchChromium, signInWithForm, UPCOMING_PROBE, watchProblems } from './support/browser.js'
import { createTestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

const TOKEN = 'dashboard-views-token-0123456789abcdef'
const ZONE = 'America/New_York'
const SCREENSHOT = fileURLToPath(new URL('../docs/dashboard-subscription.png', import.meta.url))
const unavailable = browserUnavailable()

/** A wall time as the page writes it, without the zone's abbreviation. */
function wall(date: Date, zone: string): string {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(date).map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

describe.skipIf(unavailable !== undefined)(`dashboard views in Chromium${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const logger = captureLogger()
  const worker = createFakeWorkerClient()
  let scheduler: SubscriptionScheduler
  let server: http.Server
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let base: string
  let problems: string[]
  let signedIn = false
  let bad: string
  let ok: string[]
  let firstRun: RunSummary

  const field = (name: string) => page.locator(`#sub-fields [data-field="${name}"]`)
  const runField = (name: string) => page.locator(`#run-fields [data-field="${name}"]`)

  beforeAll(async () => {
    const db = await createTestDatabase()
    ok = await seedSubscriptions(db.pool, { count: 3 })
    ;[bad] = (await seedSubscriptions(db.pool, { count: 1, timezone: 'Europe/Berlin' })) as [string]
    worker.on(bad, { fail: new PermanentError('Worker answered 410: user deleted their account', { status: 410 }) })
    scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5, retry: { limit: 0 } })
    await scheduler.start()
    firstRun = await scheduler.runNow()
    worker.on(bad, { fail: new Error('socket hang up') })
    await scheduler.runSubscription(bad)

    server = http.createServer(createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger }))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: ZONE })
    page = await context.newPage()
    problems = watchProblems(page, (url) => (url === `${base}/` && !signedIn) || UPCOMING_PROBE.test(url))
    await signInWithForm(page, `${base}/`, TOKEN)
    signedIn = true
  })

  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => server?.close(resolve))
    await scheduler?.stop({ timeoutMs: 2000 })
  })

  test("a failing subscription's link opens its page: the row, times in its own zone, and its failed attempts", async () => {
    const probed = page.waitForResponse((r) => UPCOMING_PROBE.test(r.url()))
    await page.locator(`#failing a[data-subscription-link="${bad}"]`).click()
    expect(page.url()).toBe(`${base}/#/subscriptions/${bad}`)
    await field('status').waitFor()
    const row = await scheduler.getSubscription(bad)
    expect(await page.locator('#sub-id').textContent()).toBe(bad)
    expect(await field('status').textContent()).toBe('failed')
    expect(await field('pausedReason').textContent()).toBe('—')
    expect(await field('frequency').textContent()).toBe('daily')
    expect(await field('timezone').textContent()).toBe('Europe/Berlin')
    expect(await field('attempts').textContent()).toBe(String(row.attempts))
    expect(await field('consecutiveFailures').textContent()).toBe('2')
    expect(await field('error').textContent()).toContain('socket hang up')
    for (const name of ['scheduledFor', 'nextRunAt', 'lastRunAt'] as const) {
      const value = row[name]
      const text = await field(name).textContent()
      if (value === null) expect({ name, text }).toEqual({ name, text: '—' })
      else expect({ name, text }).toEqual({ name, text: expect.stringMatching(new RegExp(`^${wall(value, 'Europe/Berlin')} CES?T \\(Europe/Berlin\\)$`)) })
    }

    const attempts = page.locator('#sub-attempts tbody tr[data-attempt]')
    expect(await attempts.count()).toBe(2)
    expect(await attempts.locator('td.err').allTextContents()).toEqual([expect.stringContaining('socket hang up'), expect.stringContaining('user deleted their account')])
    // The HTTP status of each attempt, where the scheduler recorded one.
    expect(await attempts.locator('td:nth-child(5)').allTextContents()).toEqual(row.recentErrors.map((f) => (f.status === null ? '—' : String(f.status))))

    // The scheduling controls wait for their routes: the router's 404 keeps them hidden.
    expect((await probed).status()).toBe(404)
    expect(await page.locator('#sub-schedule').isHidden()).toBe(true)
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
  })

  test('"Retry" re-drives that failed subscription, and its page follows it to completed', async () => {
    worker.on(bad, { result: { ok: true } })
    await page.getByRole('button', { name: 'Retry', exact: true }).click()
    await page.locator('#notice a[data-run-link]').waitFor()
    await page.waitForFunction(() => document.querySelector('#sub-fields [data-field="status"]')?.textContent === 'completed')
    expect((await scheduler.getSubscription(bad)).status).toBe('completed')
    expect(await page.getByRole('button', { name: 'Retry', exact: true }).isDisabled()).toBe(true)
  })

  test('the search box opens a subscription by id, and says what is wrong with anything else', async () => {
    await page.getByLabel('Subscription id').fill('not-an-id')
    await page.getByLabel('Subscription id').press('Enter')
    await page.locator('#notice.error', { hasText: 'Enter a subscription id: a UUID' }).waitFor()

    await page.getByLabel('Subscription id').fill(` ${ok[0]!.toUpperCase()} `)
    await page.getByRole('button', { name: 'Open' }).click()
    await page.waitForURL(`${base}/#/subscriptions/${ok[0]}`)
    await page.waitForFunction((id) => document.querySelector('#sub-id')?.textContent === id && document.querySelector('#sub-fields [data-field="status"]'), ok[0])
    expect(await field('status').textContent()).toBe('completed')
    expect(await field('timezone').textContent()).toBe("UTC (the scheduler's default)")
  })

  test('"Pause" then "Resume" change the row, on the page and in the database', async () => {
    await page.getByRole('button', { name: 'Pause', exact: true }).click()
    await page.waitForFunction(() => document.querySelector('#sub-fields [data-field="status"]')?.textContent === 'paused')
    expect(await field('pausedReason').textContent()).toBe('manual')
    expect(await scheduler.getSubscription(ok[0]!)).toMatchObject({ status: 'paused', pausedReason: 'manual' })
    expect(await page.getByRole('button', { name: 'Pause', exact: true }).isDisabled()).toBe(true)

    await page.getByRole('button', { name: 'Resume' }).click()
    await page.waitForFunction(() => document.querySelector('#sub-fields [data-field="status"]')?.textContent === 'pending')
    expect(await scheduler.getSubscription(ok[0]!)).toMatchObject({ status: 'pending', pausedReason: null })
  })

  test('"Process now" runs it as a run of its own, whose page the notice links to', async () => {
    await page.getByRole('button', { name: 'Process now' }).click()
    const link = page.locator('#notice a[data-run-link]')
    await link.waitFor()
    const runId = await link.getAttribute('data-run-link')
    await link.click()
    expect(page.url()).toBe(`${base}/#/runs/${runId}`)
    await page.waitForFunction(() => document.querySelector('#run-fields [data-field="state"]')?.textContent === 'ok')
    expect(await runField('trigger').textContent()).toBe('single')
    expect(await runField('processed').textContent()).toBe('1')
    expect(await page.locator('#run-failures td.empty').textContent()).toBe('No failed attempts in this run.')
  })

  test('a run page shows its counts, duration, lateness, and the attempts that failed in it', async () => {
    await page.goto(`${base}/#/`)
    await page.locator(`#runs a[data-run-link="${firstRun.runId}"]`).click()
    await runField('processed').waitFor()
    expect(await page.locator('#run-id').textContent()).toBe(firstRun.runId)
    expect(await runField('trigger').textContent()).toBe('manual')
    expect([await runField('processed').textContent(), await runField('successful').textContent(), await runField('failed').textContent()]).toEqual(['4', '3', '1'])
    expect(await runField('duration').textContent()).toMatch(/^\d+(\.\d)? m?s$/)
    expect(await runField('startedAt').textContent()).toMatch(new RegExp(`^${wall(firstRun.startedAt, ZONE)} E[SD]T$`))
    // The fire lateness the engine recorded for the run's calls.
    const recorded = await scheduler.getRun(firstRun.runId)
    expect(recorded.latenessP50Ms).not.toBeNull()
    expect(await runField('latenessP50').textContent()).toMatch(/^\d+(\.\d)? m?s$/)
    expect(await runField('latenessP95').textContent()).toMatch(/^\d+(\.\d)? m?s$/)

    const failures = page.locator('#run-failures tbody tr[data-subscription-id]')
    expect(await failures.count()).toBe((await scheduler.listFailures({ runId: firstRun.runId })).length)
    expect(await failures.count()).toBe(1)
    expect(await failures.locator('td.err').textContent()).toContain('user deleted their account')
    await failures.locator(`a[data-subscription-link="${bad}"]`).click()
    await page.waitForURL(`${base}/#/subscriptions/${bad}`)
    await page.waitForFunction((id) => document.querySelector('#sub-id')?.textContent === id, bad)
  })

  test('the scheduling controls appear once the upcoming route answers, and post skip and pause-until', async () => {
    // The engine adds these routes later; until then this page's browser answers them, so that
    // the dashboard's side of the contract is tested now.
    const second = await context.newPage()
    const extra = watchProblems(second, () => false)
    const posted: { path: string; body: string | null }[] = []
    const upcoming = ['2030-03-01T08:00:00.000Z', '2030-03-02T08:00:00.000Z', '2030-03-03T08:00:00.000Z', '2030-03-04T08:00:00.000Z', '2030-03-05T08:00:00.000Z']
    await second.route(UPCOMING_PROBE, (route) => route.fulfill({ json: { upcoming } }))
    await second.route(/\/subscriptions\/[0-9a-f-]{36}\/(skip|pause)$/, (route) => {
      posted.push({ path: new URL(route.request().url()).pathname, body: route.request().postData() })
      return route.fulfill({ json: {} })
    })
    await second.goto(`${base}/#/subscriptions/${bad}`)
    await second.locator('#sub-schedule').waitFor()
    expect(await second.locator('#sub-upcoming li').allTextContents()).toEqual(upcoming.map((iso) => `${wall(new Date(iso), 'Europe/Berlin')} CET (Europe/Berlin)`))
    expect(await second.locator('#sub-until-zone').textContent()).toBe(ZONE)

    await second.getByRole('button', { name: 'Skip next run' }).click()
    await second.locator('#notice', { hasText: 'Skipped the next run.' }).waitFor()
    await second.locator('#sub-until').fill('2030-03-01T09:00')
    await second.getByRole('button', { name: 'Pause until' }).click()
    await second.locator('#notice', { hasText: 'Paused until' }).waitFor()
    expect(posted).toEqual([
      { path: `/subscriptions/${bad}/skip`, body: null },
      // 09:00 in New York on 1 March 2030 (EST, UTC-5).
      { path: `/subscriptions/${bad}/pause`, body: JSON.stringify({ until: '2030-03-01T14:00:00.000Z' }) },
    ])
    await second.close()
    expect(extra).toEqual([])
  })

  test('the views ran under the CSP without a single violation or script error', () => {
    expect(problems).toEqual([])
  })
})
