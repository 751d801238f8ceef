/**
 * One page job, run: read the rows it owns, call the worker for each through the call gate (each
 * spread call at its own start), and settle the outcomes in chunks as the calls finish. Events
 * go out once each chunk has committed.
 */
import { schedulerNowMs } from '../observe/database-clock.js'
import { SubscriptionDataError } from '../errors.js'
import { isTransientDbError, retryTransient, writeRefusal } from '../db/transient.js'
import { refusedFrequency } from '../schedule/unknown-frequency.js'
import { rowScheduleError } from '../schedule/row-schedule.js'
import { spreadStart } from '../schedule/spread.js'
import { nonInstant } from '../records/instants.js'
import { refusesCaller } from '../settle/outcome.js'
import type { Outcome, PageRow } from '../settle/outcome.js'
import { settleChunk } from '../settle/settle-chunk.js'
import type { Chunk } from '../settle/settle-chunk.js'
import type { Admitted, CallVerdict } from './breaker.js'
import { measured, openCallScope } from './call-worker.js'
import type { CallScope } from './call-worker.js'
import type { ProcessorContext } from './context.js'
import { failedCall, failure, logFailure, success, unrecordedSuccess } from './outcome.js'
import type { Call } from './outcome.js'
import type { PageJob } from './page-job.js'
import { pageTurns } from './page-turns.js'
import { awaitRedeliveryGrace, logRedelivery } from './redelivery.js'
import { noteRefusal } from './refused-credentials.js'
import { watchRevocations } from './revocations.js'
import { movesOutOfWindow, outsideWindow } from './slot-window.js'
import type { Revocations } from './revocations.js'

/**
 * Tries to record outcomes at least this often while the database is out of reach: once it is
 * back, its page's job, whose heartbeat lapsed meanwhile, is delivered again (to this instance or
 * another) within a few seconds, and every outcome not recorded by then (redelivery.ts waits a
 * grace for them) is called again.
 */
const SETTLE_RETRY_MAX_MS = 1_000

const outcomeCount = (n: number) => `${n} outcome${n === 1 ? '' : 's'}`

/**
 * Records a chunk, riding out a database outage (the calls are made: losing their outcomes would
 * mean calling again), then announces it once committed. One per instance: see settle-queue.ts.
 */
export async function settleAndAnnounce(ctx: ProcessorContext, chunk: Chunk): Promise<void> {
  const { options, telemetry, events } = ctx
  // A chunk whose turn comes once a stop has given up (its settles ahead held by a lock, say) is
  // not written: stop() has resolved, and the host may have ended the pool. pg-boss has failed its
  // job, which comes back to call what it did not record, with the same keys.
  ctx.giveUpSignal.throwIfAborted()
  const deps = { pool: ctx.pool, boss: ctx.boss, processQueue: ctx.processQueue, deadQueue: ctx.deadQueue, options }
  const outcomes = chunk.outcomes.length + (chunk.leftovers?.length ?? 0)
  const settled = await ctx.stallWatch.watch(retryTransient(() => settleChunk(deps, chunk), {
    logger: options.logger,
    what: `recording ${outcomeCount(outcomes)}`,
    maxDelayMs: SETTLE_RETRY_MAX_MS,
    signal: ctx.giveUpSignal,
    // The calls are made: a privilege revoked, a read-only failover, a full disk is waited out too.
    holdThroughRefusals: true,
  }), outcomes)
  for (const [event, payload] of settled.announcements) events.emit(event, payload as never)
  for (const run of settled.finishedRuns) events.emit('run:finished', run)
  telemetry.succeeded(settled.counts.successful)
  // Every failed attempt, final or not (its instrument's description); the retries once more.
  telemetry.failed(settled.counts.failed - settled.permanent, true)
  telemetry.failed(settled.permanent, true, false, true)
  telemetry.failed(settled.counts.retried - settled.cancelled, false)
  telemetry.failed(settled.cancelled, false, true)
  telemetry.retried(settled.counts.retried - settled.cancelled)
  telemetry.retried(settled.cancelled, true)
}

/** What in the row's own schedule cannot be used, checked before a call whose next slot needs it. */
function invalidSchedule(row: PageRow, options: ProcessorContext['options']): SubscriptionDataError | null {
  return rowScheduleError(row) ?? nonInstant(row, ['anchor_at', 'starts_at', 'ends_at']) ?? refusedFrequency(options, row.subscription_id, row.frequency)
}

