/**
 * Diagnosis: what rows waiting out a retry delay cost a sweep that finds nothing to do, with the
 * due index of migration 0023 (a failed row sorts at its retry_at) against the one before it (in
 * slot order), both on the same table in the same run.
 *
 *   npx tsx bench/diagnose/waiting-failures.ts [--n 200000] [--failed 100000]
 *
 * `--n` subscriptions, none due; then `--failed` of them failed two hours ago for slots that
 * have come, tried again in an hour (a worker outage's worth). Each statement is measured three
 * times under EXPLAIN ANALYZE before and after the failures: a sweep's first claim page, and
 * countDue() (every run start and rescue tick). The ratio is with the failures to without.
 *
 * Then a page of retryFailed() (the claim's `failed` kind) over those failed rows, with the index
 * of migration 0024 and, once it is dropped, without it (as before that migration).
 */
import pg from 'pg'
import { randomUUID } from 'node:crypto'
import { firstCandidateSql, RETRY_AT_GRACE_SECONDS } from '../../src/sweep/claim-sql.js'
import { claimSelectSql, countDueSql, explainSql } from '../lib/explain.js'
import { formatRatio, median } from '../lib/report.js'
import { seedSubscriptions } from '../lib/seed.js'
import { flag, withScratchDatabase } from './support.js'

/** The due selection before migration 0023: slot order, a failed row's retry_at checked row by row. */
const PREVIOUS_KEY = `COALESCE(sp.next_run_at, '-infinity'::timestamptz)`
const PREVIOUS_INDEX = 'previous_due_idx'
const PREVIOUS_WHERE = `sp.status IN ('pending', 'failed', 'completed')
        AND ${PREVIOUS_KEY} <= $1
        AND (sp.status <> 'completed' OR sp.next_run_at IS NOT NULL)
        AND (sp.status <> 'failed' OR sp.retry_at IS NULL OR sp.retry_at <= $1 + interval '${RETRY_AT_GRACE_SECONDS} seconds')`

const PREVIOUS_CLAIM = `
    SELECT sp.id, ${PREVIOUS_KEY} AS sort_key
      FROM subscription_processing sp
      JOIN subscriptions s ON s.id = sp.subscription_id
     WHERE ${PREVIOUS_WHERE}
       AND s.active IS TRUE
       AND (${PREVIOUS_KEY}, sp.id) > ($2::timestamptz, $3::uuid)
     ORDER BY ${PREVIOUS_KEY}, sp.id
     LIMIT $4`
const PREVIOUS_COUNT = `SELECT count(*)::int AS n FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id
      WHERE s.active IS TRUE AND ${PREVIOUS_WHERE}`

const QUEUE = { bossSchema: 'pgboss', processQueue: 'subscription-scheduler.process' }

interface Statement {
  name: string
  sql: string
  index: string
  values: (now: Date) => unknown[]
}

const page = (now: Date) => [now, '-infinity', '00000000-0000-0000-0000-000000000000', 1000]
const STATEMENTS: Statement[] = [
  { name: 'claim page, index of 0023', sql: claimSelectSql('due'), index: 'subscription_processing_due_idx', values: page },
  { name: 'claim page, previous index', sql: PREVIOUS_CLAIM, index: PREVIOUS_INDEX, values: page },
  { name: 'countDue, index of 0023', sql: countDueSql('due'), index: 'subscription_processing_due_idx', values: (now) => [now] },
  { name: 'countDue, previous index', sql: PREVIOUS_COUNT, index: PREVIOUS_INDEX, values: (now) => [now] },
]

/** Median execution time of each statement over three runs, and the plan's scan of the last. */
async function measure(url: string): Promise<Map<string, { ms: number; scan: string }>> {
  const out = new Map<string, { ms: number; scan: string }>()
  const now = new Date()
  for (const statement of STATEMENTS) {
    const runs = []
    for (let i = 0; i < 3; i++) runs.push(await explainSql(url, statement.sql, statement.values(now), statement.index))
    out.set(statement.name, { ms: median(runs.map((r) => r.executionMs)), scan: runs.at(-1)!.scan })
  }
  return out
}

const RETRY_INDEX = 'subscription_processing_failed_idx'

/**
 * The rows a page of retryFailed() takes (the claim's `failed` kind, every subscription), under
 * EXPLAIN ANALYZE: its first-candidate statement with a page's limit, the claim's own SELECT
 * without the UPDATE (which EXPLAIN ANALYZE would run).
 */
async function retryPage(url: string): Promise<{ ms: number; scan: string }> {
  const runs = []
  for (let i = 0; i < 3; i++) runs.push(await explainSql(url, `${firstCandidateSql('failed', QUEUE).replace('LIMIT 1', 'LIMIT 1000')}`, [new Date(), '-infinity', '00000000-0000-0000-0000-000000000000', 1000, 60, randomUUID(), [], 1000, null], RETRY_INDEX))
  return { ms: median(runs.map((r) => r.executionMs)), scan: runs.at(-1)!.scan }
}

async function main(): Promise<void> {
  const n = flag('--n', 200_000)
  const failed = Math.min(n, flag('--failed', 100_000))
  await withScratchDatabase(async (db) => {
    const seeded = await seedSubscriptions(db.url, n, 'future')
    const pool = new pg.Pool({ connectionString: db.url, max: 1 })
    try {
      await pool.query(`CREATE INDEX ${PREVIOUS_INDEX} ON subscription_processing (${PREVIOUS_KEY.replaceAll('sp.', '')}, id) WHERE status IN ('pending', 'failed', 'completed')`)
      await pool.query('ANALYZE subscription_processing')
      console.log(`Seeded ${seeded.rows} rows, none due, in ${Math.round(seeded.ms)} ms.`)
      const before = await measure(db.url)
      await pool.query(
        `UPDATE subscription_processing SET status = 'failed', next_run_at = now() - interval '2 hours', retry_at = now() + interval '1 hour', error = 'HTTP 503'
          WHERE id IN (SELECT id FROM subscription_processing ORDER BY id LIMIT $1)`,
        [failed],
      )
      await pool.query('VACUUM ANALYZE subscription_processing')
      const after = await measure(db.url)
      console.log(`\n${failed} of them failed, waiting out their retry delay:\n`)
      console.log('| Statement | none failed | with the failed rows | ratio | scan |')
      console.log('|---|---|---|---|---|')
      for (const { name } of STATEMENTS) {
        const [a, b] = [before.get(name)!, after.get(name)!]
        console.log(`| ${name} | ${a.ms.toFixed(2)} ms | ${b.ms.toFixed(2)} ms | ${formatRatio(b.ms / a.ms)} | ${b.scan} |`)
      }
      const indexed = await retryPage(db.url)
      await pool.query(`DROP INDEX ${RETRY_INDEX}`)
      const unindexed = await retryPage(db.url)
      console.log(`\nA page of retryFailed() over the ${failed} failed rows (1,000 rows, median of 3):\n`)
      console.log('| Index | page | scan |')
      console.log('|---|---|---|')
      console.log(`| ${RETRY_INDEX} (0024) | ${indexed.ms.toFixed(2)} ms | ${indexed.scan} |`)
      console.log(`| none (before 0024) | ${unindexed.ms.toFixed(2)} ms | ${unindexed.scan} |`)
      console.log(`\nRatio, without to with: ${formatRatio(unindexed.ms / indexed.ms)}.`)
    } finally {
      await pool.end()
    }
  })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
