/**
 * Diagnosis: what pg-boss's per-job completion (`perJobResults`) costs with a big queue behind
 * it, the morning herd's shape: `--n` jobs created in one burst, one batch active.
 *
 *   npx tsx bench/diagnose/complete-plan.ts [--n 300000] [--batch 128] [--churn 1500]
 *
 * EXPLAIN ANALYZEs pg-boss's completeJobsWithOutputs statement (a join of the job table with a
 * json recordset of the batch) and its plain completeJobs (`id = ANY`), each rolled back, with the
 * job table's statistics as the burst left them and after an ANALYZE. With `--churn K`, it then
 * drains K batches the way the scheduler's workers do (fetch, complete with outputs) and prints
 * how long the completion takes as the drain goes on.
 */
import pg from 'pg'
import { PgBoss } from 'pg-boss'
import { BOSS_SCHEMA } from '../lib/database.js'
import { flag, withScratchDatabase } from './support.js'

const QUEUE = 'diagnose.process'

async function explain(client: pg.Client, sql: string, params: unknown[]): Promise<string> {
  await client.query('BEGIN')
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF) ${sql}`, params)
    const lines = rows.map((r) => r['QUERY PLAN'])
    const time = lines.find((l) => l.startsWith('Execution Time')) ?? ''
    const scans = lines.filter((l) => /Scan|Join|Loop/.test(l)).map((l) => l.trim().replace(/\(actual.*$/, '')).slice(0, 6)
    return `${time}; ${scans.join(' / ')}`
  } finally {
    await client.query('ROLLBACK')
  }
}

async function main(): Promise<void> {
  const n = flag('--n', 300_000)
  const batch = flag('--batch', 128)
  await withScratchDatabase(async (db) => {
    const pool = new pg.Pool({ connectionString: db.url, max: 4 })
    const client = new pg.Client({ connectionString: db.url })
    const boss = new PgBoss({ db: { executeSql: async (text, values) => await pool.query(text, values as unknown[] | undefined) }, schema: BOSS_SCHEMA, supervise: false, schedule: false })
    try {
      await boss.start()
      await boss.createQueue(QUEUE, { policy: 'exclusive' })
      for (let start = 0; start < n; start += 5000) {
        const jobs = Array.from({ length: Math.min(5000, n - start) }, (_, i) => ({ data: { i: start + i }, singletonKey: `k${start + i}` }))
        await boss.insert(QUEUE, jobs)
      }
      const fetched = (await boss.fetch(QUEUE, { batchSize: batch, includeMetadata: true })) ?? []
      console.log(`Inserted ${n} jobs, fetched ${fetched.length}.`)
      await client.connect()
      const { rows } = await client.query<{ t: string }>(`SELECT table_name AS t FROM ${BOSS_SCHEMA}.queue WHERE name = $1`, [QUEUE])
      const table = `${BOSS_SCHEMA}.${rows[0]!.t}`
      const payload = JSON.stringify(fetched.map((j) => ({ id: j.id, retry_count: j.retryCount, output: null })))
      const withOutputs = `
        WITH input AS (SELECT * FROM json_to_recordset($2::text::json) AS x (id uuid, retry_count int, output jsonb))
        UPDATE ${table} j SET completed_on = now(), state = 'completed', output = i.output
          FROM input i
         WHERE j.name = $1 AND j.id = i.id AND j.state = 'active' AND j.retry_count = i.retry_count`
      const byIds = `UPDATE ${table} SET completed_on = now(), state = 'completed'
         WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active'`
      for (const when of ['statistics as the burst left them', 'after ANALYZE']) {
        if (when === 'after ANALYZE') await client.query(`ANALYZE ${table}`)
        console.log(`\n${when}:`)
        console.log(`  perJobResults completion: ${await explain(client, withOutputs, [QUEUE, payload])}`)
        console.log(`  completion by ids:        ${await explain(client, byIds, [QUEUE, fetched.map((j) => j.id)])}`)
      }
      const churn = flag('--churn', 0)
      let window: number[] = []
      for (let i = 1; i <= churn; i++) {
        const jobs = (await boss.fetch(QUEUE, { batchSize: batch, includeMetadata: true })) ?? []
        if (jobs.length === 0) break
        const items = JSON.stringify(jobs.map((j) => ({ id: j.id, retry_count: j.retryCount, output: null })))
        const started = performance.now()
        await pool.query(withOutputs, [QUEUE, items])
        window.push(performance.now() - started)
        if (i % 250 === 0) {
          const sorted = [...window].sort((a, b) => a - b)
          console.log(`  after ${i * batch} jobs completed: completion median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`)
          window = []
        }
      }
    } finally {
      await boss.stop({ graceful: false, close: false }).catch(() => {})
      await client.end().catch(() => {})
      await pool.end()
    }
  })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
