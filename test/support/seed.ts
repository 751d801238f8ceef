/** Inserts host subscriptions and their processing rows in bulk, the way a host's data looks. */
import type pg from 'pg'

export interface SeedOptions {
  count: number
  frequency?: string | null
  active?: boolean
  status?: string
  /** Offset of next_run_at from now, in seconds; null leaves it null. @default null */
  nextRunInSeconds?: number | null
  timezone?: string | null
  userId?: 'random' | null
}

export async function seedSubscriptions(pool: pg.Pool, options: SeedOptions): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO subscriptions (user_id, frequency, active)
     SELECT CASE WHEN $2 THEN gen_random_uuid() END, $3, $4 FROM generate_series(1, $1)
     RETURNING id`,
    [options.count, options.userId !== null, options.frequency === undefined ? 'daily' : options.frequency, options.active ?? true],
  )
  const ids = rows.map((r) => r.id)
  await pool.query(
    `INSERT INTO subscription_processing (subscription_id, status, next_run_at, timezone)
     SELECT id, $2, CASE WHEN $3::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $3::float8) END, $4
       FROM unnest($1::uuid[]) AS t(id)`,
    [ids, options.status ?? 'pending', options.nextRunInSeconds ?? null, options.timezone ?? null],
  )
  return ids
}

export async function rowsFor(pool: pg.Pool, ids: string[]) {
  const { rows } = await pool.query(
    `SELECT sp.*, sp.subscription_id::text AS sid FROM subscription_processing sp WHERE subscription_id = ANY($1::uuid[])`,
    [ids],
  )
  return rows
}
