/**
 * A page's rows wait their turn in the call gate, for as long as the calls ahead of them take.
 * Meanwhile an operator may pause one, or the host deactivate or delete it: while a page has rows
 * not yet called, their state is read again every so often (by primary key), and a row no longer
 * callable is not called.
 */
import type { Executor } from '../db/executor.js'
import type { Logger } from '../observe/logger.js'
import { stillCallable } from './page-rows.js'

/** How often a page's waiting rows are looked at again. */
const RECHECK_MS = 250

export interface Revocations {
  /** Takes the row out of the waiting set; true when it must not be called. */
  take(id: string): boolean
  stop(): void
}

export function watchRevocations(db: Executor, jobId: string, waiting: Iterable<string>, logger: Logger): Revocations {
  const pending = new Set(waiting)
  const revoked = new Set<string>()
  let checking = false
  const check = async () => {
    if (checking || pending.size === 0) return
    checking = true
    try {
      const ids = [...pending]
      const callable = await stillCallable(db, jobId, ids)
      for (const id of ids) if (!callable.has(id)) revoked.add(id)
    } catch (error) {
      // Not fatal: the rows are called, and their outcomes are recorded only if still owned.
      logger.debug(`Re-reading the waiting rows of job ${jobId} failed: ${(error as Error).message}`)
    } finally {
      checking = false
    }
  }
  const timer = setInterval(() => void check(), RECHECK_MS)
  timer.unref()
  return {
    take(id) {
      pending.delete(id)
      return revoked.has(id)
    },
    stop() {
      clearInterval(timer)
    },
  }
}
