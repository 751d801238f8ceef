/**
 * `maxConcurrentCalls` as rows of `call_permits`, one per permit, shared by every instance. A
 * wave of calls takes some, gives each back as its call ends, and renews the lease of those it
 * still holds every few seconds: a permit outlives its lease only while its instance is alive,
 * so one held by an instance that died comes back within a lease, however long a call may take.
 */
import type { Pool } from 'pg'
import { TABLES } from '../db/names.js'

/** Renewals per lease: two may fail (a stalled event loop, a database hiccup) before it lapses. */
const RENEWALS_PER_LEASE = 3

export async function takePermits(pool: Pool, scope: string, holder: string, wanted: number, holdSeconds: number): Promise<number[]> {
  const { rows } = await pool.query<{ slot: number }>(
    `UPDATE ${TABLES.callPermits} p
        SET holder = $2, expires_at = clock_timestamp() + make_interval(secs => $4)
      WHERE p.scope = $1 AND p.slot IN (
              SELECT slot FROM ${TABLES.callPermits}
               WHERE scope = $1 AND expires_at <= clock_timestamp()
               ORDER BY slot LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING p.slot`,
    [scope, holder, wanted, holdSeconds],
  )
  return rows.map((r) => r.slot)
}

export async function givePermits(pool: Pool, scope: string, holder: string, slots: number[]): Promise<void> {
  await pool.query(
    `UPDATE ${TABLES.callPermits} SET holder = NULL, expires_at = '-infinity'
      WHERE scope = $1 AND holder = $2 AND slot = ANY($3::int[])`,
    [scope, holder, slots],
  )
}

/**
 * A wave's permits, given back one at a time as its calls end; those ending in the same turn of
 * the event loop go back in one statement. `freed` is told each time some have, `done` once the
 * last has been handed back.
 */
export function permitReturns(
  give: (slots: number[]) => Promise<void>,
  slots: number[],
  events: { freed: () => void; done: () => void },
): { releaseOne: () => Promise<void> } {
  const held = [...slots]
  let due: number[] = []
  let flush: Promise<void> | null = null
  return {
    releaseOne() {
      const slot = held.pop()
      if (slot === undefined) return Promise.resolve()
      if (held.length === 0) events.done()
      due.push(slot)
      flush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        const batch = due
        due = []
        flush = null
        await give(batch)
        events.freed()
      })
      return flush
    },
  }
}

export interface PermitLeases {
  /** Renews the permits of `holder` until `drop(holder)`. */
  keep: (holder: string) => void
  drop: (holder: string) => void
  /** Stops renewing (the instance stops): what it still holds lapses within a lease. */
  close: () => void
}

/** Renews, every third of a lease, the lease of every permit this instance's waves still hold. */
export function renewPermitLeases(pool: Pool, scope: string, holdSeconds: number): PermitLeases {
  const holders = new Set<string>()
  let renewing = false
  const renew = async () => {
    await pool.query(
      `UPDATE ${TABLES.callPermits} SET expires_at = clock_timestamp() + make_interval(secs => $3)
        WHERE scope = $1 AND holder = ANY($2::uuid[])`,
      [scope, [...holders], holdSeconds],
    )
  }
  const timer = setInterval(() => {
    if (renewing || holders.size === 0) return
    renewing = true
    // A renewal that fails is tried again at the next tick: the lease has room for two.
    renew().catch(() => {}).finally(() => (renewing = false))
  }, (holdSeconds * 1000) / RENEWALS_PER_LEASE)
  timer.unref()
  return {
    keep: (holder) => void holders.add(holder),
    drop: (holder) => void holders.delete(holder),
    close: () => {
      clearInterval(timer)
      holders.clear()
    },
  }
}
