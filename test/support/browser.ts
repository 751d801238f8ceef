/**
 * Headless Chromium for browser tests, through playwright-core (no bundled browser download).
 * CI installs the system package; locally, tests that need it are skipped, saying why, when
 * it is absent.
 */
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { expect } from 'vitest'

/**
 * Where a test saves a screenshot: the README's docs/ when UPDATE_SCREENSHOTS=1 (to refresh
 * them), else the temporary directory, so that a test run leaves the tree as it found it.
 */
export function screenshotPath(name: string): string {
  return process.env.UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL(`../../docs/${name}`, import.meta.url)) : join(tmpdir(), `pss-${process.pid}-${name}`)
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Why browser tests cannot run here, or undefined when they can. */
export function browserUnavailable(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set CHROMIUM_PATH to run the browser tests.`
}

export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  })
}

/** The subscription page's request for its next five runs, `GET /subscriptions/:id/upcoming?count=5`. */
export const UPCOMING_REQUEST = /\/subscriptions\/[0-9a-f-]{36}\/upcoming\?count=5$/

/**
 * Collects what a page must never produce: script errors and console errors, which include CSP
 * violations. Chromium also logs every 4xx it loads as a console error; `expected(url)` says which
 * such loads a test causes on purpose (the sign-in page's 401).
 */
export function watchProblems(page: Page, expected: (url: string) => boolean): string[] {
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    const url = message.location().url
    if (message.text().startsWith('Failed to load resource') && expected(url)) return
    problems.push(`${message.text()} (${url})`)
  })
  page.on('pageerror', (error) => void problems.push(error.message))
  return problems
}

/**
 * How many requests the page's refresh sends, counted as they are asked for: a tab shown again
 * refreshes at once, so a visibilitychange starts one.
 */
export async function fetchesOnRefresh(page: Page): Promise<number> {
  return await page.evaluate(() => {
    let calls = 0
    const original = window.fetch
    window.fetch = (...args: Parameters<typeof fetch>) => ((calls += 1), original(...args))
    document.dispatchEvent(new Event('visibilitychange'))
    window.fetch = original
    return calls
  })
}

/** Signs in through the dashboard's form, as an operator does, and waits for the overview. */
export async function signInWithForm(page: Page, dashboardUrl: string, token: string): Promise<void> {
  await page.goto(dashboardUrl)
  await page.getByLabel('Admin token').fill(token)
  await Promise.all([page.waitForURL(dashboardUrl), page.getByRole('button', { name: 'Sign in' }).click()])
  await page.locator('#counts .card').first().waitFor()
}

/**
 * Waits (with a deadline) for the rows `rows` to carry these values of `attribute`, top to
 * bottom, and says what they carry if they do not.
 */
export async function expectRowsShown(page: Page, rows: string, attribute: string, expected: string[]): Promise<void> {
  const want = JSON.stringify(expected)
  const shown = ([selector, name]: readonly [string, string]) => [...document.querySelectorAll(selector)].map((row) => row.getAttribute(name))
  await page.waitForFunction(([selector, name, ids]) => JSON.stringify([...document.querySelectorAll(selector)].map((row) => row.getAttribute(name))) === ids, [rows, attribute, want] as const, { timeout: 10_000 }).catch(() => undefined)
  expect(await page.evaluate(shown, [rows, attribute] as const)).toEqual(expected)
}
