/**
 * The cron schedule under several instances, with pg-boss's real timekeeper (no fake clock): an
 * occurrence missed while every instance was down is caught up exactly once on restart, not once
 * per instance, and not once per missed occurrence. Bounded by real time (pg-boss's cron works in
 * minutes), so it carries its own timeout. Waits poll the database or the clock against a
 * deadline; none is a blind sleep.
 */
import { describe, expect, test } from 'vitest'
import { createInstances, pollUntil, stopInstances, waitForClockToPass } from './support/reliability-support.js'
import { rowsFor, seedSubscriptions } from './support/seed.js'
import { callCounts, cronRuns, FAST_CRON, forwardedSlots, lastCronPass, minuteSlot, sweepJobs, SWEEP_QUEUE, useCronScenario } from './support/cron-support.js'

const scenario = useCronScenario()

describe('cron across instances', () => {
  test(
    'an occurrence missed while every instance was down is caught up exactly once by three restarting instances',
    async () => {
      const { db } = scenario
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
      scenario.instances = createInstances(db.url, 3, options)
      await Promise.all(scenario.instances.map((i) => i.scheduler.start()))
      const { rows: schedules } = await db.pool.query<{ created_on: Date; data: unknown }>(`SELECT created_on, data FROM pgboss.schedule WHERE name = $1`, [SWEEP_QUEUE])
      expect(schedules).toHaveLength(1)
      // Each job it sends says the cron and zone it was sent for: it is judged by them, not by a later cron.
      expect(schedules[0]!.data).toEqual({ cron, timezone: 'UTC' })
      await pollUntil(async () => ((await lastCronPass(db.pool))?.getTime() ?? 0) > schedules[0]!.created_on.getTime(), {
        timeoutMs: 10_000,
        what: 'a cron pass over the registered schedule',
      })

      // Down: every instance stops before the first occurrence.
      await stopInstances(scenario.instances)
      scenario.instances = []
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
      scenario.instances = createInstances(db.url, 3, options)
      await Promise.all(scenario.instances.map((i) => i.scheduler.start()))
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
      await stopInstances(scenario.instances, { endPools: false })

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
      const counts = callCounts(scenario.instances)
      expect([...counts.keys()].sort()).toEqual([...due].sort())
      expect([...counts.values()].every((n) => n === 1)).toBe(true)
      expect((await rowsFor(db.pool, due)).every((r) => r.status === 'completed')).toBe(true)
    },
    260_000,
  )
})
