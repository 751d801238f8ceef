/**
 * Rows a host edited by hand, one in a page of good ones: each fails alone, if at all.
 * - Timestamps written as `infinity` or `-infinity` (Postgres takes them; `pg` reads them as
 *   numbers, not Dates). One such row once failed its whole page job at every delivery: its
 *   neighbours were called again each time, never recorded, and left queued for the claim's
 *   lease. Now each is read for what it says, or refused on its own row with the column to fix.
 * - A row whose success cannot be recorded (a host's trigger refuses it): the others of its
 *   chunk are recorded once, and it alone fails, as a failed attempt retried as any other. It
 *   was once called again at each of its job's ten deliveries, then left claimed for an hour.
 */
import { expect, test } from 'vitest'
import { createSubscriptionScheduler, SubscriptionDataError, SubscriptionStateError } from '../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../src/testing.js'
import { addHostTrigger } from './support/host-trigger.js'
import type { HostTrigger } from './support/host-trigger.js'
import { pollUntil } from './support/reliability-support.js'
import { useStartedScheduler } from './support/schedulers.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const worker = createFakeWorkerClient()
const logger = captureLogger()

const shared = useStartedScheduler({ workerClient: worker, logger, retry: { limit: 0 } })

const set = (id: string, assignments: string) => shared.db.pool.query(`UPDATE subscription_processing SET ${assignments} WHERE subscription_id = $1`, [id])

test('one page holding rows with infinite times: each is read for what it says or failed on its own, the others complete once, the run finishes', async () => {
  const [healthy, overdue, endless, startedEver, badAnchor, badEnd] = await seedSubscriptions(shared.db.pool, { count: 6 }) as [string, string, string, string, string, string]
  await set(overdue, `next_run_at = '-infinity'`) // due since ever: due now
  await set(endless, `ends_at = 'infinity'`) // no end
  await set(startedEver, `starts_at = '-infinity'`) // no start
  await set(badAnchor, `anchor_at = 'infinity'`)
  await set(badEnd, `ends_at = '-infinity'`)
  const summary = await shared.scheduler.runNow()
  expect(summary).toMatchObject({ processed: 6, successful: 4, failed: 2 })
  expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([healthy, overdue, endless, startedEver].sort())
  const rows = new Map((await rowsFor(shared.db.pool, [healthy, overdue, endless, startedEver, badAnchor, badEnd])).map((r) => [r.sid as string, r]))
  for (const id of [healthy, overdue, endless, startedEver]) {
    expect(rows.get(id)).toMatchObject({ status: 'completed', next_run_at: expect.any(Date) })
  }
  // The slot of the row due since ever is when it was taken, as for a row never scheduled.
  expect(Math.abs(rows.get(overdue)!.last_completed_for.getTime() - summary.startedAt.getTime())).toBeLessThan(60_000)
  expect(rows.get(badAnchor)).toMatchObject({ status: 'failed', error: expect.stringMatching(/anchor_at infinity, which is not an instant; set subscription_processing\.anchor_at to an instant, or to NULL/) })
  expect(rows.get(badEnd)).toMatchObject({ status: 'failed', error: expect.stringMatching(/ends_at -infinity, which is not an instant; set subscription_processing\.ends_at to an instant, or to NULL/) })
})

test("a row whose next run is 'infinity' is never swept, and its controls say which column to fix instead of failing", async () => {
  const [never] = await seedSubscriptions(shared.db.pool, { count: 1 }) as [string]
  await set(never, `next_run_at = 'infinity'`)
  for (const control of [() => shared.scheduler.upcoming(never), () => shared.scheduler.skipNext(never)]) {
    const error = await control().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SubscriptionDataError)
    expect((error as Error).message).toMatch(/next_run_at infinity, which is not an instant; set subscription_processing\.next_run_at to an instant, or to NULL/)
    expect(error).toMatchObject({ subscriptionId: never, column: 'subscription_processing.next_run_at' })
  }
  const before = worker.calls.length
  await shared.scheduler.runNow()
  expect(worker.calls.slice(before).map((c) => c.subscriptionId)).not.toContain(never)
  expect((await rowsFor(shared.db.pool, [never]))[0]).toMatchObject({ status: 'pending', next_run_at: Infinity })
})

