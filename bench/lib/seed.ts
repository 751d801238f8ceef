/**
 * Bulk seeding with `INSERT … SELECT … FROM generate_series`: a million host subscriptions and
 * their processing rows take seconds, not minutes. The rows look like a host's: a user id, a
 * mix of daily, weekly and monthly cadences, every subscription active.
 */
import pg from 'pg'

export type SeedShape =
  /** Every row due: `pending`, `next_run_at` spread over the last minute (a morning herd). */
  | 'due'
  /** No row due: `completed`, `next_run_at` spread over tomorrow (an idle sweep). */
  | 'future'

export interface SeedResult {
  rows: number
  ms: number
}

/** Rows per INSERT statement: keeps each statement's memory and WAL burst bounded. */
const CHUNK = 250_000

async function insertSubscriptions(pool: pg.Pool, count: number): Promise<void> {
  for (let start = 1; start <= count; start += CHUNK) {
    const end = Math.min(count, start + CHUNK - 1)
    await pool.query(
      `INSERT INTO subscriptions (id, user_id, frequency, active)
       SELECT gen_random_uuid(), gen_random_uuid(), (ARRAY['daily', 'weekly', 'monthly'])[1 + n % 3], true
         FROM generate_series($1::int, $2::int) AS n`,
      [start, end],
    )
  }
}

async function insertProcessingRows(pool: pg.Pool, shape: SeedShape): Promise<void> {
  const [status, nextRunAt] =
    shape === 'due'
      ? ['pending', `date_trunc('minute', now()) - make_interval(secs => random() * 59)`]
      : ['completed', `now() + interval '1 day' + make_interval(secs => random() * 86000)`]
  await pool.query(
    `INSERT INTO subscription_processing (subscription_id, status, next_run_at, created_at, updated_at)
     SELECT s.id, $1, ${nextRunAt}, now(), now()
       FROM subscriptions s`,
    [status],
  )
}

/**
 * Seeds `count` subscriptions and their processing rows, then VACUUM ANALYZE so the planner has
 * statistics and the visibility map is set, as on a table that has been live for a while.
 */
export async function seedSubscriptions(url: string, count: number, shape: SeedShape): Promise<SeedResult> {
  const started = performance.now()
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  try {
    await insertSubscriptions(pool, count)
    await insertProcessingRows(pool, shape)
    await pool.query('VACUUM ANALYZE subscriptions')
    await pool.query('VACUUM ANALYZE subscription_processing')
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM subscription_processing')
    return { rows: rows[0]!.n, ms: performance.now() - started }
  } finally {
    await pool.end()
  }
}

export interface StatusCounts {
  [status: string]: number
}

/** Rows by status: each measurement checks that every seeded row ended `completed`. */
export async function statusCounts(url: string): Promise<StatusCounts> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM subscription_processing GROUP BY status ORDER BY status',
    )
    return Object.fromEntries(rows.map((r) => [r.status, r.n]))
  } finally {
    await client.end()
  }
}

/** `"completed=100000"`, or the full breakdown when rows were left behind. */
export function describeCounts(counts: StatusCounts): string {
  return Object.entries(counts)
    .map(([status, n]) => `${status}=${n}`)
    .join(' ')
}

/**
 * The table where the scale-out scenario's helper processes say they are ready
 * (bench/child/run-helper.ts), created before they start: several creating it at once collide.
 */
export async function createReadyTable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('CREATE TABLE IF NOT EXISTS bench_ready (pid int)')
  } finally {
    await client.end()
  }
}
