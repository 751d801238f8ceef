/**
 * The dashboard's overview in a real headless Chromium, served by the real handler over
 * node:http against a started scheduler: sign-in by form, live counts, times with their zone,
 * the failing-now list, both charts, "Run now" and "Retry failed" behind a confirmation, a 400 px
 * viewport, sign-out, and a CSP the page never trips. Leaves docs/dashboard.png and
 * docs/dashboard-mobile.png behind.
 */
import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import type pg from 'pg'
import type { Browser, BrowserContext, Page, Route } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerToken, createAdminHandler } from '../src/admin/index.js'
import { createSubscriptionScheduler, PermanentError } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { browserUnavailable, fetchesOnRefresh, launchChromium, screenshotPath, signInWithForm, watchProblems } from './support/browser.js'
import { createTestDatabase } from './support/database.js'
import { listen } from './support/listen.js'
import type { Listening } from './support/listen.js'
import { seedSubscriptions } from './support/seed.js'
import pkg from '../package.json' with { type: 'json' }

const TOKEN = 'dashboard-test-token-0123456789abcdef'
const ZONE = 'America/New_York'
const docs = screenshotPath
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

/** Finished runs of earlier days, as the history a scheduler leaves behind (the chart's bars). */
async function seedPastRuns(pool: pg.Pool, days: { daysAgo: number; processed: number; failed: number; skipped?: number }[]): Promise<void> {
  for (const { daysAgo, processed, failed, skipped = 0 } of days) {
    await pool.query(
      `INSERT INTO subscription_scheduler.runs (trigger, started_at, sweep_finished_at, finished_at, claimed, successful, failed, skipped)
       SELECT 'manual', t, t + interval '1 second', t + interval '3 seconds', $2::int, $2::int - $3::int - $4::int, $3::int, $4::int
         FROM (SELECT now() - make_interval(days => $1::int) AS t) AS s`,
      [daysAgo, processed, failed, skipped],
    )
  }
}

/** The calendar day of an instant in the browser's zone, as the chart counts it. */
function dayIn(date: Date | string, zone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(date))
}

