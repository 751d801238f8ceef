/**
 * The dashboard's runs page in a real headless Chromium: the whole run history, newest first, 50
 * runs a page, paged back and forth through its links and filtered by trigger, each page what
 * `listRuns()` gives; and what a bad address says. Leaves docs/dashboard-runs.png behind.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { browserUnavailable, expectRowsShown, launchChromium, screenshotPath, signInWithForm, watchProblems } from './support/browser.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { listen } from './support/listen.js'
import type { Listening } from './support/listen.js'

const TOKEN = 'dashboard-runs-token-0123456789abcdef'
const UNKNOWN_RUN = '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9'
const unavailable = browserUnavailable()

describe.skipIf(unavailable !== undefined)(`the runs page in Chromium${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const logger = captureLogger()
  let db: TestDatabase
  let scheduler: SubscriptionScheduler
  let server: Listening
  let browser: Browser
  let page: Page
  let base: string
  let problems: string[]

  const ROWS = '#all-runs tbody tr[data-run-id]'

  const expectShown = (expected: string[]) => expectRowsShown(page, ROWS, 'data-run-id', expected)

  beforeAll(async () => {
    db = await createTestDatabase()
    // 120 finished runs a minute apart, every fourth a backfill.
    await db.pool.query(
      `INSERT INTO subscription_scheduler.runs (trigger, started_at, sweep_finished_at, finished_at, claimed, successful)
       SELECT CASE WHEN n % 4 = 0 THEN 'backfill' ELSE 'cron' END, t, t + interval '2 seconds', t + interval '3 seconds', 10, 10
         FROM generate_series(1, 120) AS n, LATERAL (SELECT timestamptz '2026-11-01 09:00:00+00' + n * interval '1 minute' AS t) AS at`,
    )
    scheduler = createSubscriptionScheduler(db.pool, { workerClient: createFakeWorkerClient(), logger, migrate: false })
    server = await listen(createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger }))
    base = server.base
    browser = await launchChromium()
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' })).newPage()
    // The page's refusals of bad addresses are asked of the API on purpose.
    problems = watchProblems(page, (url) => url === `${base}/` || url.includes('/runs?limit=51&before='))
    await signInWithForm(page, `${base}/`, TOKEN)
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await scheduler?.stop({ timeoutMs: 2000 })
  })

  test('"All runs" pages back 50 at a time to the first run, and "Newest runs" comes back: each page what listRuns() gives', async () => {
    const all = (await scheduler.listRuns({ limit: 1000 })).map((r) => r.runId)
    expect(all).toHaveLength(120)
    await page.getByRole('link', { name: 'All runs →' }).click()
    await page.waitForURL(`${base}/#/runs`)
    await expectShown(all.slice(0, 50))
    expect(await page.locator('#runs-newest').isHidden()).toBe(true)
    await page.screenshot({ path: screenshotPath('dashboard-runs.png') })

    await page.getByRole('link', { name: 'Older runs →' }).click()
    await page.waitForURL(`${base}/#/runs?before=${all[49]}`)
    await expectShown(all.slice(50, 100))
    await page.getByRole('link', { name: 'Older runs →' }).click()
    await expectShown(all.slice(100))
    expect(await page.locator('#runs-older').isHidden()).toBe(true)

    // The browser's Back goes to the page before; "Newest runs" to the first.
    await page.goBack()
    await expectShown(all.slice(50, 100))
    await page.getByRole('link', { name: '← Newest runs' }).click()
    await page.waitForURL(`${base}/#/runs`)
    await expectShown(all.slice(0, 50))
  })

  test('the trigger filter keeps that trigger\'s runs, in the address too, and pages within them', async () => {
    const newest = (await scheduler.listRuns({ limit: 50 })).map((r) => r.runId)
    const backfills = (await scheduler.listRuns({ trigger: 'backfill', limit: 1000 })).map((r) => r.runId)
    expect(backfills).toHaveLength(30)
    await page.goto(`${base}/#/runs`)
    await expectShown(newest)
    await page.getByLabel('Trigger').selectOption('backfill')
    await page.waitForURL(`${base}/#/runs?trigger=backfill`)
    await expectShown(backfills)
    expect(await page.locator('#all-runs tbody td:nth-child(2)').allTextContents()).toEqual(Array(30).fill('backfill'))
    expect(await page.locator('#runs-older').isHidden()).toBe(true)

    await page.goto(`${base}/#/runs?trigger=backfill&before=${backfills[9]}`)
    await expectShown(backfills.slice(10))
    expect(await page.getByLabel('Trigger').inputValue()).toBe('backfill')
    await page.getByLabel('Trigger').selectOption('')
    await page.waitForURL(`${base}/#/runs`)
    await expectShown(newest)
  })

  test('an address naming no trigger or no run says what is wrong, shows nothing of the page before, and offers the newest runs', async () => {
    const backfills = (await scheduler.listRuns({ trigger: 'backfill', limit: 50 })).map((r) => r.runId)
    // Each bad address is opened from a good page, in the same tab, as a typo in the address bar is.
    for (const [address, says] of [
      ['#/runs?trigger=nightly', '"nightly" is not a trigger: runs are started by cron, catch-up'],
      [`#/runs?before=abc`, '"abc" is not a run id'],
      ['#/runs?trigger=cron,backfill', 'This page filters by one trigger at a time, not "cron,backfill" (GET /runs?trigger= takes several)'],
      [`#/runs?before=${UNKNOWN_RUN}`, `No run with id ${UNKNOWN_RUN}`],
    ] as const) {
      await page.goto(`${base}/#/runs?trigger=backfill`)
      await expectShown(backfills)
      await page.evaluate((hash) => { location.hash = hash }, address)
      await page.locator('#notice.error', { hasText: says }).waitFor()
      await expectShown([])
      expect(await page.getByLabel('Trigger').inputValue(), address).toBe('')
      expect(await page.locator('#runs-older').isHidden()).toBe(true)
      await page.getByRole('link', { name: '← Newest runs' }).click()
      await page.waitForURL(`${base}/#/runs`)
    }
  })

  test('an address of no page shows the overview, saying so', async () => {
    await page.goto(`${base}/#/nope`)
    await page.locator('#notice.error', { hasText: 'There is no page at #/nope: this is the overview.' }).waitFor()
    expect(await page.locator('#view-home').isVisible()).toBe(true)
  })

  test("a run's page shows its failed attempts 200 at a time with Older and Newest, filters them by outcome, and shows a long error's start until clicked", async () => {
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO subscription_scheduler.runs (trigger, started_at, sweep_finished_at, finished_at, claimed, failed, retried)
       VALUES ('cron', '2026-11-02 09:00:00+00', '2026-11-02 09:00:01+00', '2026-11-02 09:10:00+00', 205, 175, 30) RETURNING id::text`,
    )
    const runId = rows[0]!.id
    // 205 attempts a second apart: every seventh retried, every tenth with a 300-character body.
    await db.pool.query(
      `INSERT INTO subscription_scheduler.failures (processing_id, subscription_id, run_id, scheduled_for, attempt, final, error, status, failed_at)
       SELECT gen_random_uuid(), gen_random_uuid(), $1, '2026-11-02 09:00:00+00', 1, n % 7 <> 0,
              CASE WHEN n % 10 = 0 THEN 'Worker answered 500: ' || repeat('x', 300) ELSE 'Worker answered 500 #' || n END, 500,
              timestamptz '2026-11-02 09:00:00+00' + n * interval '1 second'
         FROM generate_series(1, 205) AS n`,
      [runId],
    )
    const failures = page.locator('#run-failures tbody tr[data-subscription-id]')
    const count = async (n: number) => {
      await page.waitForFunction(([sel, want]) => document.querySelectorAll(sel).length === want, ['#run-failures tbody tr[data-subscription-id]', n] as const, { timeout: 10_000 }).catch(() => undefined)
      expect(await failures.count()).toBe(n)
    }
    const reads: string[] = []
    page.on('request', (request) => void (request.url().includes(`/failures?runId=${runId}`) && reads.push(request.url())))
    await page.goto(`${base}/#/runs/${runId}`)
    await count(200)
    // A finished run is not read again by the page's refresh (each 3 s, and on coming back to the tab).
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')))
    expect(await failures.first().locator('td.err').textContent()).toBe('Worker answered 500 #205')
    expect(await page.locator('#run-failures-older').isVisible()).toBe(true)
    expect(await page.locator('#run-failures-newest').isVisible()).toBe(false)
    // #200 carries the long body: its start, and the rest once clicked.
    const long = failures.nth(5).locator('td.err details')
    expect(await long.locator('summary').textContent()).toMatch(/^Worker answered 500: x+… \(all 321 characters\)$/)
    expect(await long.locator('.err-rest').isVisible()).toBe(false)
    await long.locator('summary').click()
    expect(await long.locator('.err-rest').isVisible()).toBe(true)

    await Promise.all([page.waitForResponse((r) => r.url().includes('&before=')), page.locator('#run-failures-older').click()])
    expect(reads.filter((url) => !url.includes('&before='))).toHaveLength(1)
    await count(5)
    expect(await failures.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td.err')!.textContent))).toEqual(['Worker answered 500 #5', 'Worker answered 500 #4', 'Worker answered 500 #3', 'Worker answered 500 #2', 'Worker answered 500 #1'])
    expect(await page.locator('#run-failures-older').isVisible()).toBe(false)
    await page.locator('#run-failures-newest').click()
    await count(200)

    await page.locator('#run-failures-outcome').selectOption('false')
    await count(29)
    expect(await failures.locator('td .pill', { hasText: 'failed' }).count()).toBe(0)
    await page.locator('#run-failures-outcome').selectOption('true')
    await count(176)
    expect(await page.locator('#run-failures-older').isVisible()).toBe(false)
  })

  test('the page ran under the CSP without a single violation or script error', () => {
    expect(problems).toEqual([])
  })
})
