/**
 * The dashboard in a real headless Chromium, served by the real handler over node:http against
 * a started scheduler: sign-in by ?token=, live counts, "Run now" and "Retry failed", escaping
 * of worker errors, and a CSP the page itself never trips. Leaves docs/dashboard.png behind.
 */
import { mkdirSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { browserUnavailable, launchChromium } from './support/browser.js'
import { createTestDatabase } from './support/database.js'
import { seedSubscriptions } from './support/seed.js'

const TOKEN = 'dashboard-test-token-0123456789abcdef'
const SCREENSHOT = fileURLToPath(new URL('../docs/dashboard.png', import.meta.url))
const unavailable = browserUnavailable()

const runIds = (page: Page) => page.locator('#runs tbody tr[data-run-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')!))

/** Waits until the runs table shows a run that is not in `known`, and returns its id. */
async function newRunRow(page: Page, known: string[]): Promise<string> {
  const handle = await page.waitForFunction((ids) => {
    const row = [...document.querySelectorAll('#runs tbody tr[data-run-id]')].find((tr) => !ids.includes(tr.getAttribute('data-run-id')!))
    return row?.getAttribute('data-run-id')
  }, known)
  return (await handle.jsonValue()) as string
}

describe.skipIf(unavailable !== undefined)(`dashboard in Chromium${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const logger = captureLogger()
  const worker = createFakeWorkerClient()
  let scheduler: SubscriptionScheduler
  let server: http.Server
  let browser: Browser
  let page: Page
  let base: string
  const problems: string[] = []
  let signedIn = false

  beforeAll(async () => {
    const db = await createTestDatabase()
    await seedSubscriptions(db.pool, { count: 12 })
    await seedSubscriptions(db.pool, { count: 3, status: 'completed', nextRunInSeconds: 6 * 3600 })
    await seedSubscriptions(db.pool, { count: 2, status: 'paused' })
    const [declined, gone] = (await seedSubscriptions(db.pool, { count: 2 })) as [string, string]
    worker.on(declined, { fail: new Error('Worker answered 402: <img src=x id=injected> card declined') })
    worker.on(gone, { fail: new Error('Worker answered 410: user deleted their account') })
    scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5, retry: { limit: 0 } })
    await scheduler.start()
    await scheduler.runNow()

    server = http.createServer(createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger }))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.on('console', (message) => {
      if (message.type() !== 'error') return
      // Chromium logs every 4xx it loads; the sign-in page's own 401 is expected, nothing else is.
      const expected = message.text().startsWith('Failed to load resource') && message.location().url === `${base}/` && !signedIn
      if (!expected) problems.push(`${message.text()} (${message.location().url})`)
    })
    page.on('pageerror', (error) => void problems.push(error.message))
  })

  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => server?.close(resolve))
    await scheduler?.stop({ timeoutMs: 2000 })
  })

  test('signs in with the form, and the cookie holds a session, not the token', async () => {
    const response = await page.goto(`${base}/`)
    expect(response?.status()).toBe(401)
    await page.getByLabel('Admin token').fill(TOKEN)
    await Promise.all([page.waitForURL(`${base}/`), page.getByRole('button', { name: 'Sign in' }).click()])
    await page.locator('#run-now').waitFor()
    signedIn = true
    const [cookie] = await page.context().cookies()
    expect(cookie).toMatchObject({ name: 'pss_admin', httpOnly: true, sameSite: 'Strict', path: '/' })
    expect(cookie!.value).not.toContain(TOKEN.slice(0, 12))
  })

  test('shows the counts by status, the next sweep, the last run and the failures', async () => {
    const count = (status: string) => page.locator(`[data-status="${status}"] .n`)
    await count('completed').waitFor()
    expect(await count('completed').textContent()).toBe('15')
    expect(await count('failed').textContent()).toBe('2')
    expect(await count('paused').textContent()).toBe('2')
    expect(await count('total').textContent()).toBe('19')
    expect(await page.locator('#next-fire').textContent()).toMatch(/\(in /)

    const rows = page.locator('#runs tbody tr[data-run-id]')
    expect(await rows.count()).toBe(1)
    expect(await rows.first().locator('td').allTextContents()).toEqual([expect.any(String), 'manual', '2 failed', expect.stringMatching(/\d+(\.\d)? m?s/), '14', '12', '2', '0', '0'])

    const failures = page.locator('#failures tbody tr')
    expect(await failures.count()).toBe(2)
    const errors = await failures.locator('td.err').allTextContents()
    expect(errors).toContain('Worker answered 402: <img src=x id=injected> card declined')
    // The worker's text is shown as text, never parsed as markup.
    expect(await page.locator('#injected').count()).toBe(0)
  })

  test('"Run now" starts a run, and its row appears and settles without a reload', async () => {
    const before = await runIds(page)
    await page.getByRole('button', { name: 'Run now' }).click()
    const runId = await newRunRow(page, before)
    await page.locator('#notice', { hasText: `run ${runId}` }).waitFor()
    const row = page.locator(`#runs tbody tr[data-run-id="${runId}"]`)
    await row.locator('.pill', { hasNotText: 'running' }).waitFor()
    // Only the two failed subscriptions were due again.
    expect(await row.locator('td').nth(4).textContent()).toBe('2')
  })

  test('"Retry failed" re-drives the failed subscriptions as a retry run', async () => {
    worker.reset() // the worker recovers
    const before = await runIds(page)
    await page.getByRole('button', { name: 'Retry failed' }).click()
    const runId = await newRunRow(page, before)
    const row = page.locator(`#runs tbody tr[data-run-id="${runId}"]`)
    await row.locator('.pill', { hasText: 'ok' }).waitFor()
    expect(await row.locator('td').nth(1).textContent()).toBe('retry')
    await page.waitForFunction(() => document.querySelector('[data-status="completed"] .n')?.textContent === '17')
    expect(await page.locator('[data-status="failed"] .n').textContent()).toBe('0')

    mkdirSync(fileURLToPath(new URL('../docs/', import.meta.url)), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
  })

  test('the page ran under its CSP without a single violation or script error', () => {
    expect(problems).toEqual([])
  })
})
