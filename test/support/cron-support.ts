/**
 * What the cron reliability tests read of pg-boss's cron state and of the scheduler's runs:
 * runs started by the cron, the occurrences pg-boss forwarded, its sweep jobs and cron passes.
 */
import type pg from 'pg'
import { afterEach, beforeAll } from 'vitest'
import { createTestDatabase } from './database.js'
import type { TestDatabase } from './database.js'
import { stopInstances } from './reliability-support.js'
import type { Instance } from './reliability-support.js'

export const SWEEP_QUEUE = 'subscription-scheduler.sweep'
const SEND_IT_QUEUE = '__pgboss__send-it'
// pg-boss evaluates the cron every second, and forwards due occurrences every second.
export const FAST_CRON = { cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 }

export interface RunRow {
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
export async function cronRuns(pool: pg.Pool): Promise<RunRow[]> {
  const { rows } = await pool.query<RunRow>(
    `SELECT id, trigger, started_at, finished_at, claimed, successful, failed, skipped
       FROM subscription_scheduler.runs WHERE trigger IN ('cron', 'catch-up') ORDER BY started_at, id`,
  )
  return rows
}

/** The occurrences pg-boss's timekeeper forwarded for the sweep schedule: one send-it job per slot. */
export async function forwardedSlots(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ slot: string }>(
    `SELECT data->>'slot' AS slot FROM pgboss.job WHERE name = $1 AND data->>'name' = $2 ORDER BY 1`,
    [SEND_IT_QUEUE, SWEEP_QUEUE],
  )
  return rows.map((r) => r.slot)
}

/** The sweep jobs pg-boss created from those occurrences. */
export async function sweepJobs(pool: pg.Pool): Promise<{ state: string; retry_count: number; started_on: Date | null }[]> {
  const { rows } = await pool.query(`SELECT state, retry_count, started_on FROM pgboss.job WHERE name = $1 ORDER BY created_on`, [SWEEP_QUEUE])
  return rows
}

/** When pg-boss last ran a cron pass on this database (any instance). */
export async function lastCronPass(pool: pg.Pool): Promise<Date | null> {
  const { rows } = await pool.query<{ cron_on: Date | null }>(`SELECT cron_on FROM pgboss.version`)
  return rows[0]?.cron_on ?? null
}

/** The pg-boss throttle slot (UTC minute, as pg-boss writes it) an instant falls in. */
export function minuteSlot(instant: Date | number): string {
  return new Date(Math.floor(new Date(instant).getTime() / 60_000) * 60_000).toISOString().replace('T', ' ').slice(0, 19)
}

/** Every worker call of every instance, by subscription id. */
export function callCounts(instances: Instance[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const call of instances.flatMap((i) => i.worker.calls)) counts.set(call.subscriptionId, (counts.get(call.subscriptionId) ?? 0) + 1)
  return counts
}

/**
 * A cron scenario's database (its own: pg-boss's cron state, the last pass and the schedule row,
 * is per database) and the instances a test starts on it, stopped after each test.
 */
export function useCronScenario(): { readonly db: TestDatabase; instances: Instance[] } {
  const scenario = { db: undefined as unknown as TestDatabase, instances: [] as Instance[] }
  beforeAll(async () => {
    scenario.db = await createTestDatabase()
  })
  afterEach(async () => {
    await stopInstances(scenario.instances)
    scenario.instances = []
  })
  return scenario
}
