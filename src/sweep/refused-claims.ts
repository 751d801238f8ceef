/**
 * Rows whose claim a host refuses. A claim updates a page of rows in one statement, so a host's
 * trigger or constraint that refuses one row's update (`RAISE EXCEPTION`, a CHECK it added) fails
 * the whole page: a trial saw every sweep stop at the page holding one such row, 4,936 of 5,000
 * subscriptions left due. The sweep narrows the page down to the refused row (a quarter the rows
 * at each failure), steps past it, and goes on; the row stays due, the run's error names it, and
 * the failure history has an entry for it (what `listFailures()` and a subscription's
 * `recentErrors` show), since nothing can be written on the row itself.
 */
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import type { Logger } from '../observe/logger.js'
import { refusalText } from '../observe/describe-error.js'

/** A one-row claim a host's rule refused, with the row it was: the sweep steps past it. */
export class RefusedClaim extends Error {
  constructor(
    readonly row: { key: string; id: string; subscription_id: string },
    readonly refusal: unknown,
  ) {
    super((refusal as Error).message ?? String(refusal))
    this.name = 'RefusedClaim'
  }
}

/** The uuid just below `id` in Postgres's order (its 128 bits, one less): a cursor that `id` comes first after. */
export function uuidBefore(id: string): string {
  const bits = BigInt(`0x${id.replace(/-/g, '')}`)
  if (bits === 0n) return id
  const hex = (bits - 1n).toString(16).padStart(32, '0')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** How many refused rows one sweep steps past before it takes the refusals for a rule on every row and stops. */
export const MAX_REFUSED = 100

/** An error a host's rule raises for a row: `RAISE EXCEPTION` (P0001), or an integrity constraint (class 23). */
export function isRowRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code === 'P0001' || code.startsWith('23'))
}

export interface RefusedClaims {
  /** Whether the sweep may step past one more refused row, or must stop with the error. */
  canSkip(): boolean
  /** Records that row `processingId`'s claim (of `subscriptionId`) was refused with `error`, once per subscription. */
  add(subscriptionId: string, processingId: string, error: unknown): void
  /** The run's error, if any row was refused. */
  summary(): string | null
  /**
   * The run's error when the sweep stopped at `error`, one refusal past {@link MAX_REFUSED}; null
   * when `error` is no such stop (the sweep then fails with it).
   */
  stoppedAt(error: unknown, claimed: number): string | null
  /** Adds an entry per refused row to the failure history, at `now`. */
  record(db: Executor, now: Date): Promise<void>
}

export function createRefusedClaims(runId: string, logger: Logger): RefusedClaims {
  const refused = new Map<string, string>()
  const rows = new Map<string, string>()
  return {
    canSkip: () => refused.size < MAX_REFUSED,
    add(subscriptionId, processingId, error) {
      if (refused.has(subscriptionId)) return
      const message = refusalText(error)
      refused.set(subscriptionId, message)
      rows.set(processingId, message)
      logger.warn(
        `Run ${runId}: subscription ${subscriptionId} could not be claimed: ${message}. A trigger or constraint of yours refused the update ` +
          'of its subscription_processing row; the sweep goes on without it, and it stays due for the next one.',
      )
    },
    summary() {
      if (refused.size === 0) return null
      const [[first, message]] = [...refused] as [[string, string]]
      const n = refused.size
      return `${n} subscription${n === 1 ? ' was' : 's were'} not claimed: a trigger or constraint of yours refused the update of ` +
        `${n === 1 ? 'its row' : 'their rows'} (${first}: ${message}${n > 1 ? `; the others are in the log and listFailures()` : ''}). ${n === 1 ? 'It stays' : 'They stay'} due for the next sweep.`
    },
    stoppedAt(error, claimed) {
      if (!isRowRefusal(error) || refused.size < MAX_REFUSED) return null
      return `The sweep stopped after ${claimed} subscriptions: a trigger or constraint of yours refused the claim of ${MAX_REFUSED} rows ` +
        `and then of another (${refusalText(error)}), which it takes for a rule refusing every row. ` +
        'Those refused are in the log and listFailures(); the rows not reached stay due for the next sweep.'
    },
    async record(db, now) {
      if (rows.size === 0) return
      // The slot and attempt the claim was for, as the claim statement (claim-sql.ts) reads them.
      await db.query(
        `INSERT INTO ${TABLES.failures} (processing_id, subscription_id, run_id, scheduled_for, attempt, final, error, status, failed_at)
         SELECT sp.id, sp.subscription_id, $3::uuid,
                CASE WHEN sp.status IN ('queued', 'processing') THEN COALESCE(sp.scheduled_for, sp.next_run_at, $4) ELSE COALESCE(sp.next_run_at, sp.scheduled_for, $4) END,
                CASE WHEN sp.status IN ('queued', 'processing') THEN sp.attempts + 1 ELSE 1 END,
                false, 'its claim could not be written: ' || r.error || '. A trigger or constraint of yours refused the update of its row; it stays due for the next sweep.', NULL, $4
           FROM unnest($1::uuid[], $2::text[]) AS r(id, error) JOIN subscription_processing sp ON sp.id = r.id`,
        [[...rows.keys()], [...rows.values()], runId, now],
      )
    },
  }
}
