/**
 * What the process stage needs from the running engine, built once at start (runtime/engine.ts).
 * Types only.
 */
import type { StallWatch } from './lock-stall.js'
import type { Pool } from 'pg'
import type { PgBoss } from 'pg-boss'
import type { ResolvedOptions } from '../config/options.js'
import type { EventBus } from '../observe/events.js'
import type { Telemetry } from '../observe/telemetry.js'
import type { WorkerClient } from '../worker-client/types.js'
import type { Breaker } from './breaker.js'
import type { CallGate } from './call-gate.js'
import type { CallableReader, PageReader } from './page-rows.js'
import type { SettleQueue } from './settle-queue.js'
import type { ShareOut } from './share-out.js'
import type { PendingSettles } from '../records/wait-for-run.js'

export interface ProcessorContext {
  pool: Pool
  boss: PgBoss
  processQueue: string
  deadQueue: string
  options: ResolvedOptions
  workerClient: WorkerClient
  events: EventBus
  telemetry: Telemetry
  /** Aborted as soon as `stop()` begins: calls not yet started are not made; their rows go to another job. */
  haltSignal: AbortSignal
  /** Aborted when `stop()`'s deadline passes: calls in flight are cancelled, and retried. */
  cancelSignal: AbortSignal
  /**
   * Aborted when `stop()` has waited as long as it may (its deadline, and pg-boss's grace after
   * it): the database retries of jobs still running give up, so that none outlives the stop.
   */
  giveUpSignal: AbortSignal
  /** The fetches of jobs this instance is running: `stop()` waits for them. */
  inHand: Set<Promise<unknown>>
  /** Jobs that gave up when the stop did, with what kept them from recording: `stop()` says so once. */
  givenUp: { jobs: number; subscriptions: number; reason: string | null }
  /**
   * Calls ended (timed out, expired, cancelled) whose client has not answered yet: one that ignores
   * its signal goes on working after them, and `stop()` says how many it leaves so.
   */
  unanswered: { calls: number }
  /** Where every worker call of this instance waits its turn. */
  gate: CallGate
  /** Shares calls waiting here out to instances with call slots free (share-out.ts). */
  shareOut: ShareOut
  /** Holds calls back while the worker service seems down (`circuitBreaker`); null without one. */
  breaker: Breaker | null
  /** Where every outcome of this instance waits to be recorded, in chunks. */
  settleQueue: SettleQueue
  /** Says a settle that waits long on a lock, naming who holds it. */
  stallWatch: StallWatch
  /** Its settles until announced: a wait that read its run finished waits for them (records/wait-for-run.ts). */
  settles: PendingSettles
  /** Reads the rows of jobs that start, those that start together in one statement. */
  pages: PageReader
  /** Re-reads rows waiting for their calls, the reads of jobs that ask together in one statement. */
  callable: CallableReader
}
