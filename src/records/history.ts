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

/** The first zone a reschedule moved the subscription out of, at or after `since`. */
const ZONE_LEFT = `SELECT z.from_zone FROM ${HISTORY} z WHERE z.subscription_id = $1 AND z.from_zone IS NOT NULL`

/**
 * The slots skipped at or after `since`, whose local days are spent, each with the zone it was
 * skipped in when the subscription has moved out of that zone since (null: the zone it has now).
 */
export async function recentSkips(db: Executor, subscriptionId: string, since: Date): Promise<{ slot: Date; zone: string | null }[]> {
  const { rows } = await db.query<{ slot: Date; zone: string | null }>(
    `SELECT e.slot, (${ZONE_LEFT} AND (z.at, z.id) > (e.at, e.id) ORDER BY z.at, z.id LIMIT 1) AS zone
       FROM ${HISTORY} e WHERE e.subscription_id = $1 AND e.kind = 'skipped' AND e.slot >= $2 ORDER BY e.slot`,
    [subscriptionId, since],
  )
  return rows.map((row) => ({ slot: row.slot, zone: row.zone }))
}

/** Which of `subscriptionIds` have a skip of a slot since `since` (see {@link recentSkips}). */
export async function skippedSince(db: Executor, subscriptionIds: readonly string[], since: Date): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT DISTINCT subscription_id AS id FROM ${HISTORY} WHERE subscription_id = ANY($1::uuid[]) AND kind = 'skipped' AND slot >= $2`,
    [subscriptionIds, since],
  )
  return new Set(rows.map((row) => row.id))
}

/**
 * The zone the subscription was in at `at` (the time of its last run, say), when a reschedule
 * has moved it out of that zone since: the zone the first such reschedule left. Null when none
 * did: it is still in the zone it has now. A reschedule at that very instant counts as after it.
 */
export async function zoneLeftSince(db: Executor, subscriptionId: string, at: Date): Promise<string | null> {
  const { rows } = await db.query<{ from_zone: string }>(`${ZONE_LEFT} AND z.at >= $2 ORDER BY z.at, z.id LIMIT 1`, [subscriptionId, at])
  return rows[0]?.from_zone ?? null
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
