/**
 * Diagnosis: what the revocation watcher's read (which of a job's rows it still owns and may
 * call, src/process/page-rows.ts) costs on a table of `--n` rows in the middle of a drain, when
 * every row has been updated by a claim and half by a settle since the last vacuum.
 *
 *   npx tsx bench/diagnose/reader-plan.ts [--n 1000000] [--ids 256]
 *
 * Found at 1M (PostgreSQL 15, shared_buffers 128 MB): the read as written finds its rows through
 * the primary key, 7–9 ms for 256 ids, most of it blocks from outside the buffer cache and index
 * entries of dead row versions. The same read with its guard as a plain `status = 'queued'`
 * condition takes 865 ms: the planner, whose statistics say few rows are queued, walks the lease
 * index (which holds every queued row) instead. That is why the library writes such guards
 * `(…) IS TRUE`, which matches no partial index.
 *
 * With `--n 100000 --ids 1024`, the plain join with `subscriptions` is planned as a hash join
 * over every subscription (median 17.7 ms on PostgreSQL 15); the library looks each one up by
 * its key instead (10.7 ms).
 */
import pg from 'pg'
import { seedSubscriptions } from '../lib/seed.js'
import { flag, withScratchDatabase } from './support.js'

const VARIANTS: Record<string, string> = {
  'as src/process/page-rows.ts reads': `SELECT sp.id, sp.job_id FROM subscription_processing sp
      CROSS JOIN LATERAL (SELECT s.active FROM subscriptions s WHERE s.id = sp.subscription_id LIMIT 1) s
      WHERE sp.id = ANY($1::uuid[]) AND (sp.status = 'queued' AND s.active) IS TRUE`,
  'a plain join with subscriptions': `SELECT sp.id, sp.job_id FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id
      WHERE sp.id = ANY($1::uuid[]) AND (sp.status = 'queued' AND s.active) IS TRUE`,
  'guard as a plain condition': `SELECT sp.id, sp.job_id FROM subscription_processing sp WHERE sp.id = ANY($1::uuid[]) AND sp.status = 'queued'`,
}

async function main(): Promise<void> {
  const n = flag('--n', 1_000_000)
  const size = flag('--ids', 256)
  await withScratchDatabase(async (db) => {
    const seeded = await seedSubscriptions(db.url, n, 'due')
    console.log(`Seeded ${seeded.rows} due rows in ${Math.round(seeded.ms)} ms.`)
    const pool = new pg.Pool({ connectionString: db.url, max: 2 })
    try {
      // A drain's churn: every row claimed (queued), then half of them settled (completed).
      await pool.query(`UPDATE subscription_processing SET status = 'queued', job_id = gen_random_uuid(), claimed_at = now(), lease_expires_at = now() + interval '1 hour', updated_at = now()`)
      await pool.query(`UPDATE subscription_processing SET status = 'completed', next_run_at = next_run_at + interval '1 day', job_id = NULL WHERE random() < 0.5`)
      const { rows } = await pool.query<{ id: string }>(`SELECT id FROM subscription_processing WHERE status = 'queued' ORDER BY random() LIMIT 20000`)
      const ids = rows.map((r) => r.id)
      for (const [name, sql] of Object.entries(VARIANTS)) {
        const times: number[] = []
        for (let i = 0; i + size <= ids.length && times.length < 40; i += size) {
          const started = performance.now()
          await pool.query(sql, [ids.slice(i, i + size)])
          times.push(performance.now() - started)
        }
        times.sort((a, b) => a - b)
        const plan = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, [ids.slice(0, size)])
        // The plan without its parameter list, which is as long as the ids.
        const lines = plan.rows.map((r) => String(r['QUERY PLAN']).replace(/'\{[^}]*\}'/g, "'{…}'"))
        console.log(`${name}: median ${times[times.length >> 1]!.toFixed(2)} ms for ${size} ids\n  ${lines.join('\n  ')}`)
      }
    } finally {
      await pool.end()
    }
  })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
