/**
 * The dashboard's subscriptions page in a real headless Chromium: reached from the overview's
 * status cards, it lists the subscriptions of a status (inactive too) or of one user, 50 a page
 * in id order, each page what `listSubscriptions()` gives, and says what is wrong with a bad
 * address.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { browserUnavailable, expectRowsShown, launchChromium, signInWithForm, watchProblems } from './support/browser.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { listen } from './support/listen.js'
import type { Listening } from './support/listen.js'
import { seedSubscriptions } from './support/seed.js'

const TOKEN = 'dashboard-subscriptions-token-0123456789'
const unavailable = browserUnavailable()

describe.skipIf(unavailable !== undefined)(`the subscriptions page in Chromium${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const logger = captureLogger()
  let db: TestDatabase
  let scheduler: SubscriptionScheduler
  let server: Listening
  let browser: Browser
  let page: Page
  let base: string
  let problems: string[]
  let paused: string[]
  let inactive: string[]

  const ROWS = '#all-subscriptions tbody tr[data-subscription-id]'

  const expectShown = (expected: string[]) => expectRowsShown(page, ROWS, 'data-subscription-id', expected)

  beforeAll(async () => {
    db = await createTestDatabase()
    paused = await seedSubscriptions(db.pool, { count: 70, status: 'paused' })
    inactive = await seedSubscriptions(db.pool, { count: 3, active: false })
    await seedSubscriptions(db.pool, { count: 20, status: 'completed', nextRunInSeconds: 3600 })
    scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger, migrate: false })
    server = await listen(createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger }))
    base = server.base
    browser = await launchChromium()
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' })).newPage()
    // The page's refusal of a bad address is asked of no API.
    problems = watchProblems(page, (url) => url === `${base}/`)
    await signInWithForm(page, `${base}/`, TOKEN)
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await scheduler?.stop({ timeoutMs: 2000 })
  })

  test("the overview's paused card lists the paused subscriptions, 50 a page in id order, each what listSubscriptions() gives", async () => {
    await page.locator('#counts .card[data-status="paused"] a').click()
    await page.waitForURL(/#\/subscriptions\?status=paused$/)
    const all = (await scheduler.listSubscriptions({ status: 'paused', limit: 1000 })).map((s) => s.subscriptionId)
    expect([...all].sort()).toEqual([...paused].sort())
    await expectShown(all.slice(0, 50))
    expect(await page.locator('#subs-status').inputValue()).toBe('paused')
    await page.locator('#subs-next').click()
    await expectShown(all.slice(50))
    expect(await page.locator('#subs-next').isHidden()).toBe(true)
    await page.locator('#subs-first').click()
    await expectShown(all.slice(0, 50))
    await page.locator(`${ROWS} a[data-subscription-link]`).first().click()
    await page.waitForURL(new RegExp(`#/subscriptions/${all[0]}$`))
  })

  test('the status filter lists the inactive ones, and a user id finds that user\'s subscription', async () => {
    await page.goto(`${base}/#/subscriptions`)
    await page.locator('#subs-status').selectOption('inactive')
    await expectShown([...inactive].sort())
    expect(await page.locator(`${ROWS} .pill`).allTextContents()).toEqual(['inactive', 'inactive', 'inactive'])
    const { rows } = await db.pool.query<{ user_id: string }>(`SELECT user_id::text FROM subscriptions WHERE id = $1`, [paused[3]])
    await page.locator('#subs-status').selectOption('')
    await page.locator('#subs-user').fill(rows[0]!.user_id)
    await page.locator('#subs-find button[type="submit"]').click()
    await expectShown([paused[3]!])
    expect(page.url()).toContain(`user=${rows[0]!.user_id}`)
  })

  test('arrowing through the status filter loads the list it stops on, not one per key; times in UTC say it once', async () => {
    // A trial's keyboard user loaded five lists on the way to "paused", and read "09:30 UTC (UTC)".
    await page.goto(`${base}/#/subscriptions`)
    await page.locator(ROWS).first().waitFor()
    const asked = new Set<string>()
    const watch = (request: { url(): string }) => {
      const status = /\/subscriptions\?(?:.*&)?status=([a-z]+)/.exec(request.url())?.[1]
      if (status) asked.add(status)
    }
    page.on('request', watch)
    try {
      await page.locator('#subs-status').focus()
      for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown')
      await page.waitForURL(/#\/subscriptions\?status=completed$/)
      await page.locator(ROWS).first().waitFor()
    } finally {
      page.off('request', watch)
    }
    expect([...asked]).toEqual(['completed'])
    const times = await page.locator(`${ROWS} time`).allTextContents()
    expect(times.length).toBeGreaterThan(0)
    expect(times.filter((t) => !/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/.test(t))).toEqual([])
  })

  test('a refresh while a status is being chosen keeps the choice, and its list comes', async () => {
    // Under load, the page's own refresh put the status shown back under a keyboard user's arrow
    // keys, and the list chosen never came.
    await page.goto(`${base}/#/subscriptions`)
    await page.locator(ROWS).first().waitFor()
    await page.locator('#subs-status').focus()
    await page.keyboard.press('ArrowDown') // pending
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')))
    expect(await page.locator('#subs-status').inputValue()).toBe('pending')
    await page.waitForURL(/#\/subscriptions\?status=pending$/)
  })

  test("the header's search box shows the subscription open, and is empty on other pages", async () => {
    await page.goto(`${base}/#/subscriptions/${paused[0]}`)
    await page.locator('#view-subscription').waitFor()
    expect(await page.locator('#search-id').inputValue()).toBe(paused[0])
    await page.goto(`${base}/#/subscriptions`)
    await page.locator(ROWS).first().waitFor()
    expect(await page.locator('#search-id').inputValue()).toBe('')
  })

  test('an address naming no status says what is wrong and shows nothing', async () => {
    await page.goto(`${base}/#/subscriptions?status=sleeping`)
    const notice = page.locator('#notice.error', { hasText: '"sleeping" is not a status' })
    await notice.waitFor()
    expect(await page.locator(ROWS).count()).toBe(0)
    // Each status once, in the notice as in the filter: "inactive" was listed twice.
    expect(await notice.textContent()).toMatch(/they are pending, queued, processing, completed, failed, paused, ended, inactive\.$/)
    expect(await page.locator('#subs-status option').allTextContents()).toEqual(['all', 'pending', 'queued', 'processing', 'completed', 'failed', 'paused', 'ended', 'inactive'])
  })

  test('an address with a filter the page does not know says so and lists nothing, rather than every subscription', async () => {
    // A trial's support engineer typed userId=<id>, as the API spells it, and read the whole list as that user's.
    await page.goto(`${base}/#/subscriptions?userId=${paused[3]}`)
    await page.locator('#notice.error', { hasText: '"userId" is not a filter of this page: they are status, user and after (user=<id>).' }).waitFor()
    expect(await page.locator(ROWS).count()).toBe(0)
  })

  test('the page ran under the CSP without a single violation or script error', () => {
    expect(problems).toEqual([])
  })
})
