/**
 * The cron schedule under several instances, with pg-boss's real timekeeper (no fake clock):
 * - one occurrence fires one sweep across three instances, not one per instance;
 * - an occurrence missed while every instance was down is caught up exactly once on restart,
 *   not once per instance, and not once per missed occurrence.
 *
 * Both are bounded by real time (pg-boss's cron works in minutes), so they carry their own
 * timeouts. Waits poll the database or the clock against a deadline; none is a blind sleep.
 */
import type pg from 'pg'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'
import { createInstances, pollUntil, stopInstances, waitForClockToPass } from './support/reliability-support.js'
import type { Instance } from './support/reliability-support.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'

const SWEEP_QUEUE = 'subscription-scheduler.sweep'
const SEND_IT_QUEUE = '__pgboss__send-it'
// pg-boss evaluates the cron every second, and forwards due occurrences every second.
const FAST_CRON = { cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 }

interface RunRow {
  id: string
  trigger: string
  started_at: Date
  finished_at: Date | null
  claimed: number
  successful: number
  failed: number
  skipped: number
}

/** Runs started by the cron schedule (on time or caught up), oldest first. */
async function cronRuns(pool: pg.Pool): Promise<RunRow[]> {
  const { rows } = await pool.query<RunRow>(
    `SELECT id, trigger, started_at, finished_at, claimed, successful, failed, skipped
       FROM subscription_scheduler.runs WHERE trigger IN ('cron', 'catch-up') ORDER BY started_at, id`,
  )
  return rows
}

/** The occurrences pg-boss's timekeeper forwarded for the sweep schedule: one send-it job per slot. */
async function forwardedSlots(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ slot: string }>(
    `SELECT data->>'slot' AS slot FROM pgboss.job WHERE name = $1 AND data->>'name' = $2 ORDER BY 1`,
    [SEND_IT_QUEUE, SWEEP_QUEUE],
  )
  return rows.map((r) => r.slot)
}

/** The sweep jobs pg-boss created from those occurrences. */
async function sweepJobs(pool: pg.Pool): Promise<{ state: string; retry_count: number; started_on: Date | null }[]> {
  const { rows } = await pool.query(`SELECT state, retry_count, started_on FROM pgboss.job WHERE name = $1 ORDER BY created_on`, [SWEEP_QUEUE])
  return rows
}

/** When pg-boss last ran a cron pass on this database (any instance). */
async function lastCronPass(pool: pg.Pool): Promise<Date | null> {
  const { rows } = await pool.query<{ cron_on: Date | null }>(`SELECT cron_on FROM pgboss.version`)
  return rows[0]?.cron_on ?? null
}

/** The pg-boss throttle slot (UTC minute, as pg-boss writes it) an instant falls in. */
function minuteSlot(instant: Date | number): string {
  return new Date(Math.floor(new Date(instant).getTime() / 60_000) * 60_000).toISOString().replace('T', ' ').slice(0, 19)
}

/** Every worker call of every instance, by subscription id. */
function callCounts(instances: Instance[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const call of instances.flatMap((i) => i.worker.calls)) counts.set(call.subscriptionId, (counts.get(call.subscriptionId) ?? 0) + 1)
  return counts
}

let fireDb: TestDatabase
let missedDb: TestDatabase
let instances: Instance[] = []

beforeAll(async () => {
  // One database per scenario: pg-boss's cron state (the last pass, the schedule row) is per database.
  ;[fireDb, missedDb] = await Promise.all([createTestDatabase(), createTestDatabase()])
})

afterEach(async () => {
  await stopInstances(instances)
  instances = []
})