describe.skipIf(unavailable !== undefined)(`dashboard overview in Chromium${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const logger = captureLogger()
  const worker = createFakeWorkerClient()
  const received: string[] = []
  let scheduler: SubscriptionScheduler
  let server: Listening
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let base: string
  let problems: string[]
  let failing: string[]

  let db: Awaited<ReturnType<typeof createTestDatabase>>

  beforeAll(async () => {
    db = await createTestDatabase()
    await seedPastRuns(db.pool, [{ daysAgo: 1, processed: 40, failed: 3 }, { daysAgo: 3, processed: 25, failed: 0 }, { daysAgo: 3, processed: 5, failed: 5 }, { daysAgo: 9, processed: 60, failed: 12, skipped: 20 }])
    await seedSubscriptions(db.pool, { count: 12 })
    await seedSubscriptions(db.pool, { count: 3, status: 'completed', nextRunInSeconds: 6 * 3600 })
    await seedSubscriptions(db.pool, { count: 2, status: 'paused' })
    failing = await seedSubscriptions(db.pool, { count: 2, timezone: 'Europe/Berlin' })
    const [declined, gone] = failing as [string, string]
    worker.on(declined, { fail: new Error('Worker answered 402: <img src=x id=injected> card declined') })
    worker.on(gone, { fail: new PermanentError('Worker answered 410: user deleted their account', { status: 410 }) })
    scheduler = createSubscriptionScheduler(db.pool, { workerClient: worker, logger, migrate: false, pollingIntervalSeconds: 0.5, retry: { limit: 0 } })
    await scheduler.start()
    await scheduler.runNow()

    const handler = createAdminHandler(scheduler, { authorize: bearerToken(TOKEN), logger })
    server = await listen((req, res) => {
      received.push(`${req.method} ${req.url}`)
      handler(req, res)
    })
    base = server.base
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: ZONE })
    page = await context.newPage()
    // The sign-in page answers 401 until the form is sent, and the subscription page probes for
    // a route the engine has not added yet (404); nothing else may fail.
    // The session-end test's one refused read is expected too.
    problems = watchProblems(page, (url) => (url === `${base}/` && !signedIn) || (sessionEnded && url === `${base}/dashboard.json`) || serverCutOff)
  })
  let signedIn = false
  // The refused loads of the test that cuts the server off are expected too.
  let serverCutOff = false
  let sessionEnded = false

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await scheduler?.stop({ timeoutMs: 2000 })
  })

  test('signs in with the form, and the cookie holds a session, not the token', async () => {
    const response = await page.goto(`${base}/`)
    expect(response?.status()).toBe(401)
    await signInWithForm(page, `${base}/`, TOKEN)
    signedIn = true
    expect(page.url()).toBe(`${base}/`)
    const [cookie] = await context.cookies()
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
    // One card per status the server lists, in its order: the page keeps no list of its own.
    const statuses = await page.locator('body').getAttribute('data-statuses')
    expect(await page.locator('#counts .card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-status')))).toEqual([...JSON.parse(statuses!), 'total'])
    expect(await page.locator('#next-fire').textContent()).toMatch(/\(in /)
    // The instance serving the page, which has no circuit breaker.
    expect(await page.locator('#instance').textContent()).toBe('running')

    const rows = page.locator('#runs tbody tr[data-run-id]')
    await page.waitForFunction(() => document.querySelectorAll('#runs tbody tr[data-run-id]').length === 5)
    const [latest] = await scheduler.listRuns({ limit: 1 })
    const row = page.locator(`#runs tbody tr[data-run-id="${latest!.runId}"]`)
    expect(await row.locator('td').allTextContents()).toEqual([expect.any(String), 'manual', '2 failed', expect.stringMatching(/\d+(\.\d)? m?s/), '14', '12', '2', '0', '0'])
    expect(await rows.count()).toBe(5)

    const failures = page.locator('#failures tbody tr')
    expect(await failures.count()).toBe(2)
    const errors = await failures.locator('td.err').allTextContents()
    expect(errors).toContain('Worker answered 402: <img src=x id=injected> card declined')
    // The worker's text is shown as text, never parsed as markup.
    expect(await page.locator('#injected').count()).toBe(0)
    // Ids whole, as links to the subscription's page.
    const links = await failures.locator('a[data-subscription-link]').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href')]))
    expect(links.sort()).toEqual([...failing].sort().map((id) => [id, `#/subscriptions/${id}`]))
  })

  test("every time carries its zone: run times in the browser's, named in the header", async () => {
    expect(await page.locator('#browser-zone').textContent()).toBe(ZONE)
    const [latest] = await scheduler.listRuns({ limit: 1 })
    const started = page.locator(`#runs tr[data-run-id="${latest!.runId}"] td`).first()
    // To the second: a per-minute cron's runs differ only there.
    expect(await started.textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[SD]T$/)
    const expected = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(latest!.startedAt)
    expect(await started.textContent()).toContain(expected)
    expect(await started.locator('time').getAttribute('title')).toBe(`${latest!.startedAt.toISOString().replace('.000Z', 'Z')} (UTC)`)
  })

  test('the 14-day chart has a called and a failed bar per day, counted from the runs: rows let go uncalled (skipped) are not called', async () => {
    const days = page.locator('#chart-days svg g[data-day]')
    await days.first().waitFor({ state: 'attached' })
    expect(await days.count()).toBe(14)
    expect(await page.locator('#chart-days svg rect').count()).toBe(28)
    const expected = new Map<string, [number, number]>()
    for (const run of await scheduler.listRuns({ limit: 1000 })) {
      const [p, f] = expected.get(dayIn(run.startedAt, ZONE)) ?? [0, 0]
      expected.set(dayIn(run.startedAt, ZONE), [p + run.successful + run.failed, f + run.failed])
    }
    const drawn = await days.evaluateAll((groups) => groups.map((g) => [g.getAttribute('data-day'), ...[...g.querySelectorAll('rect')].map((r) => Number(r.getAttribute('data-value')))]))
    expect(drawn.at(-1)![0]).toBe(dayIn(new Date(), ZONE))
    for (const [day, processed, failed] of drawn) expect({ day, bars: [processed, failed] }).toEqual({ day, bars: expected.get(day as string) ?? [0, 0] })
    expect(drawn.filter(([, processed]) => (processed as number) > 0)).toHaveLength(4)
  })

  test('"Run now" asks first: one click runs nothing; confirming starts the run, whose row settles without a reload', async () => {
    const before = await runIds(page)
    await page.getByRole('button', { name: 'Run now', exact: true }).click()
    await page.locator('#confirm').waitFor()
    // It says how many it would call: a trial's "Every due subscription" beside "Due now 0" read as nothing.
    expect(await page.locator('#confirm-text').textContent()).toBe('Run a full sweep now? No subscription is due: it calls only what comes due before it runs.')
    // A refresh after the click has come and gone, and no run was asked for.
    await page.waitForResponse((r) => r.url().endsWith('/dashboard.json'))
    expect(received.filter((r) => r.startsWith('POST /process-subscriptions'))).toEqual([])
    await page.getByRole('button', { name: 'Cancel' }).click()
    await page.locator('#confirm').waitFor({ state: 'hidden' })

    await page.getByRole('button', { name: 'Run now', exact: true }).click()
    const [posted] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/process-subscriptions')),
      page.getByRole('button', { name: 'Yes, run now' }).click(),
    ])
    expect(posted.status()).toBe(202)
    const runId = await newRunRow(page, before)
    await page.locator('#notice a[data-run-link]', { hasText: runId }).waitFor()
    const row = page.locator(`#runs tbody tr[data-run-id="${runId}"]`)
    await row.locator('.pill', { hasNotText: 'running' }).waitFor()
    // Nothing was due: the two failed slots wait out their delay (5 minutes) before a sweep tries them again.
    expect(await row.locator('td').nth(4).textContent()).toBe('0')
  })

  test('a question asked by keyboard starts on Cancel, keeps Tab within it, and hands focus back to its button when it closes', async () => {
    // A trial's Enter pressed twice started a full sweep, and every Escape sent focus to the page's top.
    const asked = () => received.filter((r) => r.startsWith('POST /process-subscriptions')).length
    const runsBefore = asked()
    const runNow = page.getByRole('button', { name: 'Run now', exact: true })
    await runNow.focus()
    await page.keyboard.press('Enter')
    await page.locator('#confirm').waitFor()
    const focused = () => page.evaluate(() => document.activeElement?.id ?? null)
    expect(await focused()).toBe('confirm-no')
    await page.keyboard.press('Tab')
    expect(await focused()).toBe('confirm-yes')
    await page.keyboard.press('Tab')
    expect(await focused()).toBe('confirm-no')
    await page.keyboard.press('Shift+Tab')
    expect(await focused()).toBe('confirm-yes')
    await page.keyboard.press('Escape')
    await page.locator('#confirm').waitFor({ state: 'hidden' })
    expect(await focused()).toBe('run-now')
    // Enter twice asks, then cancels: nothing runs.
    await page.keyboard.press('Enter')
    await page.locator('#confirm').waitFor()
    await page.keyboard.press('Enter')
    await page.locator('#confirm').waitFor({ state: 'hidden' })
    expect(await focused()).toBe('run-now')
    await page.waitForResponse((r) => r.url().endsWith('/dashboard.json'))
    expect(asked()).toBe(runsBefore)
  })

  test('"Pause calls" asks first, with a note kept with the pause, then shows a banner on every view and "Resume calls", which lifts the pause', async () => {
    await page.getByRole('button', { name: 'Pause calls', exact: true }).click()
    await page.locator('#confirm').waitFor()
    expect(await page.locator('#confirm-text').textContent()).toContain('Pause every call to the worker, on every instance?')
    await page.getByRole('textbox', { name: 'Note, kept with the pause' }).fill('  worker deploy, INC-42 ')
    await page.getByRole('button', { name: 'Yes, pause calls' }).click()
    const banner = page.locator('#calls-paused')
    await banner.waitFor()
    expect(await banner.textContent()).toMatch(/^Calls are paused on every instance since .+ \(worker deploy, INC-42\): no sweep claims, and nobody is called until calls are resumed\.$/)
    expect(await page.getByRole('button', { name: 'Pause calls', exact: true }).isHidden()).toBe(true)
    await page.getByRole('button', { name: 'Resume calls', exact: true }).click()
    await page.getByRole('button', { name: 'Yes, resume calls' }).click()
    await banner.waitFor({ state: 'hidden' })
    await page.getByRole('button', { name: 'Pause calls', exact: true }).waitFor()
    expect(received.filter((r) => r.startsWith('POST /calls/'))).toEqual(['POST /calls/pause', 'POST /calls/resume'])
    // Asked again, the note box is empty, and other questions take none.
    await page.getByRole('button', { name: 'Pause calls', exact: true }).click()
    expect(await page.getByRole('textbox', { name: 'Note, kept with the pause' }).inputValue()).toBe('')
    await page.getByRole('button', { name: 'Cancel' }).click()
    await page.getByRole('button', { name: 'Run now', exact: true }).click()
    expect(await page.getByRole('textbox', { name: 'Note, kept with the pause' }).isHidden()).toBe(true)
    await page.getByRole('button', { name: 'Cancel' }).click()
  })

  test('"Retry failed" asks first, naming how many it would retry', async () => {
    await page.getByRole('button', { name: 'Retry failed', exact: true }).click()
    await page.locator('#confirm').waitFor()
    expect(await page.locator('#confirm-text').textContent()).toBe('Retry the 2 failed subscriptions now? Each is called again for its failed slot.')
    await page.getByRole('button', { name: 'Cancel' }).click()
    await page.locator('#confirm').waitFor({ state: 'hidden' })
    expect(received.filter((r) => r.startsWith('POST /failed/retry'))).toEqual([])
  })

  test('"Failing now" lists each failing subscription once, however many attempts failed', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#failures tbody tr').length === 2)
    const rows = page.locator('#failing tbody tr[data-subscription-id]')
    expect(await rows.count()).toBe(2)
    expect((await rows.locator('a[data-subscription-link]').allTextContents()).sort()).toEqual([...failing].sort())
    expect(await rows.locator('td:nth-child(2)').allTextContents()).toEqual(['failed', 'failed'])
    expect(await rows.locator('td:nth-child(5)').allTextContents()).toEqual(['1', '1'])
    // Their next runs are slots in their own zone (Europe/Berlin), as on their pages, not the browser's.
    // Their next run is the failed slot, past: not shown as if ahead, nor said to be due while it waits out its delay.
    for (const shown of await rows.locator('td:nth-child(6)').allTextContents()) {
      expect(shown).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d CES?Tfailed: a sweep tries it again after \d{4}-\d\d-\d\d \d\d:\d\d CES?T$/)
    }

    mkdirSync(docs(''), { recursive: true })
    await page.screenshot({ path: docs('dashboard.png'), fullPage: true })
  })

  test('"Retry failed" asks first, then re-drives the failed subscriptions as a retry run', async () => {
    worker.reset() // the worker recovers
    const before = await runIds(page)
    await page.getByRole('button', { name: 'Retry failed' }).click()
    await page.getByRole('button', { name: 'Yes, retry all failed' }).click()
    const runId = await newRunRow(page, before)
    const row = page.locator(`#runs tbody tr[data-run-id="${runId}"]`)
    await row.locator('.pill', { hasText: 'ok' }).waitFor()
    expect(await row.locator('td').nth(1).textContent()).toBe('retry')
    await page.waitForFunction(() => document.querySelector('[data-status="completed"] .n')?.textContent === '17')
    expect(await page.locator('[data-status="failed"] .n').textContent()).toBe('0')
    expect(await page.locator('#failing tbody td.empty').textContent()).toBe('No subscription is failing.')
  })

  test('draws both lateness percentiles, a point per run that recorded them; runs written without any are left out', async () => {
    await page.goto(`${base}/`)
    await page.locator('#chart-lateness circle').first().waitFor()
    const shown = (await scheduler.listRuns({ limit: 1000 })).slice(0, 30)
    const recorded = shown.filter((run) => run.latenessP50Ms !== null)
    // The seeded past runs predate the engine's lateness; the runs this file made recorded it.
    expect(recorded.length).toBeGreaterThan(0)
    expect(recorded.length).toBeLessThan(shown.length)
    expect(await page.locator('#chart-lateness circle.pt-p50').count()).toBe(recorded.length)
    expect(await page.locator('#chart-lateness circle.pt-p95').count()).toBe(recorded.filter((r) => r.latenessP95Ms !== null).length)
    expect(await page.locator('#chart-lateness polyline').count()).toBe(2)
    expect(await page.locator('#chart-lateness .empty-state').count()).toBe(0)
  })

  test("shows an open circuit breaker of the instance serving the page, with when its hold ends", async () => {
    const until = new Date(Date.now() + 90_000).toISOString()
    // This file's scheduler has no breaker: the page is given one's health, as an instance with it reports it.
    await page.route('**/dashboard.json', async (route) => {
      const response = await route.fetch()
      const body = { ...(await response.json()), instance: { state: 'running', breaker: { state: 'open', openSince: new Date().toISOString(), until } } }
      await route.fulfill({ response, json: body })
    })
    try {
      await page.goto(`${base}/`)
      await page.waitForFunction(() => document.querySelector('#instance time') !== null)
      expect(await page.locator('#instance').textContent()).toMatch(/^running · circuit breaker open: worker calls held until \d{4}-\d\d-\d\d \d\d:\d\d/)
      expect(await page.locator('#instance time').getAttribute('datetime')).toBe(until)
    } finally {
      await page.unroute('**/dashboard.json')
    }
  })

  test('lists the instances: the one serving the page marked, another host calling the worker under a cap with its breaker open and calls waiting, one gone silent', async () => {
    const until = new Date(Date.now() + 90_000)
    const breaker = JSON.stringify({ state: 'open', openSince: new Date().toISOString(), until: until.toISOString() })
    // Two other processes' reports, as they write them.
    await db.pool.query(
      `INSERT INTO subscription_scheduler.instances (id, scope, host, pid, version, schedules, works, concurrency, max_concurrent_calls, calls, breaker, started_at, seen_at)
       VALUES (gen_random_uuid(), 'subscription-scheduler', 'worker-7', 4242, '0.1.0', false, true, 32, 40, '{"inFlight": 7, "waiting": 12}', $1, now() - interval '1 hour', now()),
              (gen_random_uuid(), 'subscription-scheduler', 'worker-9', 77, '0.0.9', true, false, 10, NULL, NULL, NULL, now() - interval '2 hours', now() - interval '5 minutes')`,
      [breaker],
    )
    // The cap worker-7 set, one permit held; a rate an instance set.
    await db.pool.query(
      `INSERT INTO subscription_scheduler.call_permits (scope, slot, holder, expires_at)
       SELECT 'subscription-scheduler', slot, CASE WHEN slot = 0 THEN gen_random_uuid() END, CASE WHEN slot = 0 THEN now() + interval '1 minute' ELSE '-infinity' END
         FROM generate_series(0, 39) AS slot`,
    )
    await db.pool.query(`INSERT INTO subscription_scheduler.call_rates (scope, per_second) VALUES ('subscription-scheduler', 5)`)
    await page.goto(`${base}/`)
    // The running instances' calls summed (this one's none), and the limits with what is in use.
    // This instance, started with neither limit, is not held to them; worker-7 is to the cap. The
    // rate, stored but held by no running instance, is no longer in force.
    await expect.poll(() => page.locator('#calls').textContent()).toBe(
      '7 in flight, 12 waiting · maxConcurrentCalls 40 (1 held; 1 of 2 running instances calling the worker not held to it)',
    )
    const rows = page.locator('#instances tbody tr[data-instance-id]')
    await page.waitForFunction(() => document.querySelectorAll('#instances tbody tr[data-instance-id]').length === 3)
    const serving = rows.filter({ has: page.locator(`xpath=self::*[@data-instance-id="${scheduler.health().instanceId}"]`) })
    expect(await serving.locator('td').allTextContents()).toEqual([
      `${hostname()} serving this page`, String(process.pid), pkg.version, 'schedules, calls the worker, 16 at once', 'running0 in flight, 0 waiting', '—', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d/), expect.stringMatching(/^\d+ s ago$/),
    ])
    const other = rows.filter({ hasText: 'worker-7' })
    expect(await other.locator('td').allTextContents()).toEqual([
      'worker-7', '4242', '0.1.0', 'calls the worker, 32 at once, maxConcurrentCalls 40', 'running7 in flight, 12 waiting', expect.stringMatching(/^open until \d{4}-\d\d-\d\d \d\d:\d\d/), expect.any(String), expect.stringMatching(/^\d+ s ago$/),
    ])
    const silent = rows.filter({ hasText: 'worker-9' })
    expect(await silent.locator('td').nth(4).textContent()).toBe('silent')
    expect(await silent.locator('td .pill').getAttribute('title')).toMatch(/no stop: killed/)
    expect(await silent.locator('td').nth(7).textContent()).toBe('5 min ago')
    // Running ones first.
    expect(await rows.last().getAttribute('data-instance-id')).not.toBe(scheduler.health().instanceId)
    expect((await rows.locator('td:nth-child(5)').allTextContents()).at(-1)).toBe('silent')
  })

  test("says how long ago and how soon by the scheduler's clock, not the browser's: a browser an hour behind still reads '7 min ago' and the next fire to the minute", async () => {
    await db.pool.query(
      `INSERT INTO subscription_scheduler.instances (id, scope, host, pid, version, schedules, works, concurrency, started_at, seen_at)
       VALUES (gen_random_uuid(), 'subscription-scheduler', 'skew-check', 99, '0.1.0', true, true, 4, now() - interval '1 hour', now() - interval '7 minutes')`,
    )
    const behind = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: ZONE })
    try {
      const skewed = await behind.newPage()
      // The browser's clock an hour behind, and running.
      await skewed.clock.install({ time: Date.now() - 3_600_000 })
      await skewed.clock.resume()
      await signInWithForm(skewed, `${base}/`, TOKEN)
      const seen = skewed.locator('#instances tbody tr[data-instance-id]', { hasText: 'skew-check' }).locator('td').nth(7)
      await expect.poll(() => seen.textContent()).toBe('7 min ago')
      const { nextFireAt } = await scheduler.getStatus()
      const minutes = (nextFireAt!.getTime() - Date.now()) / 60_000
      const said = /\(in (?:(\d+) h )?(\d+) min\)/.exec((await skewed.locator('#next-fire').textContent()) ?? '')
      expect(said, 'the next fire said as "in [h h] m min"').not.toBeNull()
      // By the browser's clock it would be an hour further off; a minute may turn meanwhile.
      expect(Math.abs(Number(said![1] ?? 0) * 60 + Number(said![2]) - minutes)).toBeLessThan(2)
      // "Updated" too: the time of the answer, not the browser's reading.
      const updated = await skewed.locator('#updated time').getAttribute('datetime')
      expect(Math.abs(new Date(updated!).getTime() - Date.now())).toBeLessThan(30_000)
    } finally {
      await behind.close()
      await db.pool.query(`DELETE FROM subscription_scheduler.instances WHERE host = 'skew-check'`)
    }
  })

  test('a run still going that newer runs pushed out of "Recent runs" has a line of its own, linked, saying how much has settled', async () => {
    // A big sweep an hour old still settling, then ten empty per-minute runs, all finished.
    const { rows: [inserted] } = await db.pool.query<{ id: string }>(
      `INSERT INTO subscription_scheduler.runs (trigger, started_at, sweep_finished_at, claimed, successful, failed, skipped)
       VALUES ('cron', now() - interval '1 hour', now() - interval '59 minutes', 100000, 40000, 12, 3) RETURNING id`,
    )
    const big = inserted!.id
    const { rows: fillers } = await db.pool.query<{ id: string }>(
      `INSERT INTO subscription_scheduler.runs (trigger, started_at, sweep_finished_at, finished_at)
       SELECT 'cron', t, t, t FROM (SELECT now() - n * interval '1 minute' AS t FROM generate_series(1, 10) AS n) AS s RETURNING id`,
    )
    try {
      await page.goto(`${base}/`)
      const note = page.locator('#runs-unfinished')
      await note.waitFor()
      expect(await note.textContent()).toMatch(/^1 run not finished; the oldest, cron run started \d{4}-\d\d-\d\d \d\d:\d\d \S+, has settled 40015 of 100000\.$/)
      expect(await note.locator('a').getAttribute('href')).toBe(`#/runs/${big}`)
      expect(await runIds(page)).not.toContain(big)
      // Once it has finished, the line goes.
      await db.pool.query(`UPDATE subscription_scheduler.runs SET finished_at = now() WHERE id = $1`, [big])
      await page.reload()
      await page.locator('#runs tbody tr[data-run-id]').first().waitFor()
      await page.waitForFunction(() => document.getElementById('runs-unfinished')!.hidden)
    } finally {
      await db.pool.query(`DELETE FROM subscription_scheduler.runs WHERE id = ANY($1::uuid[])`, [[big, ...fillers.map((r) => r.id)]])
    }
  })

  test('says so when the server stops answering (a locked table), and when the figures shown are from, to the second; the warning goes once it answers', async () => {
    await page.goto(`${base}/`)
    await page.locator('#runs tbody tr').first().waitFor()
    expect(await page.locator('#updated').textContent()).toMatch(/^\d\d:\d\d:\d\d \S+$/)
    expect(await page.locator('#stale').isHidden()).toBe(true)
    const locker = await db.pool.connect()
    try {
      await locker.query('BEGIN')
      await locker.query('LOCK TABLE subscription_processing IN ACCESS EXCLUSIVE MODE')
      // Since an instant, not "for N s": an alert whose text changed every second would be read out every second.
      await page.locator('#stale', { hasText: /^No answer from the server since \d\d:\d\d:\d\d \S+ \(is the database slow, or a table locked\?\): what this page shows is from \d\d:\d\d:\d\d \S+\.$/ }).waitFor({ timeout: 30_000 })
    } finally {
      await locker.query('ROLLBACK')
      locker.release()
    }
    await page.locator('#stale').waitFor({ state: 'hidden', timeout: 15_000 })
  })

  test('a server that does not answer at all (stopped, out of reach) is said at once, over figures dimmed; the warning goes once it answers', async () => {
    // A trial stopped the admin process: loads failed fast, so the wait-based warning never came,
    // and the counts stayed on screen as if current, beside a bare "Failed to fetch".
    await page.goto(`${base}/`)
    await page.locator('#runs tbody tr').first().waitFor()
    expect(await page.locator('#stale').isHidden()).toBe(true)
    const refuse = (route: Route) => (route.request().resourceType() === 'fetch' ? route.abort('connectionrefused') : route.continue())
    serverCutOff = true
    await page.route('**/*', refuse)
    try {
      await page.locator('#stale', { hasText: /^The server is not answering since \d\d:\d\d:\d\d \S+ \(is it down, or the network\?\): what this page shows is from \d\d:\d\d:\d\d \S+\.$/ }).waitFor({ timeout: 15_000 })
      expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(true)
      expect(await page.locator('#notice').textContent()).toMatch(/^No answer from the server \(.+\): is it running, and reachable\?$/)
    } finally {
      await page.unroute('**/*', refuse)
    }
    await page.locator('#stale').waitFor({ state: 'hidden', timeout: 15_000 })
    serverCutOff = false
    expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(false)
  })

  test('a page whose loads are slow refreshes less often: ten times as long as its last load took', async () => {
    await page.goto(`${base}/`)
    await page.locator('#runs tbody tr').first().waitFor()
    // The page's requests from now on: when each was asked for, and how many have answered.
    await page.evaluate(() => {
      const w = window as unknown as { asked: number[]; answered: number }
      w.asked = []
      w.answered = 0
      const original = window.fetch
      window.fetch = (...args: Parameters<typeof fetch>) => (w.asked.push(Date.now()), original(...args).finally(() => (w.answered += 1)))
    })
    const locker = await db.pool.connect()
    const heldMs = 1500
    try {
      await locker.query('BEGIN')
      await locker.query('LOCK TABLE subscription_processing IN ACCESS EXCLUSIVE MODE')
      // The next refresh's counts wait on the lock: a load of at least heldMs.
      await page.waitForFunction(() => (window as unknown as { asked: number[] }).asked.length > 0, undefined, { timeout: 10_000 })
      await new Promise((resolve) => setTimeout(resolve, heldMs))
    } finally {
      await locker.query('ROLLBACK')
      locker.release()
    }
    const slowLoad = await page.waitForFunction(() => {
      const w = window as unknown as { asked: number[]; answered: number }
      return w.answered === w.asked.length ? { requests: w.asked.length, doneAt: Date.now() } : null
    })
    const { requests, doneAt } = (await slowLoad.jsonValue())!
    // The next refresh comes, but not 3 s later: ten times the slow load's time (at least 15 s).
    const next = await page.waitForFunction((n) => (window as unknown as { asked: number[] }).asked[n] ?? null, requests, { timeout: 45_000 })
    const gapMs = (await next.jsonValue())! - doneAt
    expect(gapMs).toBeGreaterThanOrEqual(10 * heldMs - 1000)
    expect(gapMs).toBeLessThanOrEqual(31_000)
  }, 90_000)

  test('a session that ends says so once, and the page stops asking for data until reloaded', async () => {
    await page.goto(`${base}/`)
    await page.locator('#runs tbody tr').first().waitFor()
    const session = await context.cookies()
    sessionEnded = true
    await context.clearCookies()
    try {
      await page.locator('#notice.error', { hasText: 'Signed out (the session ended): reload the page to sign in again.' }).waitFor()
      const fetched = await fetchesOnRefresh(page)
      expect(fetched).toBe(0)
    } finally {
      await context.addCookies(session)
    }
    await page.reload()
    sessionEnded = false
    await page.locator('#runs tbody tr').first().waitFor()
  })

  test('fits a 400 px wide screen: no horizontal page overflow on any view', async () => {
    await page.setViewportSize({ width: 400, height: 860 })
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth)
    expect(await overflow()).toBeLessThanOrEqual(400)
    await page.screenshot({ path: docs('dashboard-mobile.png'), fullPage: true })

    await page.locator('#failures a[data-subscription-link]').first().click()
    await page.locator('#sub-fields [data-field="status"]').waitFor()
    expect(await overflow()).toBeLessThanOrEqual(400)
    await page.goBack()
    await page.locator('#runs a[data-run-link]').first().click()
    await page.locator('#run-fields [data-field="processed"]').waitFor()
    expect(await overflow()).toBeLessThanOrEqual(400)
    await page.goBack()
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  test('"Sign out" clears the session: the page shows the sign-in form again', async () => {
    signedIn = false
    // While the sign-out is on its way, the page asks for no more data (a read sent once the
    // cookie is cleared, before the reload, would be refused).
    let letSignOutThrough = () => {}
    const held = new Promise<void>((resolve) => { letSignOutThrough = resolve })
    let signingOut = () => {}
    const reached = new Promise<void>((resolve) => { signingOut = resolve })
    await page.route(`${base}/sign-out`, async (route) => {
      signingOut()
      await held
      await route.continue()
    })
    const loaded = page.waitForEvent('load')
    await page.getByRole('button', { name: 'Sign out' }).click()
    await reached
    const fetched = await fetchesOnRefresh(page)
    letSignOutThrough()
    await loaded
    await page.unroute(`${base}/sign-out`)
    expect(fetched).toBe(0)
    await page.locator('#sign-in').waitFor()
    expect(await context.cookies()).toEqual([])
    expect((await page.request.get(`${base}/status`)).status()).toBe(401)
  })

  test('the page ran under its CSP without a single violation or script error', () => {
    expect(problems).toEqual([])
  })
})
