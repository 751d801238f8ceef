/**
 * The cascading foreign key from `subscription_processing` to the host's `subscriptions`. Without
 * it a deleted subscription's row stays behind, `enroll()` accepts ids that name nothing, and the
 * count of unenrolled subscriptions is wrong. Migration 0000 creates it and 0006 adds it to an
 * adopted table, but the journal says only that they ran: a key dropped since (a drizzle-kit
 * `push` that was shown the table drops it, as does a hand-run `ALTER TABLE`) would stay lost. So
 * every `migrate()` looks, and puts it back; rows in its way are named first (adoptable.ts).
 */
import type { PoolClient } from 'pg'
import { quoteIdent } from './executor.js'
import type { Executor } from './executor.js'

export const HOST_FOREIGN_KEY = 'subscription_processing_subscription_id_fkey'

/** What an instance started with `migrate: false` says when the key is not there. */
export const MISSING_FOREIGN_KEY =
  `subscription_processing has no validated foreign key to subscriptions that deletes along (${HOST_FOREIGN_KEY} was dropped, replaced or added NOT VALID since ` +
  'the migrations ran, by a drizzle-kit push shown the table, say): enroll() accepts ids that name no subscription, and a deleted ' +
  "subscription keeps its row. Run migrate (pg-subscription-scheduler migrate, as the tables' owner): it puts the key back."

/**
 * Whether the key is there: on `subscription_id`, to `subscriptions`, deleting along, and
 * validated. One added `NOT VALID` never checked the rows already there, which may name deleted
 * subscriptions: it is put back validated, after those rows are named (adoptable.ts).
 */
export async function hasHostForeignKey(client: Executor): Promise<boolean> {
  const { rows } = await client.query<{ keyed: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = 'subscription_id'
        WHERE c.conrelid = 'subscription_processing'::regclass AND c.contype = 'f' AND c.confdeltype = 'c'
          AND c.confrelid = 'subscriptions'::regclass AND c.conkey = ARRAY[a.attnum] AND c.convalidated
     ) AS keyed`,
  )
  return rows[0]?.keyed === true
}

/**
 * Puts the key back where it has gone, replacing one to `subscriptions` that does not cascade,
 * as migration 0006 does. Returns what it did, for the log, or null when the key was there.
 */
export async function restoreHostForeignKey(client: PoolClient): Promise<string | null> {
  if (await hasHostForeignKey(client)) return null
  const { rows } = await client.query<{ conname: string; cascades: boolean }>(
    `SELECT conname, confdeltype = 'c' AS cascades FROM pg_constraint WHERE conrelid = 'subscription_processing'::regclass AND contype = 'f' AND confrelid = 'subscriptions'::regclass`,
  )
  // A cascading key added NOT VALID is validated where it is: that reads the table without
  // holding up its writes, where adding a key anew would hold them for the whole scan.
  const unchecked = rows.find((row) => row.cascades)
  if (unchecked && rows.length === 1) {
    await client.query(`ALTER TABLE subscription_processing VALIDATE CONSTRAINT ${quoteIdent(unchecked.conname)}`)
    return `Validated the foreign key ${unchecked.conname}, which was added NOT VALID: the rows already there had never been checked against subscriptions.`
  }
  for (const { conname } of rows) await client.query(`ALTER TABLE subscription_processing DROP CONSTRAINT ${quoteIdent(conname)}`)
  // Named as 0000 names it; a non-cascading key of that name was dropped just above.
  await client.query(
    `ALTER TABLE subscription_processing ADD CONSTRAINT ${HOST_FOREIGN_KEY} FOREIGN KEY (subscription_id) REFERENCES subscriptions(id) ON DELETE CASCADE`,
  )
  const key = `${HOST_FOREIGN_KEY} (subscription_processing.subscription_id → subscriptions.id, ON DELETE CASCADE)`
  if (rows.length > 0) {
    const names = rows.map((row) => row.conname).join(', ')
    return `Replaced the foreign key ${names}, which did not delete along (a deleted subscription would have kept its row, or failed to delete), with ${key}.`
  }
  return (
    `Restored the foreign key ${key}: it had been dropped since the migrations ran ` +
    '(by a drizzle-kit push shown the table, say: keep it out of your Drizzle schema, as the README says).'
  )
}