/** Calls the worker for one row, and says how it ended. */
async function callOne(ctx: ProcessorContext, job: PageJob, calls: CallScope, read: PageRow, revocations: Revocations): Promise<Outcome> {
  const { options } = ctx
  const attempt = read.attempts + 1
  const jobId = job.id
  // Reads nothing once stop() began (revocations.ts): the check after it hands the row over.
  const standing = await revocations.take(read.id)
  if (standing.revoked) return { kind: 'skipped', jobId, row: read, attempt, startedAt: null }
  // Its user as it is now: a change since its job read the row goes with the call.
  const row = standing.userId === undefined || standing.userId === read.user_id ? read : { ...read, user_id: standing.userId }
  // Not started when stop() began: another job of the run makes this call.
  if (ctx.haltSignal.aborted) return { kind: 'cancelled', jobId, row, attempt, startedAt: null, handOver: true }
  const call: Call = { jobId, row, attempt, startedAt: null }
  const cut = () => ({ cancelled: ctx.cancelSignal.aborted, expired: job.signal.aborted })
  const invalid = invalidSchedule(row, options)
  if (invalid) return failure(options, call, invalid, cut())
  if (!row.user_id) {
    return failure(options, call, new SubscriptionDataError(`Subscription ${row.subscription_id} has no user_id; set subscriptions.user_id, then retry it.`, { subscriptionId: row.subscription_id, column: 'subscriptions.user_id' }), cut())
  }
  const admission = ctx.breaker ? await ctx.breaker.admit() : GO
  if (!admission.call) return held(ctx, call, admission.holdMs)
  // The breaker hears how every admitted call went, once: a probe's waiters wait for its verdict.
  let outcome: Outcome | undefined
  try {
    outcome = await callAdmitted(ctx, calls, call, cut)
  } finally {
    if (!outcome) ctx.breaker?.record(NEUTRAL, admission)
  }
  noteRefusal(options, outcome, ctx.breaker !== null)
  const holdMs = ctx.breaker?.record(verdictOf(outcome), admission) ?? null
  // A probe that failed uses up no attempt: its row waits for the next probe with the others.
  if (holdMs !== null) return held(ctx, call, holdMs)
  if (outcome.kind === 'failure') logFailure(options, outcome)
  return outcome
}

const GO: Admitted = { call: true, probe: false, epoch: 0 }
const NEUTRAL: CallVerdict = { kind: 'neutral' }
const ANSWERED: CallVerdict = { kind: 'answered' }

/** A row the circuit breaker holds back: handed over to a job that starts when the hold ends. */
function held(ctx: ProcessorContext, call: Call, holdMs: number): Outcome {
  ctx.telemetry.held()
  return { kind: 'cancelled', jobId: call.jobId, row: call.row, attempt: call.attempt, startedAt: null, handOver: true, resumeAt: Date.now() + holdMs }
}

/**
 * When each row's spread call may start, on this host's clock (the gate's timers run on it): the
 * start is an instant by the scheduler's clock, moved by the host's offset from it, read once per
 * page so the order holds. A host behind the database would otherwise call late by all its skew.
 */
function spreadStartOnHost(ctx: ProcessorContext, spreadMs: number): (row: PageRow) => number {
  const hostNow = Date.now()
  const hostMinusScheduler = hostNow - schedulerNowMs(ctx.options.clock, hostNow)
  return (row) => spreadStart(row.subscription_id, row.scheduled_for, spreadMs) + hostMinusScheduler
}

/** Makes the call, measured; a failure is not logged yet (a failed probe is not an attempt). */
async function callAdmitted(ctx: ProcessorContext, calls: CallScope, call: Call, cut: () => { cancelled: boolean; expired: boolean }): Promise<Outcome> {
  const { row, attempt } = call
  // stop() began while it waited for a probe: the call goes to another job, as any not made yet.
  if (ctx.haltSignal.aborted) return { kind: 'cancelled', jobId: call.jobId, row, attempt, startedAt: null, handOver: true }
  const started = Date.now()
  // By the scheduler's clock (the database's, when the host's is off; a test's manual one): lateness is against the slot.
  const startedAt = schedulerNowMs(ctx.options.clock, started)
  const called = { ...call, startedAt }
  try {
    const answer = await measured(ctx, { row, attempt, started, latenessMs: startedAt - row.scheduled_for.getTime() }, () => calls.call(row, row.user_id!, attempt))
    return success(ctx.options, called, answer.response, answer.durationMs)
  } catch (error) {
    return failedCall(ctx.options, called, error, cut())
  }
}

/**
 * What a call's outcome says of the worker service: a 4xx is an answer, as is a 409 (a call
 * under the same key still in progress: the worker is up and at work), but not one that refuses
 * the scheduler's credentials (refused-credentials.ts): every call would get it. A call cut short
 * says nothing.
 */