test("times written by hand as 'infinity' or '-infinity' are read back as null, as the API's types say, not as numbers", async () => {
  const [never, anchored, failing] = await seedSubscriptions(shared.db.pool, { count: 3 }) as [string, string, string]
  // Paused, so that the file's other runs leave them as written.
  await set(never, `status = 'paused', next_run_at = 'infinity', last_run_at = 'infinity', updated_at = 'infinity'`)
  await set(anchored, `status = 'paused', anchor_at = 'infinity', starts_at = '-infinity', ends_at = '-infinity', paused_until = 'infinity', scheduled_for = 'infinity'`)
  await set(failing, `status = 'failed', error = 'written by hand', retry_at = 'infinity', next_run_at = 'infinity', updated_at = '-infinity', scheduled_for = '-infinity'`)
  const written = [
    [never, ['nextRunAt', 'lastRunAt', 'updatedAt']],
    [anchored, ['anchorAt', 'startsAt', 'endsAt', 'pausedUntil', 'scheduledFor']],
    [failing, ['retryAt', 'nextRunAt', 'updatedAt', 'scheduledFor']],
  ] as const
  for (const [id, keys] of written) {
    const details = await shared.scheduler.getSubscription(id)
    for (const key of keys) expect(details[key], `${key} of ${id}`).toBeNull()
  }
  const listed = (await shared.scheduler.listSubscriptions({ limit: 1000 })).filter((s) => s.subscriptionId === never || s.subscriptionId === failing)
  expect(listed.map((s) => [s.nextRunAt, s.retryAt])).toEqual([[null, null], [null, null]])
  const failed = (await shared.scheduler.listFailing({ limit: 1000 })).find((s) => s.subscriptionId === failing)
  expect(failed).toMatchObject({ scheduledFor: null, retryAt: null, failedAt: null, nextRunAt: null })
})

test("backfill() of a row whose time zone names no zone is the row's error, naming it and the column (the other controls: scheduler.hand-edited-zone)", async () => {
  const [odd] = await seedSubscriptions(shared.db.pool, { count: 1 }) as [string]
  await set(odd, `timezone = 'Europe/Berln'`)
  const from = new Date(Date.now() - 3 * 86_400_000)
  const refused = await shared.scheduler.backfill(odd, { from, to: new Date(from.getTime() + 86_400_000) }).catch((e: unknown) => e)
  expect(refused).toBeInstanceOf(SubscriptionDataError)
  expect(refused).toMatchObject({ subscriptionId: odd, column: 'subscription_processing.timezone' })
})

test("a row whose run_at was written as Postgres prints a time ('09:30:00') is the row's error at the controls, not the caller's, and reschedule({ runAt }) repairs it", async () => {
  const [odd] = await seedSubscriptions(shared.db.pool, { count: 1 }) as [string]
  await set(odd, `run_at = '09:30:00'`)
  // A trial saw ConfigurationError for an option \`runAt\` the caller never passed (admin: 400 on a field never sent).
  for (const control of [() => shared.scheduler.upcoming(odd, { count: 3 }), () => shared.scheduler.skipNext(odd), () => shared.scheduler.reschedule(odd, {})]) {
    const error = await control().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SubscriptionDataError)
    expect((error as Error).message).toMatch(/has run_at "09:30:00", which is not a time of day; set it with reschedule\(id, \{ runAt: 'HH:MM' \}\)/)
  }
  await shared.scheduler.reschedule(odd, { runAt: '09:30' })
  expect(await shared.scheduler.upcoming(odd, { count: 3 })).toHaveLength(3)
})

test("a row due since '-infinity' is due for the controls too, as NULL is: previewed, paused and resumed", async () => {
  const [overdue] = await seedSubscriptions(shared.db.pool, { count: 1, status: 'completed' }) as [string]
  await set(overdue, `next_run_at = '-infinity'`)
  await expect(shared.scheduler.upcoming(overdue, { count: 1 })).resolves.toHaveLength(1)
  await expect(shared.scheduler.pause(overdue)).resolves.toMatchObject({ status: 'paused' })
  await expect(shared.scheduler.resume(overdue)).resolves.toMatchObject({ status: 'pending' })
})

