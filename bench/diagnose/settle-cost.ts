/**
 * Diagnosis: what one settle of successes costs the database, besides its rows. Runs the
 * statement of src/settle/complete-in-one-go.ts under EXPLAIN ANALYZE (each rolled back) for
 * chunks of several sizes, on `--n` rows claimed by one run, and prints planning and execution
 * time per chunk and per row: the intercept is what each settle costs whatever its size.
 *
 *   npx tsx bench/diagnose/settle-cost.ts [--n 100000] [--repeat 20]
 */
import pg from 'pg'
import type { Executor } from '../../src/db/executor.js'
import { TABLES } from '../../src/db/names.js'
import { completeInOneGo } from '../../src/settle/complete-in-one-go.js'
import type { Success } from '../../src/settle/outcome.js'
import { seedSubscriptions } from '../lib/seed.js'
import { flag, withScratchDatabase } from './support.js'

const SIZES = [1, 14, 32, 64, 142, 256]

interface Timing {
  planning: number
  execution: number
}

/** An executor that EXPLAIN ANALYZEs what it is given and keeps the summary's two times. */
function explaining(client: pg.Client, timings: Timing[]): Executor {
  return {
    query: (async (text: string, params?: unknown[]) => {
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, SUMMARY) ${text}`, params)
      const time = (label: string) => Number(rows.map((r) => r['QUERY PLAN']).find((l) => l.startsWith(label))?.match(/([\d.]+) ms/)?.[1] ?? NaN)
      timings.push({ planning: time('Planning Time'), execution: time('Execution Time') })
      return { rows: [] }
    }) as unknown as Executor['query'],
  } as Executor
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function main(): Promise<void> {
  const n = flag('--n', 100_000)
  const repeat = flag('--repeat', 20)
  await withScratchDatabase(async (db) => {
    await seedSubscriptions(db.url, n, 'due')
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      const { rows: [run] } = await client.query<{ id: string }>(`INSERT INTO ${TABLES.runs} (trigger, claimed) VALUES ('manual', $1) RETURNING id`, [n])
      await client.query(
        `UPDATE subscription_processing SET status = 'queued', job_id = gen_random_uuid(), run_id = $1, scheduled_for = date_trunc('milliseconds', now()), claimed_at = now()`,
        [run!.id],
      )
      await client.query('VACUUM ANALYZE subscription_processing')
      const { rows } = await client.query<{ id: string; job_id: string; subscription_id: string; scheduled_for: Date }>(
        'SELECT id, job_id, subscription_id, scheduled_for FROM subscription_processing ORDER BY random() LIMIT $1',
        [Math.max(...SIZES) * repeat],
      )
      console.log(`| rows per settle | planning ms | execution ms | total per row µs |\n|---:|---:|---:|---:|`)
      for (const size of SIZES) {
        const timings: Timing[] = []
        for (let i = 0; i < repeat; i++) {
          const chunk = rows.slice(i * size, (i + 1) * size)
          const successes = chunk.map((r): Success => ({
            kind: 'success', jobId: r.job_id, attempt: 1, startedAt: Date.now(), durationMs: 1,
            row: { id: r.id, subscription_id: r.subscription_id, user_id: null, scheduled_for: r.scheduled_for, attempts: 0, run_id: run!.id } as Success['row'],
            nextRunAt: new Date(r.scheduled_for.getTime() + 86_400_000), response: { ok: true },
          }))
          await client.query('BEGIN')
          try {
            await completeInOneGo(explaining(client, timings), successes, new Date(), new Map([[run!.id, { counts: [size], maxMs: 1 }]]))
          } finally {
            await client.query('ROLLBACK')
          }
        }
        const planning = median(timings.map((t) => t.planning))
        const execution = median(timings.map((t) => t.execution))
        console.log(`| ${size} | ${planning.toFixed(2)} | ${execution.toFixed(2)} | ${(((planning + execution) / size) * 1000).toFixed(0)} |`)
      }
    } finally {
      await client.end()
    }
  })
}

await main()
