/**
 * Calls that wait here, shared out with instances whose call slots stand free. An instance fetches
 * rounds of calls ahead (its fetch loops, a few jobs each), which with slow calls is work its peers
 * cannot take: a run of a few jobs, or the end of any run, was called by one instance while the
 * others idled, and instances added mid-run got nothing (a trial: one instance had 24 calls
 * waiting while another had none in flight).
 *
 * Every {@link CHECK_EVERY_MS}, while more calls wait here than this instance makes in
 * {@link SHARE_AFTER_MS} at its recent pace (and more than a round), twice in a row, it reads its
 * peers' last reports. Waiting rows, the last to come first, go to a new job of their run, as
 * stop() hands its rows over, for the peers that have nothing waiting to fetch: their share by
 * call slots, the peers' free ones against this instance's. Each row keeps its claim, its
 * attempt and its key.
 *
 * Not with fleet-wide limits (`maxConcurrentCalls`, `maxCallsPerSecond`: calls wait for those, on
 * every instance alike), nor while a circuit breaker holds calls back, nor for spread pages (their
 * calls wait for their starts, not for a slot).
 */
import { performance } from 'node:perf_hooks'
import type { Pool } from 'pg'
import { isTransientDbError } from '../db/transient.js'
import type { ResolvedOptions } from '../config/options.js'
import type { Logger } from '../observe/logger.js'
import { spareCallSlots } from '../records/instances.js'
import type { Breaker } from './breaker.js'
import type { CallGate } from './call-gate.js'

/** How often the calls waiting here are looked at. */
const CHECK_EVERY_MS = 1_000
/** Calls this instance makes within this time at its recent pace are kept here. */
export const SHARE_AFTER_MS = 2_000
/** Hand-overs are said at most this often. */
const SAY_EVERY_MS = 60_000

/** A page job's rows waiting for their turn, which it hands over on demand (page-turns.ts). */
export interface Shareable {
  /** Hands up to `max` waiting rows to another job; how many it did. */
  handOver(max: number): number
}

export interface ShareOut {
  /** Offers a page's waiting rows until the returned function withdraws them (its calls are over). */
  offer(page: Shareable): () => void
  /** Starts looking, as instance `instanceId` (its row in the instances table). */
  start(instanceId: string): void
}

export interface ShareOutDeps {
  pool: Pool
  options: Pick<ResolvedOptions, 'work' | 'concurrency' | 'maxConcurrentCalls' | 'maxCallsPerSecond' | 'queuePrefix' | 'bossSchema' | 'logger'>
  gate: CallGate
  breaker: Breaker | null
  haltSignal: AbortSignal
}

const NONE: ShareOut = { offer: () => () => {}, start() {} }

/** Says the hand-overs: the first at once, then at most a line a minute, with those since the last. */
function saidAtMostEachMinute(logger: Logger): { add(given: number, left: number): void } {
  let unsaid = 0
  let saidAt = Number.NEGATIVE_INFINITY
  return {
    add(given, left) {
      unsaid += given
      const now = performance.now()
      if (now - saidAt < SAY_EVERY_MS) return
      const since = saidAt === Number.NEGATIVE_INFINITY ? '' : ' since the last such line'
      logger.info(`Handed ${unsaid} waiting call${unsaid === 1 ? '' : 's'} to instances with call slots free${since} (in jobs of their runs, with their keys); ${left} still wait here.`)
      unsaid = 0
      saidAt = now
    },
  }
}

export function createShareOut(deps: ShareOutDeps): ShareOut {
  const { pool, options, gate, breaker, haltSignal } = deps
  if (!options.work || options.maxConcurrentCalls !== null || options.maxCallsPerSecond !== null) return NONE
  // In the order offered: the last offered hand over first.
  const pages = new Set<Shareable>()
  const scope = { queuePrefix: options.queuePrefix, bossSchema: options.bossSchema }
  let ended = gate.ended()
  let lookedAt = performance.now()
  let behind = 0
  let looking = false
  let failureSaid = false
  const said = saidAtMostEachMinute(options.logger)

  /** How many calls wait here beyond what this instance makes in SHARE_AFTER_MS; 0 while it keeps up. */
  const excess = (): number => {
    const now = performance.now()
    const endedNow = gate.ended()
    const rate = (endedNow - ended) / Math.max(1, now - lookedAt)
    ended = endedNow
    lookedAt = now
    const keep = Math.max(options.concurrency, Math.ceil(rate * SHARE_AFTER_MS))
    return Math.max(0, gate.load().waiting - keep)
  }

  const look = async (instanceId: string) => {
    const over = excess()
    behind = over > 0 ? behind + 1 : 0
    if (behind < 2 || looking || haltSignal.aborted || pages.size === 0) return
    if (breaker && breaker.health().state !== 'closed') return
    looking = true
    try {
      // The waiting calls split by call slots, theirs free and these: all then end about together.
      const spare = await spareCallSlots(pool, scope, instanceId)
      let left = Math.min(over, Math.floor((gate.load().waiting * spare) / (spare + options.concurrency)))
      let given = 0
      for (const page of [...pages].reverse()) {
        if (left <= 0 || haltSignal.aborted) break
        const n = page.handOver(left)
        left -= n
        given += n
      }
      if (given > 0) said.add(given, gate.load().waiting)
    } catch (error) {
      // An outage is said apart (observe/outage.ts); anything else once.
      if (!isTransientDbError(error) && !failureSaid) {
        failureSaid = true
        options.logger.warn(`Could not read which instances have call slots free (${(error as Error).message}); the calls waiting here stay here for now.`)
      }
    } finally {
      looking = false
    }
  }

  return {
    offer(page) {
      pages.add(page)
      return () => void pages.delete(page)
    },
    start(instanceId) {
      const timer = setInterval(() => void look(instanceId), CHECK_EVERY_MS)
      timer.unref()
      haltSignal.addEventListener('abort', () => clearInterval(timer), { once: true })
    },
  }
}
