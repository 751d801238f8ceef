/**
 * Which rows of a page job are still this instance's to call. A row waiting for its turn may be
 * let go of before it comes: a re-check finds it revoked (paused, deactivated, deleted, or calls
 * paused), or it is handed to another job, for an instance with call slots free (share-out.ts).
 * Its outcome is recorded then, and it is passed over at its turn. Until then the call gate does
 * not count it as waiting: not in the instance's reports, nor for its loops' next fetch.
 */
import type { Outcome, PageRow } from '../settle/outcome.js'
import type { CallGate } from './call-gate.js'

export interface PageTurns {
  /** At a row's turn: whether it is still this job's call to make (false: it was let go of, and is passed over). */
  take(id: string): boolean
  /** Lets go of a row whose turn has not come, recording `outcome` for it; false when its turn came, or it was let go of already. */
  letGo(id: string, outcome: Outcome): boolean
  /** Hands up to `max` waiting rows, the last to come first, to another job of their run; how many it did. */
  handOver(max: number): number
  /** The page's calls are over: rows let go of whose turn never came are no longer set aside. */
  end(): void
}

/**
 * The turns of `rows`, page job `jobId`'s, each outcome given to `record`. `counted`: the gate
 * counts every row as waiting from the start (not so for a spread page, whose rows are counted
 * as their starts come), so that a row let go of is set aside in its count.
 */
export function pageTurns(jobId: string, rows: PageRow[], gate: CallGate, record: (outcome: Outcome) => void, counted: boolean): PageTurns {
  const taken = new Set<string>()
  const letGo = new Set<string>()
  // Let go of, and set aside in the gate's count, until their turn.
  let aside = 0
  let over = false
  const turns: PageTurns = {
    take(id) {
      if (!letGo.has(id)) return taken.add(id), true
      if (counted && aside > 0) {
        aside -= 1
        gate.setAside(-1)
      }
      return false
    },
    letGo(id, outcome) {
      if (over || taken.has(id) || letGo.has(id)) return false
      letGo.add(id)
      if (counted) {
        aside += 1
        gate.setAside(1)
      }
      record(outcome)
      return true
    },
    handOver(max) {
      let given = 0
      for (let i = rows.length - 1; i >= 0 && given < max; i--) {
        const row = rows[i]!
        if (turns.letGo(row.id, { kind: 'cancelled', jobId, row, attempt: row.attempts + 1, startedAt: null, handOver: true })) given += 1
      }
      return given
    },
    end() {
      over = true
      gate.setAside(-aside)
      aside = 0
    },
  }
  return turns
}
