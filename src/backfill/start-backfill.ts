/**
 * Starting a backfill: its slots are fixed up front, its run records them as claimed, and the
 * job of its first slot is enqueued, all in one transaction. `next_run_at` is never touched.
 */
import type { Pool } from 'pg'
import type { PgBoss } from 'pg-boss'
import type { ResolvedOptions } from '../config/options.js'
import { bossDb, withTransaction } from '../db/executor.js'
import type { Executor } from '../db/executor.js'
import { SubscriptionBusyError } from '../errors.js'
import { TABLES } from '../db/names.js'
import { recordHistory } from '../records/history.js'
import { createRun, finishSettled } from '../records/runs.js'
import type { RunSummary } from '../records/runs.js'
import { phased } from '../records/first-slot.js'
import { assertHostActive, readScheduleRow } from '../records/schedule-row.js'
import { refusedFrequency } from '../schedule/unknown-frequency.js'
import { closeLostBackfills } from './lost-backfills.js'
import type { LostBackfill } from './lost-backfills.js'
import { backfillJob } from './backfill-job.js'
import { backfillSlots } from './backfill-range.js'
import type { BackfillRange } from './backfill-range.js'

export interface BackfillDeps {
  pool: Pool
  boss: PgBoss
  processQueue: string
  options: ResolvedOptions
}

export interface BackfillStarted {
  runId: string
  /** When the run was recorded as started. */
  startedAt: Date
  /** The run, when it had no slot to process and finished at once. */
  finished: RunSummary | null
  /** Earlier backfills of the subscription whose job was lost, closed before this one started (to log and announce). */
  closed: LostBackfill[]
}

/**
 * @throws {SubscriptionBusyError} while a backfill of the subscription is still running: a second
 * one would call the slots they share again (a double click, or two replicas asked at once).
 */
async function assertNoBackfillRunning(db: Executor, subscriptionId: string): Promise<void> {
  const { rows } = await db.query<{ id: string; started_at: Date; claimed: number; done: number }>(
    `SELECT id, started_at, claimed, successful + failed + skipped AS done FROM ${TABLES.runs}
      WHERE trigger = 'backfill' AND finished_at IS NULL AND subscription_id = $1 LIMIT 1`,
    [subscriptionId],
  )
  const running = rows[0]
  if (!running) return
  throw new SubscriptionBusyError(
    `Subscription ${subscriptionId} has a backfill running (run ${running.id}, started ${running.started_at.toISOString()}, ` +
      `${running.done} of ${running.claimed} slots done): another would call its slots again. Wait until that run has finished ` +
      `(getRun('${running.id}')), then backfill what it did not cover.`,
    { subscriptionId },
  )
}

export async function startBackfill(deps: BackfillDeps, subscriptionId: string, range: BackfillRange): Promise<BackfillStarted> {
  const { options } = deps
  return await withTransaction(deps.pool, async (tx) => {
    const now = options.clock.now()
    // Locked: a second backfill of it started at the same moment waits here, then finds this one.
    const row = await readScheduleRow(tx, subscriptionId, true)
    // Inactive, it would call nothing: every slot would be skipped. Paused, it runs: a backfill is asked for by name.
    assertHostActive(row, 'backfill')
    const refused = refusedFrequency(options, subscriptionId, row.frequency)
    if (refused) throw refused
    // In the phase the row has, whether its first run succeeded (anchor_at) or failed (its slot
    // waits). A range it refuses is said before whether another backfill runs.
    const slots = backfillSlots(options, phased(row), range)
    // A backfill whose job was lost would refuse this one for ever: it is closed first, and said.
    const closed = await closeLostBackfills(tx, now, { bossSchema: options.bossSchema, processQueue: deps.processQueue }, subscriptionId)
    await assertNoBackfillRunning(tx, subscriptionId)
    const runId = await createRun(tx, 'backfill', now, subscriptionId)
    await tx.query(`UPDATE ${TABLES.runs} SET claimed = $2, sweep_finished_at = $3 WHERE id = $1`, [runId, slots.length, now])
    const detail = `${slots.length} slot${slots.length === 1 ? '' : 's'} from ${range.from.toISOString()} to ${range.to.toISOString()}, run ${runId}`
    await recordHistory(tx, [{ subscriptionId, kind: 'backfill', slot: slots[0] ?? null, detail }], now)
    if (slots.length === 0) {
      const [finished] = await finishSettled(tx, [runId], now)
      return { runId, startedAt: now, finished: finished ?? null, closed }
    }
    const timings = { expireInSeconds: options.jobExpirySeconds, heartbeatSeconds: options.heartbeatSeconds }
    const first = backfillJob({ runId, subscriptionId, slots: slots.map((slot) => slot.toISOString()), index: 0, attempt: 1 }, timings)
    await deps.boss.insert(deps.processQueue, [first], { db: bossDb(tx) })
    return { runId, startedAt: now, finished: null, closed }
  })
}
