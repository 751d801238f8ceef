/**
 * Constraints of an adopted `subscription_processing` that the scheduler's own writes would
 * break: a CHECK on the columns it writes (the MVP's four statuses, where the scheduler also
 * writes `queued`, `paused` and `ended`), or NOT NULL on a column it leaves empty (a row never
 * run has no `last_run_at`, an ended one no `next_run_at`, a success clears `error`), or a column of
 * the host's own that is NOT NULL with no default (enrolment inserts `subscription_id` alone). Found while
 * adopting, with the statement that lifts each: met later, each would fail every sweep with a raw
 * constraint violation. They are the host's, so they are named, not dropped. So is a `status` whose
 * type cannot hold those statuses (an enum of the MVP's four), or whose default is no `'pending'`:
 * a trial's `DEFAULT 'waiting'` was kept, and every subscription enrolled after it waited for good,
 * in silence, since no sweep takes that status.
 */
import type { PoolClient } from 'pg'
import { SUBSCRIPTION_STATUSES } from './names.js'

/** The adopted columns the scheduler writes, and those of them it may leave NULL. */
const WRITTEN = ['status', 'next_run_at', 'last_run_at', 'error', 'updated_at']
const NULLABLE = ['next_run_at', 'last_run_at', 'error']
/** What enrolment's insert gives a value: subscription_id, and the columns migration 0016 gives a default. */
const INSERTED = ['subscription_id', 'id', 'status', 'metadata', 'created_at', 'updated_at']

/** The longest status the scheduler writes: a `varchar(n)` status must hold it. */
const LONGEST_STATUS = Math.max(...SUBSCRIPTION_STATUSES.map((status) => status.length))

interface InTheWay {
  kind: 'check' | 'not null' | 'no default' | 'status type' | 'status default'
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
        -- Those the scheduler leaves NULL are named above: a default would not do for them.
        AND a.attname <> ALL ($2::text[])
     UNION ALL
     SELECT 'status type', a.attname::text, format_type(a.atttypid, a.atttypmod)
       FROM pg_attribute a
      WHERE a.attrelid = 'subscription_processing'::regclass AND a.attname = 'status' AND NOT a.attisdropped
        AND NOT (a.atttypid = 'text'::regtype OR (a.atttypid = 'varchar'::regtype AND (a.atttypmod = -1 OR a.atttypmod - 4 >= $4)))
     UNION ALL
     -- Enrolment inserts subscription_id alone: a new row takes this default, and only 'pending' is due.
     SELECT 'status default', a.attname::text, pg_get_expr(d.adbin, d.adrelid)
       FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = 'subscription_processing'::regclass AND a.attname = 'status' AND NOT a.attisdropped
        AND pg_get_expr(d.adbin, d.adrelid) !~ '^''pending''(::[^'']+)?$'
      ORDER BY 1, 2`,
    [WRITTEN, NULLABLE, INSERTED, LONGEST_STATUS],
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
    if (c.kind === 'status type') {
      return `status is ${c.definition}, which cannot hold every status the scheduler writes: ALTER TABLE subscription_processing ALTER COLUMN status DROP DEFAULT, ALTER COLUMN status TYPE varchar(50) USING status::text, ALTER COLUMN status SET DEFAULT 'pending'`
    }
    if (c.kind === 'status default') {
      return `status defaults to ${c.definition}, so that a subscription enrolled would start in it, where no sweep takes it: ALTER TABLE subscription_processing ALTER COLUMN status SET DEFAULT 'pending'`
    }
    return `${c.name} (${c.definition}) is NOT NULL with no default, and enrolment's insert gives it no value: ALTER TABLE subscription_processing ALTER COLUMN "${c.name}" SET DEFAULT <a value>, or DROP NOT NULL`
  })
  return (
    'subscription_processing has constraints the scheduler\'s own writes would break: it writes the statuses ' +
      `${SUBSCRIPTION_STATUSES.join(', ')}, leaves ${NULLABLE.join(', ')} NULL where a row has none (never run, ended, ` +
      'succeeded), and enrols a subscription by inserting its subscription_id alone. No row was changed. Lift them (the statements below), or widen a CHECK to allow those values, then run ' +
      `migrate again:\n${lines.map((line) => `  ${line}`).join('\n')}`
  )
}
