/**
 * A page's rows wait their turn in the call gate, for as long as the calls ahead of them take.
 * Meanwhile an operator may pause one, or the host deactivate or delete it: while a page has rows
 * not yet called, their state is read again every so often (by primary key), and a row no longer
 * callable is not called. A row whose state was last read longer ago than that is read again
 * before its call, so a change older than one re-check is always seen, and so is a fleet-wide
 * pause of calls this process made. Reads of jobs that ask together are one statement. Each read
 * also brings the subscription's `user_id` as it is now: a call made after a change carries the
 * new one, as a deactivation made then is seen, not the one its job read when it started.
 */
import type { Logger } from '../observe/logger.js'
import type { CallableReader } from './page-rows.js'
import { callsPauseChangedAt } from '../records/calls-pause.js'

/** How often a page's waiting rows are looked at again, and how old a read may be at a call. */
export const RECHECK_MS = 250

/** How a waiting row stands at its turn. */
export type Standing =
  /** Not to be called: paused, deactivated, deleted or taken over since its job read it. */
  | { revoked: true }
  /** To be called; `userId`: its subscription's as last read, undefined when not read again since its job's read. */
  | { revoked: false; userId?: string | null }

export interface Revocations {
  /** Takes the row out of the waiting set, and says how it stands. */
  take(id: string): Promise<Standing>
  stop(): void
}

/**
 * Watches `waiting`, whose state was read at `readAt` (ms since the epoch), until `halted` aborts:
 * once stop() has begun, rows not called yet go to other jobs, and nothing more is read here (a
 * read after stop() resolved went to a pool the host may have ended). `onRevoked` hears of each
 * waiting row a re-check finds revoked, at once, and the row leaves the waiting set: its job lets
 * it go then, not at its turn, which comes only as the calls ahead of it end (a trial's paused
 * rows stayed claimed for the 20 s of the calls in flight).
 */
export function watchRevocations(
  reader: CallableReader,
  jobId: string,
  waiting: Iterable<string>,
  logger: Logger,
  readAt: number,
  halted?: AbortSignal,
  onRevoked?: (id: string) => void,
): Revocations {
  const pending = new Set(waiting)
  const revoked = new Set<string>()
  const userIds = new Map<string, string | null>()
  const taking = new Set<string>()
  let lastRead = readAt
  let checking: Promise<void> | null = null
  const read = async (ids: string[], startedAt: number) => {
    try {
      const callable = await reader.read(jobId, ids)
      for (const id of ids) {
        if (callable.has(id)) userIds.set(id, callable.get(id)!)
        // A row whose turn has come (its take() awaits this read) is its caller's to pass over.
        else if (onRevoked && !taking.has(id) && pending.delete(id)) onRevoked(id)
        else revoked.add(id)
      }
    } catch (error) {
      // Not fatal: the rows are called, and their outcomes are recorded only if still owned.
      // Calls do not wait on a database that is gone: the next tick reads again.
      logger.debug(`Re-reading the waiting rows of job ${jobId} failed: ${(error as Error).message}`)
    } finally {
      lastRead = startedAt
      checking = null
    }
  }
  const check = (): Promise<void> => {
    if (!checking && pending.size > 0 && !halted?.aborted) checking = read([...pending], Date.now())
    return checking ?? Promise.resolve()
  }
  const timer = setInterval(() => void check(), RECHECK_MS)
  timer.unref()
  // A job's own read that took longer than a re-check (retried through an outage) is refreshed
  // at once.
  if (Date.now() - lastRead > RECHECK_MS) void check()
  return {
    async take(id) {
      taking.add(id)
      // A read under way may have begun before a pause made in this process: then one more.
      // Once stop() has begun, a read still under way (waiting on a host's lock) is not waited
      // for: the row goes to another job, which reads it again.
      for (let reads = 0; reads < 2 && !halted?.aborted && (Date.now() - lastRead > RECHECK_MS || lastRead < callsPauseChangedAt()); reads++) {
        await untilAborted(check(), halted)
      }
      pending.delete(id)
      taking.delete(id)
      if (revoked.has(id)) return { revoked: true }
      return userIds.has(id) ? { revoked: false, userId: userIds.get(id)! } : { revoked: false }
    },
    stop() {
      clearInterval(timer)
    },
  }
}

/** Resolves once `work` has (it never rejects), or once `signal` aborts, whichever is first. */
function untilAborted(work: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return work
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
    void work.then(done)
  })
}