describe('cron across instances', () => {
  test(
    "three instances on '* * * * *': each occurrence runs exactly one sweep, and every due subscription is processed once",
    async () => {
      const db = fireDb
      const groupA = await seedSubscriptions(db.pool, { count: 40 })
      // Each run is matched to its occurrence by the minute it started in, which holds when a run
      // starts within seconds of its occurrence. The first occurrence (the minute in progress) is
      // sent a few seconds after the instances start, so they must not start late in a minute.
      if (new Date().getUTCSeconds() >= 40) await waitForClockToPass(Math.ceil(Date.now() / 60_000) * 60_000 + 500, { maxWaitMs: 21_000 })
      instances = createInstances(db.url, 3, { cron: '* * * * *', pgBoss: FAST_CRON, pollingIntervalSeconds: 0.5, concurrency: 8 })
      await Promise.all(instances.map((i) => i.scheduler.start()))

      // pg-boss sends the occurrence of the minute in progress at once (it is inside its 60 s due
      // window), then one per minute boundary. Wait for the first to settle, add more due work,
      // then wait for a second occurrence and for all of it to be processed.
      await pollUntil(async () => (await cronRuns(db.pool)).find((r) => r.finished_at !== null), {
        timeoutMs: 70_000,
        what: 'a first cron run to finish',
      })
      const groupB = await seedSubscriptions(db.pool, { count: 40 })
      const all = [...groupA, ...groupB]
      await pollUntil(
        async () => {
          const runs = await cronRuns(db.pool)
          const rows = await rowsFor(db.pool, all)
          return runs.filter((r) => r.finished_at).length >= 2 && rows.every((r) => r.status === 'completed')
        },
        {
          timeoutMs: 125_000,
          what: async () => `two finished cron runs and ${all.length} completed rows; runs: ${JSON.stringify(await cronRuns(db.pool))}`,
        },
      )
      // Quiesce before taking the snapshot: no pass, forward or sweep is in flight afterwards.
      await stopInstances(instances, { endPools: false })

      const runs = await cronRuns(db.pool)
      expect(runs.length).toBeGreaterThanOrEqual(2)
      // On time, not caught up: each ran within seconds of its occurrence.
      expect(runs.map((r) => r.trigger)).toEqual(runs.map(() => 'cron'))
      // One run per occurrence: pg-boss forwarded each occurrence once (one send-it job per minute
      // slot), and exactly one run started in each of those minutes: not one per instance.
      const slots = await forwardedSlots(db.pool)
      expect(new Set(slots).size).toBe(slots.length)
      const runMinutes = runs.map((r) => minuteSlot(r.started_at))
      expect(runMinutes).toEqual([...new Set(runMinutes)])
      expect(slots.slice(0, runMinutes.length)).toEqual(runMinutes)
      // At most one more occurrence, forwarded as the instances were stopping, whose sweep never ran.
      expect(slots.length - runMinutes.length).toBeLessThanOrEqual(1)
      // Each occurrence made at most one sweep job, never retried, and each started one made one run.
      const jobs = await sweepJobs(db.pool)
      expect(jobs.length).toBeLessThanOrEqual(slots.length)
      expect(jobs.every((j) => j.retry_count === 0)).toBe(true)
      expect(jobs.filter((j) => j.started_on !== null).length).toBe(runs.length)

      // Every due subscription was processed exactly once, across the three instances.
      const counts = callCounts(instances)
      expect([...counts.keys()].sort()).toEqual([...all].sort())
      expect([...counts.values()].every((n) => n === 1)).toBe(true)
      expect(runs.reduce((sum, r) => sum + r.claimed, 0)).toBe(all.length)
      expect(runs.reduce((sum, r) => sum + r.successful, 0)).toBe(all.length)
      expect(runs.every((r) => r.failed === 0 && r.skipped === 0)).toBe(true)
    },
    150_000,
  )

  test(
    'an occurrence missed while every instance was down is caught up exactly once by three restarting instances',
    async () => {
      const db = missedDb
      // A schedule whose only occurrence is the next minute at least 15 s from now (then not
      // again for a year): it falls while every instance is down, and cannot fire on time after
      // the restart, so anything that runs then is the catch-up. Crons have five fields (no
      // seconds), so the occurrence is on a minute.
      const lastOccurrence = Math.ceil((Date.now() + 15_000) / 60_000) * 60_000
      const at = new Date(lastOccurrence)
      const occurrences = [lastOccurrence]
      const cron = `${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`
      const options = { cron, timezone: 'UTC', pgBoss: FAST_CRON, pollingIntervalSeconds: 0.5, concurrency: 8 }

      // Up: the instances register the schedule, and pg-boss runs cron passes over it.
      instances = createInstances(db.url, 3, options)
      await Promise.all(instances.map((i) => i.scheduler.start()))
      const { rows: schedules } = await db.pool.query<{ created_on: Date; data: unknown }>(`SELECT created_on, data FROM pgboss.schedule WHERE name = $1`, [SWEEP_QUEUE])
      expect(schedules).toHaveLength(1)
      // Each job it sends says the cron and zone it was sent for: it is judged by them, not by a later cron.
      expect(schedules[0]!.data).toEqual({ cron, timezone: 'UTC' })
      await pollUntil(async () => ((await lastCronPass(db.pool))?.getTime() ?? 0) > schedules[0]!.created_on.getTime(), {
        timeoutMs: 10_000,
        what: 'a cron pass over the registered schedule',
      })

      // Down: every instance stops before the first occurrence.
      await stopInstances(instances)
      instances = []
      expect(Date.now(), 'the instances took too long to start and stop; the first occurrence was not missed').toBeLessThan(occurrences[0]! - 500)
      const lastPassBeforeDowntime = (await lastCronPass(db.pool))!
      expect(lastPassBeforeDowntime.getTime()).toBeLessThan(occurrences[0]!)
      expect(await cronRuns(db.pool)).toEqual([])
      const due = await seedSubscriptions(db.pool, { count: 25 })

      // The occurrence passes while nothing runs. Restart once it is older than
      // pg-boss's 60 s due window (so only its catch-up can send it) and older than the 90 s after
      // which the scheduler labels a cron job 'catch-up'.
      await waitForClockToPass(lastOccurrence + 92_000, { maxWaitMs: 170_000 })
      expect(await lastCronPass(db.pool)).toEqual(lastPassBeforeDowntime)
      expect(await forwardedSlots(db.pool)).toEqual([])

      // Up again: three instances at once.
      instances = createInstances(db.url, 3, options)
      await Promise.all(instances.map((i) => i.scheduler.start()))
      const [run] = await pollUntil(
        async () => {
          const runs = await cronRuns(db.pool)
          return runs.length > 0 && runs.every((r) => r.finished_at) ? runs : undefined
        },
        { timeoutMs: 20_000, what: 'the catch-up run to finish' },
      )
      // Keep watching for several more cron passes (pg-boss's own clock moving on) and until no
      // sweep job is waiting: a second catch-up, from another instance or another missed
      // occurrence, would have been forwarded by then.
      const settledAt = Date.now()
      await pollUntil(
        async () => {
          const pass = await lastCronPass(db.pool)
          const waiting = (await sweepJobs(db.pool)).filter((j) => j.state === 'created' || j.state === 'retry' || j.state === 'active')
          return (pass?.getTime() ?? 0) > settledAt + 3_000 && waiting.length === 0
        },
        { timeoutMs: 15_000, what: 'three more cron passes with no sweep waiting' },
      )
      await stopInstances(instances, { endPools: false })

      const runs = await cronRuns(db.pool)
      expect(runs).toHaveLength(1)
      expect(runs[0]!.id).toBe(run!.id)
      expect(runs[0]!.trigger).toBe('catch-up')
      // pg-boss forwarded one occurrence, the one missed, filed in its own minute slot.
      const slots = await forwardedSlots(db.pool)
      expect(slots).toEqual([minuteSlot(lastOccurrence)])
      expect(await sweepJobs(db.pool)).toHaveLength(1)

      // The catch-up processed what was due, once each.
      expect(runs[0]).toMatchObject({ claimed: due.length, successful: due.length, failed: 0, skipped: 0 })
      const counts = callCounts(instances)
      expect([...counts.keys()].sort()).toEqual([...due].sort())
      expect([...counts.values()].every((n) => n === 1)).toBe(true)
      expect((await rowsFor(db.pool, due)).every((r) => r.status === 'completed')).toBe(true)
    },
    260_000,
  )
})
