/**
 * The cron schedule under several instances, with pg-boss's real timekeeper (no fake clock): one
 * occurrence fires one sweep across three instances, not one per instance. Bounded by real time
 * (pg-boss's cron works in minutes), so it carries its own timeout; its sibling
 * reliability.cron-missed.test.ts runs beside it. Waits poll the database or the clock against a
 * deadline; none is a blind sleep.
 */
import { describe, expect, test } from 'vitest'
import { createInstances, pollUntil, stopInstances, waitForClockToPass } from './support/reliability-support.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'
import { callCounts, cronRuns, FAST_CRON, forwardedSlots, minuteSlot, sweepJobs, useCronScenario } from './support/cron-support.js'

const scenario = useCronScenario()

describe('cron across instances', () => {
  test(
    "three instances on '* * * * *': each occurrence runs exactly one sweep, and every due subscription is processed once",
    async () => {
      const { db } = scenario
      const groupA = await seedSubscriptions(db.pool, { count: 40 })
      // Each run is matched to its occurrence by the minute it started in, which holds when a run
      // starts within seconds of its occurrence. The first occurrence (the minute in progress) is
      // sent a few seconds after the instances start, so they must not start late in a minute.
      if (new Date().getUTCSeconds() >= 40) await waitForClockToPass(Math.ceil(Date.now() / 60_000) * 60_000 + 500, { maxWaitMs: 21_000 })
      scenario.instances = createInstances(db.url, 3, { cron: '* * * * *', pgBoss: FAST_CRON, pollingIntervalSeconds: 0.5, concurrency: 8 })
      await Promise.all(scenario.instances.map((i) => i.scheduler.start()))

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
      await stopInstances(scenario.instances, { endPools: false })

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
      const counts = callCounts(scenario.instances)
      expect([...counts.keys()].sort()).toEqual([...all].sort())
      expect([...counts.values()].every((n) => n === 1)).toBe(true)
      expect(runs.reduce((sum, r) => sum + r.claimed, 0)).toBe(all.length)
      expect(runs.reduce((sum, r) => sum + r.successful, 0)).toBe(all.length)
      expect(runs.every((r) => r.failed === 0 && r.skipped === 0)).toBe(true)
    },
    150_000,
  )
})
