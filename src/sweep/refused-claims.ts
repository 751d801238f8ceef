/**
 * Rows whose claim a host refuses. A claim updates a page of rows in one statement, so a host's
 * trigger or constraint that refuses one row's update (`RAISE EXCEPTION`, a CHECK it added) fails
 * the whole page: a trial saw every sweep stop at the page holding one such row, 4,936 of 5,000
 * subscriptions left due. The sweep narrows the page down to the refused row (a quarter the rows
 * at each failure), steps past it, and goes on; the row stays due, and the run's error names it.
 */
import type { Logger } from '../observe/logger.js'

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
  /** Records that `subscriptionId`'s claim was refused with `error`, once per subscription. */
  add(subscriptionId: string, error: unknown): void
  /** The run's error, if any row was refused. */
  summary(): string | null
}

export function createRefusedClaims(runId: string, logger: Logger): RefusedClaims {
  const refused = new Map<string, string>()
  return {
    canSkip: () => refused.size < MAX_REFUSED,
    add(subscriptionId, error) {
      if (refused.has(subscriptionId)) return
      const message = (error as Error).message ?? String(error)
      refused.set(subscriptionId, message)
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
        `${n === 1 ? 'its row' : 'their rows'} (${first}: ${message}${n > 1 ? `; the others are in the log` : ''}). ${n === 1 ? 'It stays' : 'They stay'} due for the next sweep.`
    },
  }
}
