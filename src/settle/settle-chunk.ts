/**
 * Settles a chunk of outcomes, from any of this instance's jobs: the rows, the retry jobs, the
 * failure history, the dead letters and the runs' counters, in one transaction; then says what
 * to announce. A chunk whose calls all succeeded is one statement with no transaction to open,
 * the common case, and every run's counters are locked only once its rows are written.
 */
import { withTransaction } from '../db/executor.js'
import type { SchedulerEvents } from '../observe/events.js'
import { limitedLogOf, PAUSED_FOR_FAILURES } from '../observe/limited-log.js'
import { latenessTally } from '../records/lateness.js'
import type { LatenessTally } from '../records/lateness.js'
import { addClaimed } from '../records/runs.js'
import { addOutcomes } from '../records/run-outcomes.js'
import { claimNextSlots, isBehind } from './catch-up.js'
import type { RunSummary } from '../records/runs.js'
import type { OutcomeCounts } from '../records/run-outcomes.js'
import { completeInOneGo } from './complete-in-one-go.js'
import type { Cancelled, Failure, Outcome, Success } from './outcome.js'
import { failureDetail } from './outcome.js'
import { pausedLine, recordFailures } from './record-failures.js'
import { COMPLETE_ROWS, owned, successValues, recordGone, releaseOutsideWindow, releaseRepeats, releaseRows, rowParams } from './row-writes.js'
import { handOver } from './hand-over.js'
import type { Owned } from './row-writes.js'
import type { SettleDeps } from './deps.js'

export type { SettleDeps }

export type Announcement = { [E in keyof SchedulerEvents]: [E, SchedulerEvents[E]] }[keyof SchedulerEvents]


/**
 * A row to let go of, counted skipped once: `nextRunAt` when its call succeeded but recorded
 * nothing; `outside` when it was not called because its slot lies outside its own window, with
 * the slot it moves to (null: it ends).
 */
export type Leftover = Owned & { runId: string; nextRunAt?: Date | null | undefined; outside?: { nextRunAt: Date | null } | undefined }

/** Outcomes of calls, and rows a job was given but found paused, inactive or gone (each skipped once). */
export interface Chunk {
  outcomes: Outcome[]
  leftovers?: Leftover[] | undefined
}

const leftover = (o: Outcome): Leftover => ({ ...owned(o), runId: o.row.run_id, ...(o.kind === 'success' ? { nextRunAt: o.nextRunAt } : {}) })

const succeeded = (r: Leftover): r is Leftover & { nextRunAt: Date | null } => r.nextRunAt !== undefined

export interface ChunkSettlement {
  counts: OutcomeCounts
  /** Of the retried, those cut short by `stop()`. */
  cancelled: number
  /** Of the failed for good, those the worker (or the row's data) said no retry can help. */
  permanent: number
  announcements: Announcement[]
  finishedRuns: RunSummary[]
}

export function eventBase(o: Outcome) {
  return { runId: o.row.run_id, subscriptionId: o.row.subscription_id, processingId: o.row.id, scheduledFor: o.row.scheduled_for, attempt: o.attempt }
}

/** Per run, its calls' lateness as histogram counts and largest value: lateness is about when calls started. */
export function latenessByRun(outcomes: Outcome[]): Map<string, LatenessTally> {
  const values = new Map<string, number[]>()
  for (const o of outcomes) {
    if (o.startedAt === null) continue
    const list = values.get(o.row.run_id) ?? []
    list.push(o.startedAt - o.row.scheduled_for.getTime())
    values.set(o.row.run_id, list)
  }
  return new Map([...values].map(([runId, list]) => [runId, latenessTally(list)]))
}

const ZERO: OutcomeCounts = { successful: 0, failed: 0, retried: 0, skipped: 0 }

function tally(counts: Map<string, OutcomeCounts>, runId: string, key: keyof OutcomeCounts, n = 1): void {
  const c = counts.get(runId) ?? { ...ZERO }
  c[key] += n
  counts.set(runId, c)
}

function total(counts: Iterable<OutcomeCounts>): OutcomeCounts {
  const sum = { ...ZERO }
  for (const c of counts) for (const key of Object.keys(sum) as (keyof OutcomeCounts)[]) sum[key] += c[key]
  return sum
}

