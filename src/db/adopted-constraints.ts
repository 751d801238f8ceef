/**
 * Constraints of an adopted `subscription_processing` that the scheduler's own writes would
 * break: a CHECK on the columns it writes (the MVP's four statuses, where the scheduler also
 * writes `queued`, `paused` and `ended`), or NOT NULL on a column it leaves empty (a row never
 * run has no `last_run_at`, an ended one no `next_run_at`, a success clears `error`), or a column of
 * the host's own that is NOT NULL with no default (enrolment inserts `subscription_id` alone). Found while
 * adopting, with the statement that lifts each: met later, each would fail every sweep with a raw
 * constraint violation. They are the host's, so they are named, not dropped.
 */
import type { PoolClient } from 'pg'
import { SUBSCRIPTION_STATUSES } from './names.js'

/** The adopted columns the scheduler writes, and those of them it may leave NULL. */
const WRITTEN = ['status', 'next_run_at', 'last_run_at', 'error', 'updated_at']
const NULLABLE = ['next_run_at', 'last_run_at', 'error']
/** What enrolment's insert gives a value: subscription_id, and the columns migration 0016 gives a default. */
const INSERTED = ['subscription_id', 'id', 'status', 'metadata', 'created_at', 'updated_at']

interface InTheWay {
  kind: 'check' | 'not null' | 'no default'
  name: string
  definition: string | null
}

/** The CHECK constraints on the columns the scheduler writes, and NOT NULL where it writes NULL. */
async function constraintsOf(client: PoolClient): Promise<InTheWay[]> {
  const { rows } = await client.query<InTheWay>(
    `SELECT 'check' AS kind, c.conname::text AS name, pg_get_constraintdef(c.oid) AS definition
       FROM pg_constraint c
      WHERE c.conrelid = 'subscription_processing'::regclass AND c.contype = 'c'
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) AND a.attname = ANY ($1::text[]))
     UNION ALL
     SELECT 'not null', a.attname::text, NULL
       FROM pg_attribute a
      WHERE a.attrelid = 'subscription_processing'::regclass AND a.attname = ANY ($2::text[]) AND a.attnotnull AND NOT a.attisdropped
     UNION ALL
     -- A column of the host's own that an insert must fill: enrolment gives it nothing.
     SELECT 'no default', a.attname::text, format_type(a.atttypid, a.atttypmod)
       FROM pg_attribute a
      WHERE a.attrelid = 'subscription_processing'::regclass AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = '' AND a.attname <> ALL ($3::text[])
      ORDER BY 1, 2`,
    [WRITTEN, NULLABLE, INSERTED],
  )
  return rows
}

/** The problem an adopted table's constraints make, with a fix for each; null when there are none. */
export async function constraintsInTheWay(client: PoolClient): Promise<string | null> {
  const found = await constraintsOf(client)
  if (found.length === 0) return null
  const lines = found.map((c) => {
    if (c.kind === 'check') return `CHECK ${c.name} (${c.definition}): ALTER TABLE subscription_processing DROP CONSTRAINT "${c.name}"`
    if (c.kind === 'not null') return `${c.name} is NOT NULL: ALTER TABLE subscription_processing ALTER COLUMN "${c.name}" DROP NOT NULL`
    return `${c.name} (${c.definition}) is NOT NULL with no default, and enrolment's insert gives it no value: ALTER TABLE subscription_processing ALTER COLUMN "${c.name}" SET DEFAULT <a value>, or DROP NOT NULL`
  })
  return (
    'subscription_processing has constraints the scheduler\'s own writes would break: it writes the statuses ' +
      `${SUBSCRIPTION_STATUSES.join(', ')}, leaves ${NULLABLE.join(', ')} NULL where a row has none (never run, ended, ` +
      'succeeded), and enrols a subscription by inserting its subscription_id alone. No row was changed. Lift them (the statements below), or widen a CHECK to allow those values, then run ' +
      `migrate again:\n${lines.map((line) => `  ${line}`).join('\n')}`
  )
}
