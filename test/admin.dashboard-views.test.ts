/**
 * The dashboard's drill-down views in a real headless Chromium, against a started scheduler: the
 * subscription page (opened from a link and from the search box) with its times in the
 * subscription's own zone, its failed attempts and its buttons; its next runs, "Skip next run",
 * "Pause until" and its history, through the real routes; an ended subscription; the run page
 * with its failures. Leaves docs/dashboard-subscription.png behind.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { createSubscriptionScheduler, PermanentError } from '../src/index.js'
import type { RunSummary, SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { browserUnavailable, launchChromium, screenshotPath, signInWithForm, UPCOMING_REQUEST, watchProblems } from './support/browser.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { listen } from './support/listen.js'
import type { Listening } from './support/listen.js'
import { pollUntil } from './support/reliability-support.js'
import { seedSubscriptions } from './support/seed.js'

const TOKEN = 'dashboard-views-token-0123456789abcdef'
const ZONE = 'America/New_York'
const SCREENSHOT = screenshotPath('dashboard-subscription.png')
const unavailable = browserUnavailable()

/** A subscription's time as the page writes it: the wall time in its zone, the abbreviation, the zone. */
function inZone(date: Date, zone: string): string {
  // CET rather than GMT+1: the first of these locales that has a name for it, as the page picks.
  const names = ['en-US', 'en-GB'].map((locale) => new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName')!.value)
  return `${wall(date, zone)} ${names.find((name) => !/^(GMT|UTC)[+\-\u2212]/.test(name)) ?? names[0]} (${zone})`
}

/** A wall time as the page writes it, without the zone's abbreviation. */
function wall(date: Date, zone: string): string {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(date).map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

describe.skipIf(unavailable !== undefined)(`dashboard views in Chromium${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const logger = captureLogger()
  const worker = createFakeWorkerClient()
  let db: TestDatabase
  let scheduler: SubscriptionScheduler
  let server: Listening
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let base: string
  let problems: string[]
  let signedIn = false
  /** Requests a test makes to be refused: the browser logs their 400 as an error. */
  let refusalExpected = /^$/
  let bad: string
  let ok: string[]
  let firstRun: RunSummary

  const field = (name: string) => page.locator(`#sub-fields [data-field="${name}"]`)
  const runField = (name: string) => page.locator(`#run-fields [data-field="${name}"]`)

  beforeAll(async () => {
    db = await createTestDatabase()
    ok = await seedSubscriptions(db.pool, { count: 3 })
    ;[bad] = (await seedSubscriptions(db.pool, { count: 1, timezone: 'Europe/Berlin' })) as [string]
    worker.on(bad, { fail: new PermanentError('Worker answered 410: user deleted their account', { status: 410 }) })
    scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5, retry: { limit: 0 } })
    await scheduler.start()
    firstRun = await scheduler.runNow()
    worker.on(bad, { fail: new Error('socket hang up') })
    await scheduler.runSubscription(bad)

    server = await listen(createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger }))
    base = server.base
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: ZONE })
    page = await context.newPage()
    problems = watchProblems(page, (url) => (url === `${base}/` && !signedIn) || refusalExpected.test(url))
    await signInWithForm(page, `${base}/`, TOKEN)
    signedIn = true
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await scheduler?.stop({ timeoutMs: 2000 })
  })

  test("a link to a subscription's page, opened signed out, lands on that page after the sign-in form", async () => {
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: ZONE })
    try {
      const linked = await fresh.newPage()
      // The form answers 401 at the dashboard's address, and 401 again to the wrong token.
      const freshProblems = watchProblems(linked, (url) => [`${base}/`, `${base}/sign-in`].includes(url.split('#')[0]!))
      await linked.goto(`${base}/#/subscriptions/${bad}`)
      // A wrong token first: the form shown again keeps the page to go to.
      await linked.getByLabel('Admin token').fill('not-the-token-0123456789')
      await Promise.all([linked.waitForURL(`${base}/sign-in#/subscriptions/${bad}`), linked.getByRole('button', { name: 'Sign in' }).click()])
      await linked.getByLabel('Admin token').fill(TOKEN)
      await Promise.all([linked.waitForURL(`${base}/#/subscriptions/${bad}`), linked.getByRole('button', { name: 'Sign in' }).click()])
      await linked.waitForFunction((id) => document.querySelector('#sub-id')?.textContent === id, bad)
      expect(freshProblems).toEqual([])
    } finally {
      await fresh.close()
    }
  })

  test('a page opened names itself in the window title and takes focus to its heading, which a screen reader reads out', async () => {
    // The view changed without a word: a trial's screen reader said nothing when a link was followed.
    const opened = async (hash: string, title: string, heading: string) => {
      await page.evaluate((h) => { location.hash = h }, hash)
      await page.waitForFunction(([t, h]) => document.title === t && document.activeElement?.id === h, [title, heading] as const)
    }
    await opened('#/runs', 'Runs \u00b7 Subscription scheduler', 'h-all-runs')
    await opened(`#/subscriptions/${bad}`, `Subscription ${bad} \u00b7 Subscription scheduler`, 'h-subscription')
    await opened(`#/runs/${firstRun.runId}`, `Run ${firstRun.runId} \u00b7 Subscription scheduler`, 'h-run')
    await opened('#/subscriptions', 'Subscriptions \u00b7 Subscription scheduler', 'h-all-subscriptions')
    await opened('#/', 'Overview \u00b7 Subscription scheduler', 'h-counts')
    // A refresh of the page shown keeps focus where the user left it.
    await page.locator('#search-id').focus()
    await page.evaluate(() => window.dispatchEvent(new HashChangeEvent('hashchange')))
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('search-id')
  })

  test("a failing subscription's link opens its page: the row, times in its own zone, its next runs, and its failed attempts", async () => {
    const asked = page.waitForResponse((r) => UPCOMING_REQUEST.test(r.url()))
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
    // Its user links to that user's subscriptions.
    expect(await field('userId').locator('a').getAttribute('href')).toBe(`#/subscriptions?user=${row.userId}`)
    // Its failed slot run again by hand (runSubscription) is a re-drive, not another failed run.
    expect(await field('consecutiveFailures').textContent()).toBe('1')
    expect(await field('error').textContent()).toContain('socket hang up')
    expect(row.retryAt).toBeInstanceOf(Date)
    for (const name of ['scheduledFor', 'nextRunAt', 'lastRunAt'] as const) {
      const value = row[name]
      const text = await field(name).textContent()
      // A next run already past is the failed slot, which a sweep tries again once its delay has passed: said so, with when.
      const due = name === 'nextRunAt' && value !== null && value.getTime() <= Date.now() ? `failed: a sweep tries it again after ${wall(row.retryAt!, 'Europe/Berlin')} CES?T` : ''
      if (value === null) expect({ name, text }).toEqual({ name, text: '—' })
      else expect({ name, text }).toEqual({ name, text: expect.stringMatching(new RegExp(`^${wall(value, 'Europe/Berlin')} CES?T \\(Europe/Berlin\\)${due}$`)) })
    }

    const attempts = page.locator('#sub-attempts tbody tr[data-attempt]')
    expect(await attempts.count()).toBe(2)
    expect(await attempts.locator('td.err').allTextContents()).toEqual([expect.stringContaining('socket hang up'), expect.stringContaining('user deleted their account')])
    // The HTTP status of each attempt, where the scheduler recorded one.
    expect(await attempts.locator('td:nth-child(5)').allTextContents()).toEqual(row.recentErrors.map((f) => (f.status === null ? '—' : String(f.status))))

    // Its next five runs, in its own zone, as the scheduler computes them.
    expect((await asked).status()).toBe(200)
    await page.locator('#sub-schedule').waitFor()
    expect(await page.locator('#sub-upcoming li').allTextContents()).toEqual((await scheduler.upcoming(bad)).map((d) => inZone(d, 'Europe/Berlin')))
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
    // Tied to the field, which takes focus: a screen reader reads the error as the field's description.
    const box = page.getByLabel('Subscription id')
    expect(await box.evaluate((el) => [el.getAttribute('aria-invalid'), el.getAttribute('aria-describedby'), document.activeElement === el])).toEqual(['true', 'notice', true])
    await box.press('Backspace')
    expect(await box.getAttribute('aria-invalid')).toBeNull()

    await page.getByLabel('Subscription id').fill(` ${ok[0]!.toUpperCase()} `)
    await page.getByRole('button', { name: 'Open' }).click()
    await page.waitForURL(`${base}/#/subscriptions/${ok[0]}`)
    await page.waitForFunction((id) => document.querySelector('#sub-id')?.textContent === id && document.querySelector('#sub-fields [data-field="status"]'), ok[0])
    expect(await field('status').textContent()).toBe('completed')
    expect(await field('timezone').textContent()).toBe("UTC (the scheduler's default)")
    // No time of day of its own: the scheduler's is shown, not only named.
    expect(await field('runAt').textContent()).toBe("09:00 (UTC), the scheduler's")
  })

  test('"Pause" then "Resume" change the row, on the page and in the database', async () => {
    await page.getByRole('button', { name: 'Pause', exact: true }).click()
    await page.waitForFunction(() => document.querySelector('#sub-fields [data-field="status"]')?.textContent === 'paused')
    expect(await field('pausedReason').textContent()).toBe('manual')
    expect(await scheduler.getSubscription(ok[0]!)).toMatchObject({ status: 'paused', pausedReason: 'manual' })
    expect(await page.getByRole('button', { name: 'Pause', exact: true }).isDisabled()).toBe(true)
    // runSubscription() does nothing for a paused subscription: the button does not offer it, and says why.
    expect(await page.getByRole('button', { name: 'Process now' }).isDisabled()).toBe(true)
    expect(await page.getByRole('button', { name: 'Process now' }).getAttribute('title')).toBe('It is paused: resume it first.')
    expect(await page.getByRole('button', { name: 'Pause', exact: true }).getAttribute('title')).toBe('It is paused already, until resumed.')
    // Its stored slot is not a next run while it is paused with no end.
    expect(await field('nextRunAt').textContent()).toMatch(/^— \(paused until resumed; its slot was .+\)$/)

    await page.getByRole('button', { name: 'Resume' }).click()
    await page.waitForFunction(() => document.querySelector('#sub-fields [data-field="status"]')?.textContent === 'pending')
    expect(await scheduler.getSubscription(ok[0]!)).toMatchObject({ status: 'pending', pausedReason: null })
    expect(await page.getByRole('button', { name: 'Process now' }).isDisabled()).toBe(false)
    expect(await page.getByRole('button', { name: 'Process now' }).getAttribute('title')).toBeNull()
    expect(await page.getByRole('button', { name: 'Resume' }).getAttribute('title')).toBe('It is not paused.')
  })

  test('a subscription that is not enrolled says so, and leaves nothing loading and no action offered', async () => {
    const unknown = '00000000-0000-4000-8000-0000000000ab'
    refusalExpected = new RegExp(`/subscriptions/${unknown}$`)
    await page.goto(`${base}/#/subscriptions/${ok[1]}`)
    await page.waitForFunction(() => document.querySelector('#sub-fields [data-field="status"]'))
    await page.goto(`${base}/#/subscriptions/${unknown}`)
    await page.locator('#notice.error', { hasText: 'not enrolled' }).waitFor()
    expect(await page.locator('#view-subscription td.empty', { hasText: 'Loading' }).count()).toBe(0)
    for (const name of ['Process now', 'Pause', 'Resume', 'Retry']) {
      expect(await page.getByRole('button', { name, exact: true }).isDisabled(), name).toBe(true)
    }
    // Back to the subscription the next tests act on (the unknown id's refreshes keep being refused).
    await page.goto(`${base}/#/subscriptions/${ok[0]}`)
    await page.waitForFunction((id) => document.querySelector('#sub-id')?.textContent === id && document.querySelector('#sub-fields [data-field="status"]'), ok[0])
  })

  test('a page for an id that is not a UUID, or a run that does not exist, shows nothing of the page before, nothing loading, and no action', async () => {
    const unknownRun = '00000000-0000-4000-8000-0000000000cd'
    refusalExpected = new RegExp(`/(subscriptions/00000000-0000-4000-8000-0000000000ab|runs/${unknownRun}|failures\\?runId=${unknownRun}.*)$`)
    await page.goto(`${base}/#/subscriptions/${ok[1]}`)
    await page.waitForFunction((id) => document.querySelector('#sub-id')?.textContent === id && document.querySelector('#sub-fields [data-field="status"]'), ok[1])
    await page.goto(`${base}/#/subscriptions/not-a-uuid`)
    await page.locator('#notice.error', { hasText: '"not-a-uuid" is not an id' }).waitFor()
    expect(await page.locator('#sub-id').textContent()).toBe('not-a-uuid')
    expect(await page.locator('#sub-fields [data-field]').count()).toBe(0)
    for (const name of ['Process now', 'Pause', 'Resume', 'Retry']) {
      expect(await page.getByRole('button', { name, exact: true }).isDisabled(), name).toBe(true)
    }

    await page.goto(`${base}/#/runs/${firstRun.runId}`)
    await page.waitForFunction((id) => document.querySelector('#run-id')?.textContent === id && document.querySelector('#run-fields [data-field]'), firstRun.runId)
    await page.goto(`${base}/#/runs/${unknownRun}`)
    await page.locator('#notice.error').waitFor()
    await page.waitForFunction(() => !document.querySelector('#run-failures td.empty')?.textContent?.includes('Loading'))
    expect(await page.locator('#run-id').textContent()).toBe(unknownRun)
    expect(await page.locator('#run-fields [data-field]').count()).toBe(0)
    // Another page opened: the notice about this one goes.
    await page.goto(`${base}/#/`)
    await page.locator('#counts .card').first().waitFor()
    await page.waitForFunction(() => document.querySelector('#notice')?.textContent === '')
    await page.goto(`${base}/#/subscriptions/${ok[0]}`)
    await page.waitForFunction((id) => document.querySelector('#sub-id')?.textContent === id && document.querySelector('#sub-fields [data-field="status"]'), ok[0])
  })

  test('a frequency that names no cadence says so beside it: it runs daily', async () => {
    // A trial's support engineer read "Weekly" (for 'weekly') and believed it, while it ran daily.
    const [typo] = (await seedSubscriptions(db.pool, { count: 1, frequency: 'Weekly' })) as [string]
    await scheduler.enroll(typo)
    await page.goto(`${base}/#/subscriptions/${typo}`)
    const warning = page.locator('#sub-fields [data-field="frequency"] [data-unknown-frequency="daily"]')
    await warning.waitFor()
    expect(await field('frequency').textContent()).toBe('Weekly No cadence this scheduler knows (names are matched exactly): it runs daily, with a warning in the log. Set subscriptions.frequency to one of its cadences.')
  })

  test('a page opened directly while calls are paused shows the pause and the button that lifts it, and offers no Run now', async () => {
    await scheduler.pauseCalls({ note: 'incident 7' })
    try {
      await page.goto(`${base}/#/subscriptions/${ok[1]}`)
      await page.reload()
      await page.locator('#calls-paused', { hasText: 'Calls are paused on every instance since' }).waitFor()
      expect(await page.locator('#resume-calls').isVisible()).toBe(true)
      expect(await page.locator('#pause-calls').isVisible()).toBe(false)
      expect(await page.locator('#run-now').isDisabled()).toBe(true)
    } finally {
      await scheduler.resumeCalls()
    }
    await page.goto(`${base}/#/`)
    await page.reload()
    await page.locator('#calls-paused').waitFor({ state: 'hidden' })
    expect(await page.locator('#run-now').isDisabled()).toBe(false)
  })

  test('"Process now" is not offered while the subscription\'s own call is in flight', async () => {
    const [slow] = (await seedSubscriptions(db.pool, { count: 1 })) as [string]
    worker.on(slow, { hang: true })
    const before = worker.calls.length
    await scheduler.runSubscription(slow, { wait: false })
    await worker.waitForCalls(before + 1)
    await page.goto(`${base}/#/subscriptions/${slow}`)
    await page.waitForFunction(() => document.querySelector('#sub-fields [data-field="status"]')?.textContent === 'queued')
    expect(await scheduler.getSubscription(slow)).toMatchObject({ status: 'queued', inFlight: true })
    expect(await page.getByRole('button', { name: 'Process now' }).isDisabled()).toBe(true)
    await page.goto(`${base}/#/subscriptions/${ok[0]}`)
    await page.waitForFunction((id) => document.querySelector('#sub-id')?.textContent === id && document.querySelector('#sub-fields [data-field="status"]'), ok[0])
  })

  test('"Process now" asks first, saying it calls the worker again off its schedule; confirmed, it runs it as a run of its own, whose page the notice links to', async () => {
    // It completed in the first run: a trial's click charged it a second time that day, unasked.
    await page.getByRole('button', { name: 'Process now' }).click()
    const question = await page.locator('#confirm-text').textContent()
    expect(question).toMatch(new RegExp(`^Process ${ok[0]} now\\? It last completed at .+\\. The worker is called now, off its schedule, under a new idempotency key: for billing, another charge\\.$`))
    await page.getByRole('button', { name: 'Yes, process now' }).click()
    const link = page.locator('#notice a[data-run-link]')
    await link.waitFor()
    const runId = await link.getAttribute('data-run-link')
    await link.click()
    expect(page.url()).toBe(`${base}/#/runs/${runId}`)
    await page.waitForFunction(() => document.querySelector('#run-fields [data-field="state"]')?.textContent === 'ok').catch(async (error: unknown) => {
      // Once seen under a loaded CI: say where the run and the row were, not only that the page waited.
      const run = await scheduler.getRun(runId!)
      const row = await scheduler.getSubscription(ok[0]!)
      const shown = await runField('state').textContent().catch(() => null)
      throw new Error(`The run page showed ${JSON.stringify(shown)}, not "ok". Run: ${JSON.stringify(run)}. Subscription: ${JSON.stringify(row)}`, { cause: error })
    })
    expect(await runField('trigger').textContent()).toBe('single')
    expect(await runField('processed').textContent()).toBe('1')
    expect(await page.locator('#run-failures td.empty').textContent()).toBe('No failed attempts in this run.')
  })

  test('a run page shows its counts, duration, lateness, and the attempts that failed in it', async () => {
    await page.goto(`${base}/#/`)
    await page.locator(`#runs a[data-run-link="${firstRun.runId}"]`).click()
    // The run page the test before left may still be drawn: wait for this run's.
    await page.waitForFunction((id) => document.querySelector('#run-id')?.textContent === id, firstRun.runId)
    await runField('processed').waitFor()
    expect(await runField('trigger').textContent()).toBe('manual')
    expect([await runField('processed').textContent(), await runField('successful').textContent(), await runField('failed').textContent()]).toEqual(['4', '3', '1'])
    expect(await runField('duration').textContent()).toMatch(/^\d+(\.\d)? m?s$/)
    // A run's times are to the second.
    const second = String(firstRun.startedAt.getUTCSeconds()).padStart(2, '0')
    expect(await runField('startedAt').textContent()).toMatch(new RegExp(`^${wall(firstRun.startedAt, ZONE)}:${second} E[SD]T$`))
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

  describe('scheduling, through the real routes', () => {
    const BERLIN = 'Europe/Berlin'
    let id: string
    const texts = (selector: string) => page.locator(selector).allTextContents()
    const upcomingShown = () => texts('#sub-upcoming li')
    const expectedUpcoming = async () => (await scheduler.upcoming(id)).map((d) => inZone(d, BERLIN))

    beforeAll(async () => {
      const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id, frequency) VALUES (gen_random_uuid(), 'daily') RETURNING id`)
      id = rows[0]!.id
      await scheduler.enroll(id, { timezone: BERLIN, runAt: '07:30', endsAt: new Date(Date.now() + 400 * 86_400_000) })
    })

    test('the next 5 runs, and the schedule settings, each in the subscription\'s zone', async () => {
      await page.goto(`${base}/#/subscriptions/${id}`)
      // The page of the subscription the test before opened may still show: wait for this one's.
      await page.waitForFunction((sid) => document.querySelector('#sub-id')?.textContent === sid, id)
      await page.locator('#sub-schedule').waitFor()
      const expected = await expectedUpcoming()
      expect(expected).toHaveLength(5)
      // Its next runs come with a request of their own, after the page.
      await expect.poll(upcomingShown, { timeout: 10_000 }).toEqual(expected)
      for (const text of expected) expect(text).toMatch(/^\d{4}-\d\d-\d\d 07:30 CES?T \(Europe\/Berlin\)$/)
      const row = await scheduler.getSubscription(id)
      expect(await field('runAt').textContent()).toBe('07:30 (Europe/Berlin)')
      expect(await field('endsAt').textContent()).toBe(inZone(row.endsAt!, BERLIN))
      // Enrolled with a runAt: its phase is kept as its anchor, the instant it was enrolled.
      expect(await field('anchorAt').textContent()).toBe(inZone(row.anchorAt!, BERLIN))
      expect([await field('startsAt').textContent(), await field('pausedUntil').textContent()]).toEqual(['—', '—'])
      expect(await page.locator('#sub-history td.empty').textContent()).toBe('Nothing was done to its schedule yet.')
    })

    test('"Skip next run" skips the first of them, naming the slot shown: the list moves on, and the skip is in the history', async () => {
      const before = await scheduler.upcoming(id, { count: 6 })
      // The slot on screen is sent: a page behind another admin's skip never skips one unseen.
      const request = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/skip'))
      await page.getByRole('button', { name: 'Skip next run' }).click()
      // Asked first, naming the slot: a skipped slot is not called later.
      expect(await page.locator('#confirm-text').textContent()).toBe(`Skip the run at ${inZone(before[0]!, BERLIN)}? The worker is not called for that slot, and nothing here calls it later.`)
      await page.getByRole('button', { name: 'Yes, skip it' }).click()
      expect((await request).postDataJSON()).toEqual({ slot: before[0]!.toISOString() })
      await page.locator('#notice', { hasText: `Skipped the run at ${inZone(before[0]!, BERLIN)}; next run ${inZone(before[1]!, BERLIN)}.` }).waitFor()
      await page.waitForFunction((first) => document.querySelector('#sub-upcoming li')?.textContent === first, inZone(before[1]!, BERLIN))
      expect(await upcomingShown()).toEqual(before.slice(1).map((d) => inZone(d, BERLIN)))
      expect((await scheduler.getSubscription(id)).nextRunAt).toEqual(before[1])
      const skipped = page.locator('#sub-history tr[data-kind="skipped"]')
      await skipped.waitFor()
      expect(await skipped.locator('td').nth(2).textContent()).toBe(inZone(before[0]!, BERLIN))
    })

    test('"Pause until" pauses it until then (typed in the browser\'s zone), shows the pause, its end, and the runs after it', async () => {
      // Three days ahead, 09:00 in New York: the browser's zone, as the form's label says.
      const day = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + 3 * 86_400_000))
      expect(await page.locator('#sub-until-zone').textContent()).toBe(ZONE)
      await page.locator('#sub-until').fill(`${day}T09:00`)
      await page.getByRole('button', { name: 'Pause until' }).click()
      await page.waitForFunction(() => document.querySelector('#sub-fields [data-field="status"]')?.textContent === 'paused')
      const row = await scheduler.getSubscription(id)
      expect(row).toMatchObject({ status: 'paused', pausedReason: 'manual' })
      expect(wall(row.pausedUntil!, ZONE)).toBe(`${day} 09:00`)
      await page.locator('#notice', { hasText: `Paused until ${inZone(row.pausedUntil!, BERLIN)}; next run ${inZone(row.nextRunAt!, BERLIN)}.` }).waitFor()
      expect(await field('pausedUntil').textContent()).toBe(inZone(row.pausedUntil!, BERLIN))
      await page.waitForFunction((first) => document.querySelector('#sub-upcoming li')?.textContent === first, inZone(row.nextRunAt!, BERLIN))
      expect(await upcomingShown()).toEqual(await expectedUpcoming())
      expect(row.nextRunAt!.getTime()).toBeGreaterThan(row.pausedUntil!.getTime())
      await page.locator('#sub-history tr[data-kind="paused"]').waitFor()
      await page.screenshot({ path: SCREENSHOT, fullPage: true })
    })

    test('a refused action\'s message stays on screen through the refreshes after it', async () => {
      const yesterday = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() - 86_400_000))
      await page.locator('#sub-until').fill(`${yesterday}T09:00`)
      refusalExpected = new RegExp(`/subscriptions/${id}/pause$`)
      await page.getByRole('button', { name: 'Pause until' }).click()
      const refused = page.locator('#notice.error', { hasText: /^Pause until failed: .*not in the future/ })
      await refused.waitFor()
      // Two refreshes of the page's data come and go: the message is still there.
      for (let i = 0; i < 2; i++) {
        await page.waitForResponse((r) => r.request().method() === 'GET' && r.url().endsWith(`/subscriptions/${id}`), { timeout: 15_000 })
        await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)))
      }
      expect(await refused.count()).toBe(1)
      refusalExpected = /^$/
    })

    test("an action that failed while the database was out of reach keeps its message through the refreshes that fail after it", async () => {
      // A trial's "Pause calls" in an outage said only what the failing refreshes said, which the
      // first refresh after the outage cleared: nothing said the pause had not been made.
      const outage = { status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'DATABASE_UNAVAILABLE', message: 'The database could not be reached.' } }) }
      refusalExpected = new RegExp(`/subscriptions/${id}(/resume)?$`)
      await page.route(`**/subscriptions/${id}/resume`, (route) => route.fulfill(outage))
      await page.route(`**/subscriptions/${id}`, (route) => route.fulfill(outage))
      try {
        await page.getByRole('button', { name: 'Resume', exact: true }).click()
        const failed = page.locator('#notice.error', { hasText: /^Resume failed: The database could not be reached\.$/ })
        await failed.waitFor()
        for (let i = 0; i < 2; i++) {
          await page.waitForResponse((r) => r.request().method() === 'GET' && r.url().endsWith(`/subscriptions/${id}`) && r.status() === 503, { timeout: 15_000 })
          await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)))
        }
        expect(await failed.count()).toBe(1)
      } finally {
        await page.unrouteAll()
        refusalExpected = /^$/
      }
    })

    test('the history lists what was done, newest first, its instants in the subscription\'s zone; Resume adds a line, with the note typed', async () => {
      // A note typed for the history goes with the action, is shown in its line, and is cleared.
      await page.getByLabel(/^Note for its history/).fill('card updated, ticket #12')
      const request = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/resume'))
      await page.getByRole('button', { name: 'Resume' }).click()
      expect((await request).postDataJSON()).toEqual({ note: 'card updated, ticket #12' })
      await page.locator('#sub-history tr[data-kind="resumed"]').waitFor()
      expect(await page.locator('#sub-history tr[data-kind="resumed"] td.detail .note').textContent()).toBe('Note: card updated, ticket #12')
      expect(await page.locator('#sub-note').inputValue()).toBe('')
      const history = (await scheduler.getSubscription(id)).history
      expect(history[0]).toMatchObject({ kind: 'resumed', note: 'card updated, ticket #12' })
      expect(history.map((h) => h.kind)).toEqual(['resumed', 'paused', 'skipped'])
      expect(await page.locator('#sub-history tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')))).toEqual(['resumed', 'paused', 'skipped'])
      const paused = history[1]!
      const pausedRow = page.locator('#sub-history tr[data-kind="paused"]')
      expect(await pausedRow.locator('td').nth(0).textContent()).toMatch(new RegExp(`^${wall(paused.at, ZONE)} E[SD]T$`))
      // "until <instant>", the instant written in Berlin time.
      const until = /^until (\S+)$/.exec(paused.detail!)![1]!
      expect(await pausedRow.locator('td.detail').textContent()).toBe(`until ${inZone(new Date(until), BERLIN)}`)
    })

    test('"Backfill…" asks first, naming the range; confirmed, it starts a backfill run of that range\'s slots, linked', async () => {
      const dayIn = (daysAgo: number) => new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() - daysAgo * 86_400_000))
      await page.locator('#sub-backfill-from').fill(`${dayIn(4)}T00:00`)
      await page.locator('#sub-backfill-to').fill(`${dayIn(1)}T00:00`)
      const runsBefore = (await scheduler.listRuns({ limit: 1000 })).length
      expect(await page.locator('#sub-backfill-zone').textContent()).toBe(ZONE)
      // A reversed range is said at once, before any confirmation is asked for.
      await page.locator('#sub-backfill-to').fill(`${dayIn(5)}T00:00`)
      await page.getByRole('button', { name: 'Backfill…' }).click()
      await page.locator('#notice.error', { hasText: 'The range ends before it starts: swap "from" and "to".' }).waitFor()
      expect(await page.locator('#confirm').isHidden()).toBe(true)
      await page.locator('#sub-backfill-to').fill(`${dayIn(1)}T00:00`)
      await page.getByRole('button', { name: 'Backfill…' }).click()
      // The refusal of the range before goes when this one is asked about.
      await page.waitForFunction(() => document.querySelector('#notice')?.textContent === '')
      await page.locator('#confirm-text', { hasText: `Backfill ${id} from ${dayIn(4)} 00:00` }).waitFor()
      expect((await scheduler.listRuns({ limit: 1000 })).length).toBe(runsBefore)
      await page.getByRole('button', { name: 'Yes, backfill' }).click()
      const link = page.locator('#notice', { hasText: /^Backfill started: run / }).locator('a[data-run-link]')
      await link.waitFor()
      const runId = (await link.getAttribute('data-run-link'))!
      const run = await pollUntil(async () => {
        const r = await scheduler.getRun(runId)
        return r.finishedAt ? r : null
      }, { timeoutMs: 20_000, what: `backfill run ${runId} to finish` })
      // Three local days, one 07:30 slot each (Berlin), in the range typed in New York time.
      expect(run).toMatchObject({ trigger: 'backfill', processed: 3, successful: 3 })
      await page.locator('#sub-history tr[data-kind="backfill"]').waitFor()
    })

    test('inactive in the host\'s table, it is not offered "Process now" or "Backfill…", and the tooltips say why', async () => {
      await db.pool.query(`UPDATE subscriptions SET active = false WHERE id = $1`, [id])
      // Its slot past, as it would be: an inactive subscription is never called.
      const { rows: [before] } = await db.pool.query<{ next_run_at: Date }>(`UPDATE subscription_processing SET next_run_at = now() - interval '1 hour' WHERE subscription_id = $1 RETURNING (SELECT next_run_at FROM subscription_processing WHERE subscription_id = $1)`, [id])
      try {
        await page.reload()
        await page.waitForFunction(() => document.querySelector('#sub-fields [data-field="active"]')?.textContent === 'no')
        // Its next run, past, is not said to be due: an inactive subscription is never called.
        expect(await page.locator('#sub-fields [data-field="nextRunAt"]').textContent()).not.toMatch(/due now/)
        const run = page.getByRole('button', { name: 'Process now' })
        expect(await run.isDisabled()).toBe(true)
        expect(await run.getAttribute('title')).toBe('It is inactive in subscriptions (active = false, or its row is gone): it is never called.')
        expect(await page.getByRole('button', { name: 'Backfill…' }).isDisabled()).toBe(true)
      } finally {
        await db.pool.query(`UPDATE subscriptions SET active = true WHERE id = $1`, [id])
        await db.pool.query(`UPDATE subscription_processing SET next_run_at = $2 WHERE subscription_id = $1`, [id, before!.next_run_at])
      }
    })

    test("an ended subscription shows as ended, has no runs ahead, and can't skip", async () => {
      await scheduler.reschedule(id, { endsAt: new Date(Date.now() - 86_400_000) })
      await page.reload()
      await page.waitForFunction(() => document.querySelector('#sub-fields [data-field="status"]')?.textContent === 'ended')
      expect(await field('status').locator('.pill').getAttribute('class')).toBe('pill idle')
      await page.locator('#sub-upcoming li.empty', { hasText: 'No runs ahead: it has ended.' }).waitFor()
      expect(await page.getByRole('button', { name: 'Skip next run' }).isDisabled()).toBe(true)
      // Nothing to pause or to process: an ended row stays ended.
      expect(await page.getByRole('button', { name: 'Pause', exact: true }).isDisabled()).toBe(true)
      expect(await page.getByRole('button', { name: 'Process now' }).isDisabled()).toBe(true)
      await page.goto(`${base}/#/`)
      await page.waitForFunction(() => document.querySelector('[data-status="ended"] .n')?.textContent === '1')
    })

    test('host subscriptions the next sweep will enrol are counted on the overview', async () => {
      await db.pool.query(`INSERT INTO subscriptions (user_id, frequency) SELECT gen_random_uuid(), 'daily' FROM generate_series(1, 2)`)
      await page.goto(`${base}/#/`)
      await page.waitForFunction(() => document.querySelector('[data-status="unenrolled"] .n')?.textContent === '2')
      expect(await page.locator('[data-status="unenrolled"] .label').textContent()).toBe('not enrolled yet')
    })
  })

  test('the views ran under the CSP without a single violation or script error', () => {
    expect(problems).toEqual([])
  })
})