/** Settles `chunk`. Rides out nothing itself: the caller retries a transient failure whole. */
export async function settleChunk(deps: SettleDeps, chunk: Chunk): Promise<ChunkSettlement> {
  const { options, pool } = deps
  const now = options.clock.now()
  const successes = chunk.outcomes.filter((o): o is Success => o.kind === 'success')
  const announcements: Announcement[] = []
  const announceSuccesses = (done: Set<string>) => {
    for (const o of successes) if (done.has(o.row.id)) announcements.push(['subscription:succeeded', { ...eventBase(o), durationMs: o.durationMs, nextRunAt: o.nextRunAt }])
  }
  if (chunk.outcomes.length === 0 && !chunk.leftovers?.length) return { counts: { ...ZERO }, cancelled: 0, permanent: 0, announcements, finishedRuns: [] }

  const behind = successes.filter((o) => isBehind(options, o, now))
  if (successes.length === chunk.outcomes.length && !chunk.leftovers?.length && behind.length === 0) {
    const lateness = latenessByRun(chunk.outcomes)
    const { done, finishedRuns } = await completeInOneGo(pool, successes, now, lateness).catch((error: unknown) => {
      // One statement outside a transaction, under the host's lock_timeout: it waited on a lock
      // past it. Again in a transaction that waits (withTransaction).
      if ((error as { code?: unknown }).code !== '55P03') throw error
      return withTransaction(pool, (tx) => completeInOneGo(tx, successes, now, lateness))
    })
    announceSuccesses(done)
    const unmatched = successes.filter((o) => !done.has(o.row.id)).map(leftover)
    if (unmatched.length === 0) return { counts: { ...ZERO, successful: done.size }, cancelled: 0, permanent: 0, announcements, finishedRuns }
    // Rare: rows paused, deactivated or deleted while their calls were in flight, or their slot
    // already recorded.
    const rest = await settleChunk(deps, { outcomes: [], leftovers: unmatched })
    return { counts: { ...rest.counts, successful: done.size }, cancelled: 0, permanent: 0, announcements, finishedRuns: [...finishedRuns, ...rest.finishedRuns] }
  }

  return await withTransaction(pool, async (tx) => {
    const counts = new Map<string, OutcomeCounts>()
    const { rows } = successes.length > 0
      ? await tx.query<{ id: string }>(`${COMPLETE_ROWS} RETURNING sp.id`, [...rowParams(successes.map((o) => ({ ...owned(o), o })), ({ o }) => successValues(o)), now])
      : { rows: [] }
    const done = new Set(rows.map((r) => r.id))
    announceSuccesses(done)
    for (const o of successes) if (done.has(o.row.id)) tally(counts, o.row.run_id, 'successful')
    const claimedAgain = await claimNextSlots(tx, deps, behind.filter((o) => done.has(o.row.id)), now)

    const moved = await handOver(tx, deps, chunk.outcomes.filter((o): o is Cancelled => o.kind === 'cancelled' && o.handOver), now)
    const failures = chunk.outcomes.filter((o): o is Failure => o.kind === 'failure')
    const recorded = await recordFailures(tx, deps, failures, now)
    for (const o of recorded.list) {
      tally(counts, o.row.run_id, o.final ? 'failed' : 'retried')
      const detail = failureDetail(o)
      announcements.push(['subscription:failed', { ...eventBase(o), ...detail, final: o.final, permanent: o.permanent }])
      if (!o.final) announcements.push(['retry:scheduled', { ...eventBase(o), ...detail, retryAt: recorded.orphans.has(o.row.id) ? null : o.retryAt }])
      if (recorded.paused.has(o.row.id)) limitedLogOf(options, PAUSED_FOR_FAILURES).warn(pausedLine(options, o.row.subscription_id, recorded.pausedAgain.has(o.row.id)))
    }

    // Whatever was not recorded, handed over, or left to its job's next delivery, is let go of
    // (or was deleted): skipped, once.
    const settled = new Set([...done, ...moved, ...recorded.list.map((o) => o.row.id)])
    const abandoned = (o: Outcome) => o.kind === 'cancelled' && !o.handOver
    const unsettled = [...chunk.outcomes.filter((o) => !settled.has(o.row.id) && !abandoned(o)).map(leftover), ...(chunk.leftovers ?? [])]
    const repeats = await releaseRepeats(tx, unsettled.filter(succeeded), now)
    const outside = await releaseOutsideWindow(tx, unsettled.flatMap((r) => (r.outside ? [{ ...r, nextRunAt: r.outside.nextRunAt }] : [])), now)
    const rest = unsettled.filter((r) => !repeats.has(r.id) && !outside.has(r.id))
    const released = await releaseRows(tx, rest, now)
    for (const runId of [...repeats.values(), ...outside.values(), ...released.values()]) tally(counts, runId, 'skipped')
    const gone = await recordGone(tx, rest.filter((r) => !released.has(r.id)))
    for (const [runId, n] of gone) tally(counts, runId, 'skipped', n)

    const lateness = latenessByRun(chunk.outcomes)
    const finishedRuns: RunSummary[] = []
    // In a fixed order, so that two instances settling rows of the same runs never deadlock.
    for (const runId of [...new Set([...counts.keys(), ...lateness.keys()])].sort()) {
      const again = claimedAgain.get(runId)
      if (again) await addClaimed(tx, runId, again)
      const finished = await addOutcomes(tx, runId, counts.get(runId) ?? ZERO, now, lateness.get(runId))
      if (finished) finishedRuns.push(finished)
    }
    const permanent = recorded.list.filter((o) => o.final && o.permanent).length
    return { counts: total(counts.values()), cancelled: recorded.list.filter((o) => o.cancelled).length, permanent, announcements, finishedRuns }
  })
}