function verdictOf(outcome: Outcome): CallVerdict {
  if (outcome.kind === 'failure' && refusesCaller(outcome)) return { kind: 'failed', error: outcome.error, retryAfterMs: outcome.retryAfterMs }
  if (outcome.kind === 'success' || (outcome.kind === 'failure' && (outcome.permanent || outcome.status === 409))) return ANSWERED
  if (outcome.kind !== 'failure' || outcome.cancelled) return NEUTRAL
  return { kind: 'failed', error: outcome.error, retryAfterMs: outcome.retryAfterMs }
}

/**
 * Records an outcome. A success the database refuses on its own row (a chunk that fails is
 * recorded again an outcome at a time) is recorded as a failed attempt instead, retried and in the
 * end failed as any other. A refusal of that too, or an outage that outlasted stop(), rejects.
 */
function recordOutcome(ctx: ProcessorContext, outcome: Outcome): Promise<void> {
  return ctx.settleQueue.add(outcome).catch((error: unknown) => {
    // Refused on every row alike (writeRefusal): not this row's doing, so not a failed attempt of its own.
    if (outcome.kind !== 'success' || isTransientDbError(error) || writeRefusal(error) !== undefined || ctx.giveUpSignal.aborted) throw error
    const instead = ctx.settleQueue.add(unrecordedSuccess(ctx.options, outcome, error))
    ctx.settleQueue.flush()
    return instead
  })
}

/**
 * Runs a page job: it reads its rows when it starts (the jobs of one fetch in one statement), so
 * its calls carry what the host has changed since the claim, and a delivery after one that
 * settled some of them finds only those left. The claim carries nothing to the job but the ids:
 * carrying the rows made every job bigger for pg-boss to write and fetch, and a job fetched more
 * than a re-check after its claim (most of a big sweep's) had to read them again anyway.
 */
export async function processPage(ctx: ProcessorContext, job: PageJob): Promise<void> {
  const { runId, ids, spreadMs = 0 } = job.data
  const retry = { logger: ctx.options.logger, what: `reading the ${ids.length} rows of a job of run ${runId}`, signal: ctx.giveUpSignal }
  await awaitRedeliveryGrace(ctx, job)
  const readAt = Date.now()
  const page = await retryTransient(() => ctx.pages.read(job.id, ids), retry)
  if (job.retryCount > 0) logRedelivery(ctx, job, page.callable.length)
  // A schedule that cannot be used fails its row at its call, with the column to fix.
  const outside = page.callable.filter((row) => outsideWindow(row) && invalidSchedule(row, ctx.options) === null)
  const leftovers = [...page.leftovers.map((id) => ({ id, jobId: job.id, runId })), ...movesOutOfWindow(ctx.options, job.id, outside)]
  if (leftovers.length > 0) await ctx.settles.track(settleAndAnnounce(ctx, { outcomes: [], leftovers }))
  const moved = new Set(outside)
  const callable = moved.size === 0 ? page.callable : page.callable.filter((row) => !moved.has(row))
  // Each outcome's settle is observed as it is made: one refused while the page still calls
  // others (a host's trigger, a lock timeout) is kept here, not left an unhandled rejection.
  const settled: Promise<void>[] = []
  let refused: { error: unknown } | undefined
  const record = (outcome: Outcome) => void settled.push(recordOutcome(ctx, outcome).catch((error: unknown) => void (refused ??= { error })))
  // A row a re-check finds paused, deactivated or deleted while it waits its turn is let go of
  // then, and passed over at its turn; so is one handed to an instance with call slots free.
  const turns = pageTurns(job.id, callable, ctx.gate, record, spreadMs === 0)
  const byId = new Map(callable.map((row) => [row.id, row]))
  const release = (id: string) => {
    const row = byId.get(id)!
    turns.letGo(id, { kind: 'skipped', jobId: job.id, row, attempt: row.attempts + 1, startedAt: null })
  }
  const revocations = watchRevocations(ctx.callable, job.id, byId.keys(), ctx.options.logger, readAt, ctx.haltSignal, release)
  // A spread page's calls wait for their starts, not for a slot here: none is shared out.
  const withdraw = spreadMs === 0 ? ctx.shareOut.offer(turns) : () => {}
  const calls = openCallScope(ctx, job.signal)
  try {
    await ctx.gate.runEach(callable, async (row) => void (turns.take(row.id) && record(await callOne(ctx, job, calls, row, revocations))), {
      signal: ctx.haltSignal,
      ...(spreadMs > 0 ? { startAt: spreadStartOnHost(ctx, spreadMs) } : {}),
    })
  } finally {
    withdraw()
    turns.end()
    calls.close()
    revocations.stop()
  }
  ctx.settleQueue.flush()
  // The job is done once every outcome is recorded; one that could not be, not even as a failed
  // attempt, fails the job, and pg-boss delivers it again: the rows it still owns are called then.
  await Promise.all(settled)
  if (refused) throw refused.error
}
