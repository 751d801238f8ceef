/**
 * Diagnosis: what one getStatus() costs as the table grows: the dashboard's overview and the
 * CLI's `status` ask for it, and the dashboard every few seconds while a tab is open. It counts
 * every row by status, and the host's rows, so its cost grows with the table; this says by how
 * much.
 *
 *   npx tsx bench/diagnose/status-cost.ts [--n 1000000] [--repeats 5]
 *
 * Seeds 10k, 100k and `--n` idle rows (completed, due tomorrow) in turn, each on emptied tables,
 * and times `--repeats` calls of getStatus() at each size, after one to warm the cache.
 */
import pg from 'pg'
import { createSubscriptionScheduler } from '../../src/index.js'
import { formatMs, median } from '../lib/report.js'
import { seedSubscriptions } from '../lib/seed.js'
import { flag, withScratchDatabase } from './support.js'

const n = flag('--n', 1_000_000)
const repeats = flag('--repeats', 5)
const sizes = [10_000, 100_000, n].filter((size, i, all) => size <= n && all.indexOf(size) === i)

await withScratchDatabase(async (db) => {
  const pool = new pg.Pool({ connectionString: db.url, max: 4 })
  const silent = { debug() {}, info() {}, warn() {}, error() {} }
  const scheduler = createSubscriptionScheduler(pool, { workerClient: { process: async () => {} }, logger: silent })
  try {
    console.log(`getStatus() on an idle table, median of ${repeats} after one to warm the cache:`)
    for (const size of sizes) {
      await pool.query('TRUNCATE subscription_processing, subscriptions')
      await seedSubscriptions(db.url, size, 'future')
      await scheduler.getStatus()
      const times: number[] = []
      for (let i = 0; i < repeats; i++) {
        const started = performance.now()
        const status = await scheduler.getStatus()
        times.push(performance.now() - started)
        if (status.total !== size) throw new Error(`expected ${size} rows, getStatus() counted ${status.total}`)
      }
      const share = (3000 / (3000 + median(times))) * 100
      console.log(
        `  ${size.toLocaleString('en-US')} rows: ${formatMs(median(times))} (min ${formatMs(Math.min(...times))}, max ${formatMs(Math.max(...times))}); ` +
          `a dashboard refreshing every 3 s would keep a connection busy ${(100 - share).toFixed(0)}% of the time`,
      )
    }
  } finally {
    await pool.end()
  }
})