test("a completed row with no next_run_at (set by hand, or adopted so) is never swept, as in the original design; its preview shows no slot, and reschedule(id, {}) gives it its next one", async () => {
  const [unset] = await seedSubscriptions(shared.db.pool, { count: 1, status: 'completed' }) as [string]
  await set(unset, `next_run_at = NULL, last_run_at = now() - interval '2 days', last_completed_for = now() - interval '2 days'`)
  const before = worker.calls.length
  await shared.scheduler.runNow()
  expect(worker.calls.slice(before).map((c) => c.subscriptionId)).not.toContain(unset)
  // It once previewed the next sweep's slot, which no sweep would take.
  await expect(shared.scheduler.upcoming(unset, { count: 3 })).resolves.toEqual([])
  await expect(shared.scheduler.skipNext(unset)).resolves.toEqual({ skipped: null, nextRunAt: null })
  const { nextRunAt } = await shared.scheduler.reschedule(unset, {})
  expect(nextRunAt).toBeInstanceOf(Date)
  await expect(shared.scheduler.upcoming(unset, { count: 3 })).resolves.toHaveLength(3)
})

test("a row whose success a host's trigger refuses fails alone as a failed attempt: the others of its chunk are recorded once, it is called once (no retry left), the run finishes, and retryFailed() completes it once the rule is gone", async () => {
  const ids = await seedSubscriptions(shared.db.pool, { count: 4 }) as [string, string, string, string]
  const [stubborn, slow] = ids
  // A neighbour still calling when the stubborn row's outcome is refused: that refusal must be
  // observed at once, not left an unhandled rejection (which, by Node's default, ends the host).
  worker.on(slow, { delayMs: 1500 })
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => void unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  // The host's own trigger refuses that one row's completion, as a constraint it added would.
  const trigger = await addHostTrigger(shared.db.pool, 'refuse_one', 'UPDATE', `IF NEW.subscription_id = '${stubborn}' AND NEW.status = 'completed' THEN RAISE EXCEPTION 'host rule: not this one'; END IF;`)
  const before = worker.calls.length
  try {
    // With the rule still in place: the run finishes, rather than waiting for the row's lease.
    const { runId } = await shared.scheduler.runNow({ wait: false })
    const run = await pollUntil(async () => {
      const r = await shared.scheduler.getRun(runId)
      return r.finishedAt ? r : null
    }, { timeoutMs: 30_000, what: 'the run to finish' })
    expect(run.failed).toBeGreaterThanOrEqual(1)
    const [row] = await rowsFor(shared.db.pool, [stubborn])
    expect(row).toMatchObject({ status: 'failed', job_id: null })
    expect(row!.error).toMatch(/^the worker answered, but its success could not be recorded: host rule: not this one \(SQLSTATE P0001\)\. A trigger or constraint of yours/)
    const failures = (await shared.scheduler.listFailures({ limit: 50, runId })).filter((f) => f.subscriptionId === stubborn)
    expect(failures.map((f) => [f.attempt, f.final])).toEqual([[1, true]])
    // Called once, however many deliveries its job had: its job completed.
    const calls = () => worker.calls.slice(before).map((c) => c.subscriptionId)
    for (const id of ids) expect(calls().filter((c) => c === id), id).toHaveLength(1)
    expect((await rowsFor(shared.db.pool, ids.slice(1))).map((r) => r.status)).toEqual(['completed', 'completed', 'completed'])
    expect(unhandled).toEqual([])
    expect(logger.messages('warn').filter((m) => m.startsWith('Taking over job'))).toEqual([])

    await trigger.drop()
    await expect(shared.scheduler.retryFailed({ subscriptionIds: [stubborn] })).resolves.toMatchObject({ successful: 1 })
    expect((await rowsFor(shared.db.pool, ids)).map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed'])
    expect(calls().filter((c) => c === stubborn)).toHaveLength(2)
  } finally {
    process.off('unhandledRejection', onUnhandled)
    worker.reset()
    await trigger.drop()
  }
})

test("rows whose claim a host's trigger refuses are stepped past, by replicas sweeping at once: each refusal names its own row, the rest are called once, the refused stay due", async () => {
  const ids = await seedSubscriptions(shared.db.pool, { count: 1500 })
  // Spread through the index the claim loops walk, each refused with its own message.
  const refusedIds = [ids[150]!, ids[151]!, ids[700]!, ids[1200]!, ids[1499]!]
  const trigger = await addHostTrigger(shared.db.pool, 'refuse_claim', 'UPDATE',
    `IF NEW.subscription_id = ANY('{${refusedIds.join(',')}}'::uuid[]) AND NEW.status = 'queued' THEN RAISE EXCEPTION 'host rule: % is frozen', NEW.subscription_id; END IF;`)
  const before = worker.calls.length
  const warned = logger.messages('warn').length
  // A second instance sweeps at the same moment, as replicas do: their walks meet at the refused rows.
  const otherLogger = captureLogger()
  const other = createSubscriptionScheduler(shared.db.pool, { workerClient: worker, logger: otherLogger, migrate: false, pollingIntervalSeconds: 0.5, retry: { limit: 0 } })
  await other.start()
  try {
    const runs = [...(await Promise.all([shared.scheduler.runNow(), other.runNow()]))]
    // Then one alone: a row one replica's walk passed while the other held it is due still.
    runs.push(await shared.scheduler.runNow())
    for (const run of runs) {
      expect(run.error ?? '', run.runId).toMatch(/^$|^[1-5] subscriptions? (was|were) not claimed: a trigger or constraint of yours refused the update of (its row|their rows) \(.* is frozen.*\)\. (It stays|They stay) due/)
    }
    expect(runs[2]!.error).not.toBeNull()
    // Every refusal names a refused row, with that row's own refusal: never an innocent one.
    const named = [...logger.messages('warn').slice(warned), ...otherLogger.messages('warn')]
      .flatMap((m) => /subscription (\S+) could not be claimed: host rule: (\S+) is frozen \(SQLSTATE P0001\)\./.exec(m)?.slice(1) ?? [])
    for (let i = 0; i < named.length; i += 2) expect(named[i]).toBe(named[i + 1])
    expect(new Set(named)).toEqual(new Set(refusedIds))
    const called = worker.calls.slice(before).map((c) => c.subscriptionId)
    expect(called.filter((id) => refusedIds.includes(id))).toEqual([])
    expect((await rowsFor(shared.db.pool, refusedIds)).map((r) => r.status)).toEqual(refusedIds.map(() => 'pending'))
    // Nothing can be written on a refused row: the failure history says why it was not called,
    // for listFailures() and each subscription's recentErrors.
    // (The runs also take rows earlier tests left due: only refusals are looked at.)
    const history = (await Promise.all(runs.map((run) => shared.scheduler.listFailures({ limit: 50, runId: run.runId })))).flat()
      .filter((f) => f.error.startsWith('its claim could not be written'))
    expect(new Set(history.map((f) => f.subscriptionId))).toEqual(new Set(refusedIds))
    for (const f of history) expect(f).toMatchObject({ attempt: 1, final: false, status: null, error: expect.stringMatching(/^its claim could not be written: host rule: \S+ is frozen \(SQLSTATE P0001\)\. A trigger or constraint of yours/) })
    const [first] = refusedIds
    expect((await shared.scheduler.getSubscription(first!)).recentErrors[0]?.error).toMatch(new RegExp(`host rule: ${first} is frozen`))
  } finally {
    await other.stop({ timeoutMs: 2000 })
    await trigger.drop()
  }
  // The rule lifted, the next sweep takes them: every subscription called once in all.
  expect((await shared.scheduler.runNow()).error).toBeNull()
  const calls = worker.calls.slice(before).map((c) => c.subscriptionId)
  const counts = new Map<string, number>()
  for (const id of calls) counts.set(id, (counts.get(id) ?? 0) + 1)
  expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([])
})

test("a rule refusing every row's claim stops the sweep after 100 refused: runNow() resolves with the run's error saying so, not the driver's error, and the refused stay due", async () => {
  const ids = await seedSubscriptions(shared.db.pool, { count: 120 })
  const trigger = await addHostTrigger(shared.db.pool, 'refuse_every_claim', 'UPDATE', `IF NEW.status = 'queued' THEN RAISE EXCEPTION 'host rule: frozen'; END IF;`)
  const before = worker.calls.length
  try {
    // A host awaiting runNow() as the Quick start does would crash on a rejection of pg's error.
    const run = await shared.scheduler.runNow()
    expect(run.error).toMatch(/^The sweep stopped after 0 subscriptions: a trigger or constraint of yours refused the claim of 100 rows and then of another \(host rule: frozen \(SQLSTATE P0001\)\), which it takes for a rule refusing every row\./)
    expect(run).toMatchObject({ processed: 0, finishedAt: expect.any(Date) })
    expect(worker.calls.length).toBe(before)
    expect(new Set((await rowsFor(shared.db.pool, ids)).map((r) => r.status))).toEqual(new Set(['pending']))
    expect(await shared.scheduler.listFailures({ limit: 200, runId: run.runId })).toHaveLength(100)
  } finally {
    await trigger.drop()
  }
  // The rule lifted, the next sweep calls them.
  expect((await shared.scheduler.runNow()).error).toBeNull()
  expect(new Set((await rowsFor(shared.db.pool, ids)).map((r) => r.status))).toEqual(new Set(['completed']))
})

test("a row whose every update a host's trigger refuses, once its job's deliveries are spent: the failure history and the log name it, and runSubscription() calls its slot again with the same key", async () => {
  const [stuck] = await seedSubscriptions(shared.db.pool, { count: 1 }) as [string]
  worker.on(stuck, { delayMs: 1500 })
  const before = worker.calls.length
  let trigger: HostTrigger | undefined
  try {
    const { runId } = await shared.scheduler.runNow({ wait: false })
    const jobId = await pollUntil(async () => (await rowsFor(shared.db.pool, [stuck]))[0]?.job_id ?? null, { timeoutMs: 10_000, what: 'the row claimed' })
    // Neither its success nor its failure can be written now; and two deliveries, not eleven, spend its job.
    trigger = await addHostTrigger(shared.db.pool, 'refuse_every_update', 'UPDATE', `IF NEW.subscription_id = '${stuck}' THEN RAISE EXCEPTION 'host rule: hands off'; END IF;`)
    await shared.db.pool.query(`UPDATE pgboss.job SET retry_limit = 1 WHERE id = $1`, [jobId])
    await pollUntil(async () => {
      const { rows } = await shared.db.pool.query<{ state: string }>(`SELECT state FROM pgboss.job WHERE id = $1`, [jobId])
      return rows[0]?.state === 'failed' || null
    }, { timeoutMs: 30_000, what: "the row's job failed for good" })
    const entry = await pollUntil(async () => (await shared.scheduler.listFailures({ limit: 10, runId })).find((f) => f.subscriptionId === stuck) ?? null, { timeoutMs: 5_000, what: 'its failure entry' })
    expect(entry).toMatchObject({ final: false, status: null, error: expect.stringMatching(/^its outcome could not be recorded at any of its job's deliveries: host rule: hands off\. It stays claimed until its lease runs out/) })
    expect((await shared.scheduler.getSubscription(stuck)).recentErrors[0]?.error).toBe(entry.error)
    // Not counted waiting for an instance: no instance will take its job.
    expect((await shared.scheduler.getStatus()).queue).toMatchObject({ stranded: 1, waiting: 0 })
    expect(logger.messages('error')).toContainEqual(expect.stringMatching(new RegExp(`deliveries are spent: host rule: hands off\\. The outcome of subscription ${stuck} could not be recorded; it stays claimed until \\S+Z`)))
    await trigger.drop()
    await expect(shared.scheduler.runSubscription(stuck)).resolves.toMatchObject({ successful: 1 })
    const calls = worker.calls.slice(before).filter((c) => c.subscriptionId === stuck)
    expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(1)
  } finally {
    worker.reset()
    await trigger?.drop()
  }
})

test("runSubscription() of a row whose claim a host's trigger refuses is a SubscriptionStateError naming the rule, not the driver's error: nothing called, no run recorded", async () => {
  const [frozen] = await seedSubscriptions(shared.db.pool, { count: 1, nextRunInSeconds: 3600 }) as [string]
  const trigger = await addHostTrigger(shared.db.pool, 'refuse_single', 'UPDATE', `IF NEW.subscription_id = '${frozen}' THEN RAISE EXCEPTION 'host rule: frozen'; END IF;`)
  const before = worker.calls.length
  const runs = (await shared.scheduler.listRuns({ limit: 1 }))[0]?.runId
  try {
    const refused = shared.scheduler.runSubscription(frozen)
    await expect(refused).rejects.toBeInstanceOf(SubscriptionStateError)
    await expect(refused).rejects.toThrow(new RegExp(`^Subscription ${frozen} could not be claimed for a run on demand: host rule: frozen \\(SQLSTATE P0001\\)\\. A trigger or constraint of yours refused`))
    expect(worker.calls.length).toBe(before)
    expect((await shared.scheduler.listRuns({ limit: 1 }))[0]?.runId).toBe(runs)
  } finally {
    await trigger.drop()
  }
})

test('runSubscription() takes at once a row whose job is gone (failed for good, or deleted), without waiting out its lease', async () => {
  const [orphan] = await seedSubscriptions(shared.db.pool, { count: 1 }) as [string]
  // Queued for a job pg-boss no longer has, its lease an hour ahead: as a dead-lettered page job leaves it.
  // Its first slot was claimed (a new subscription's: no next_run_at yet) and is still owed.
  await set(orphan, `status = 'queued', job_id = gen_random_uuid(), scheduled_for = date_trunc('second', now()) - interval '1 minute', lease_expires_at = now() + interval '1 hour'`)
  const [{ scheduled_for: owed }] = await rowsFor(shared.db.pool, [orphan])
  // Nothing holds it: not in flight, so the dashboard offers "Process now" (runSubscription).
  expect((await shared.scheduler.getSubscription(orphan)).inFlight).toBe(false)
  const before = worker.calls.length
  await expect(shared.scheduler.runSubscription(orphan)).resolves.toMatchObject({ processed: 1, successful: 1 })
  expect(worker.calls.slice(before).map((c) => c.subscriptionId)).toEqual([orphan])
  // That slot is called, with the key its earlier calls carried: not a slot of its own at the
  // moment asked, whose new key a worker deduping on it would not know (a helper's trial).
  expect(worker.calls.at(-1)!.scheduledFor).toBe(owed.toISOString())
  expect((await rowsFor(shared.db.pool, [orphan]))[0]).toMatchObject({ status: 'completed', job_id: null, last_completed_for: owed })
})

test("the schedule controls of a row whose job is gone say so and name the remedy, not 'try again once it has settled': nothing would settle it for its lease's hour", async () => {
  const [orphan] = await seedSubscriptions(shared.db.pool, { count: 1 }) as [string]
  await set(orphan, `status = 'queued', job_id = gen_random_uuid(), scheduled_for = now() - interval '1 minute', lease_expires_at = '2031-01-01T00:00:00Z'`)
  const stranded = new RegExp(
    `^Cannot (reschedule|skip the next slot of|change the schedule of) subscription ${orphan}: it is still claimed \\(status 'queued'\\), but the job that claimed it failed for good or was deleted, ` +
      `so no call of it is coming .*runSubscription\\(id\\) .* calls it now, for the slot it was claimed for, and frees it; or a sweep takes it back once its claim's lease ends at 2031-01-01T00:00:00.000Z\\. Then try again\\.$`,
  )
  await expect(shared.scheduler.reschedule(orphan, { runAt: '09:00' })).rejects.toThrow(stranded)
  await expect(shared.scheduler.skipNext(orphan)).rejects.toThrow(stranded)
  await expect(shared.scheduler.enroll(orphan, { runAt: '10:00' })).rejects.toThrow(stranded)
  // Paused, it is not run on demand until resumed: the remedy says so.
  await shared.scheduler.pause(orphan)
  await expect(shared.scheduler.skipNext(orphan)).rejects.toThrow(/status 'paused'\), but the job that claimed it failed for good .* resume\(id\), then runSubscription\(id\), calls it now/)
  await shared.scheduler.resume(orphan)
  // The remedy it names works, and the control then goes through.
  await expect(shared.scheduler.runSubscription(orphan)).resolves.toMatchObject({ successful: 1 })
  await expect(shared.scheduler.reschedule(orphan, { runAt: '09:00' })).resolves.toMatchObject({ nextRunAt: expect.any(Date) })
})
