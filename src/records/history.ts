/**
 * A subscription's history besides its calls: what operators and hosts did to its schedule
 * (skips, pauses, resumes, reschedules, backfills). Kept, like run history, for
 * `historyRetentionDays`; `getSubscription()` shows the newest entries.
 */
import type { Executor } from '../db/executor.js'
import { TABLES } from '../db/names.js'
import type { HistoryKind } from '../db/names.js'

const HISTORY = TABLES.history

/** One entry of a subscription's history, newest first in {@link SubscriptionDetails.history}. */
export interface HistoryEntry {
  kind: HistoryKind
  /** The slot concerned: the one skipped, the first one of a backfill, … ; null when none. */
  slot: Date | null
  at: Date
  /** A short note: the pause's end, the backfill's range and run, the settings changed. */
  detail: string | null
  /** The caller's own words, from a pause, resume, skip or reschedule given `{ note }`; null without. */
  note: string | null
}

export interface NewHistoryEntry {
  subscriptionId: string
  kind: HistoryKind
  slot?: Date | null | undefined
  detail?: string | null | undefined
  /** On a reschedule into another zone: the zone left (see {@link zoneLeftSince}). */
  fromZone?: string | null | undefined
  note?: string | null | undefined
}

/** Appends entries, one statement for all of them. */
export async function recordHistory(db: Executor, entries: NewHistoryEntry[], now: Date): Promise<void> {
  if (entries.length === 0) return
  await db.query(
    `INSERT INTO ${HISTORY} (subscription_id, kind, slot, detail, from_zone, note, at)
     SELECT *, $7::timestamptz FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[])`,
    [
      entries.map((e) => e.subscriptionId),
      entries.map((e) => e.kind),
      entries.map((e) => e.slot ?? null),
      entries.map((e) => e.detail ?? null),
      entries.map((e) => e.fromZone ?? null),
      entries.map((e) => e.note ?? null),
      now,
    ],
  )
}

/** The SQL of an entry written inside another statement (a CTE), with the same columns. */
export const HISTORY_INSERT = `INSERT INTO ${HISTORY} (subscription_id, kind, slot, detail, at)`

/** Newest first. */
export async function listHistory(db: Executor, subscriptionId: string, limit: number): Promise<HistoryEntry[]> {
  const { rows } = await db.query<HistoryEntry>(
    `SELECT kind, slot, at, detail, note FROM ${HISTORY} WHERE subscription_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
    [subscriptionId, limit],
  )
  return rows
}

/** The zones reschedules moved subscription `id` (an SQL expression) out of; the caller adds the bound and order. */
const zoneLeft = (id: string) => `SELECT z.from_zone FROM ${HISTORY} z WHERE z.subscription_id = ${id} AND z.from_zone IS NOT NULL`

export interface Skip {
  slot: Date
  /** The zone the slot was skipped in, when the subscription has moved out of it since; null: the zone it has now. */
  zone: string | null
}

/**
 * The slots skipped at or after `since`, whose local days are spent, each with the zone it was
 * skipped in when the subscription has moved out of that zone since (null: the zone it has now).
 */
export async function recentSkips(db: Executor, subscriptionId: string, since: Date): Promise<Skip[]> {
  return (await recentSkipsOf(db, [subscriptionId], since)).get(subscriptionId) ?? []
}

/** {@link recentSkips} of many subscriptions in one statement, by subscription id (those with none left out). */
export async function recentSkipsOf(db: Executor, subscriptionIds: readonly string[], since: Date): Promise<Map<string, Skip[]>> {
  const { rows } = await db.query<Skip & { id: string }>(
    `SELECT e.subscription_id AS id, e.slot, (${zoneLeft('e.subscription_id')} AND (z.at, z.id) > (e.at, e.id) ORDER BY z.at, z.id LIMIT 1) AS zone
       FROM ${HISTORY} e WHERE e.subscription_id = ANY($1::uuid[]) AND e.kind = 'skipped' AND e.slot >= $2 ORDER BY e.subscription_id, e.slot`,
    [subscriptionIds, since],
  )
  const skips = new Map<string, Skip[]>()
  for (const row of rows) skips.set(row.id, [...(skips.get(row.id) ?? []), { slot: row.slot, zone: row.zone }])
  return skips
}

/**
 * The zone the subscription was in at `at` (the time of its last run, say), when a reschedule
 * has moved it out of that zone since: the zone the first such reschedule left. Null when none
 * did: it is still in the zone it has now. A reschedule at that very instant counts as after it.
 */
export async function zoneLeftSince(db: Executor, subscriptionId: string, at: Date): Promise<string | null> {
  return (await zonesLeftSince(db, [{ subscriptionId, at }])).get(subscriptionId) ?? null
}

/** {@link zoneLeftSince} of many subscriptions, each at its own instant, in one statement. */
export async function zonesLeftSince(db: Executor, asked: readonly { subscriptionId: string; at: Date }[]): Promise<Map<string, string | null>> {
  if (asked.length === 0) return new Map()
  const { rows } = await db.query<{ id: string; zone: string | null }>(
    `SELECT v.id, (${zoneLeft('v.id')} AND z.at >= v.at ORDER BY z.at, z.id LIMIT 1) AS zone
       FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)`,
    [asked.map((a) => a.subscriptionId), asked.map((a) => a.at)],
  )
  return new Map(rows.map((row) => [row.id, row.zone]))
}

/** Deletes entries older than `cutoff`, walking the index on time. */
export async function pruneSubscriptionHistory(db: Executor, cutoff: Date): Promise<void> {
  await db.query(`DELETE FROM ${HISTORY} WHERE at < $1`, [cutoff])
}

/** When the subscription was last paused (by hand or after failures), or null when no pause is on record. */
export async function lastPausedAt(db: Executor, subscriptionId: string): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date }>(
    `SELECT at FROM ${HISTORY} WHERE subscription_id = $1 AND kind = 'paused' ORDER BY at DESC, id DESC LIMIT 1`,
    [subscriptionId],
  )
  return rows[0]?.at ?? null
}
