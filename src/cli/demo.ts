/**
 * The README's demo: a real PostgreSQL (embedded), a few hundred subscriptions, a local HTTP
 * worker, and one run of the scheduler, ending with a summary. Nothing to set up first.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { createSubscriptionScheduler } from '../index.js'
import { startEmbeddedPostgres } from './embedded/start.js'
import { print } from './print.js'

const SUBSCRIPTIONS = 300
const REJECTED = 3

function startWorker(rejected: Set<string>) {
  let calls = 0
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => {
      calls++
      const { subscriptionId } = JSON.parse(body) as { subscriptionId: string }
      // A little latency, as a real worker has; a few subscriptions it refuses outright.
      setTimeout(() => {
        const status = rejected.has(subscriptionId) ? 422 : 200
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(status === 200 ? { processed: subscriptionId } : { error: 'subscription is missing a payment method' }))
      }, 5 + Math.random() * 20)
    })
  })
  return new Promise<{ url: string; calls: () => number; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({ url: `http://127.0.0.1:${port}`, calls: () => calls, close: () => new Promise((r) => server.close(() => r())) })
    })
  })
}

export async function runDemo(): Promise<void> {
  print('Starting an embedded PostgreSQL…')
  const database = await startEmbeddedPostgres()
  const pool = new pg.Pool({ connectionString: database.url, max: 20 })
  // As every host should: an idle connection dropped by the server (here, at shutdown) is an
  // 'error' event, which would otherwise crash the process.
  pool.on('error', () => {})
  try {
    await pool.query(`CREATE TABLE subscriptions (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL, frequency text NOT NULL, active boolean NOT NULL DEFAULT true)`)
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO subscriptions (user_id, frequency, active)
       SELECT gen_random_uuid(), (ARRAY['daily', 'weekly', 'monthly'])[1 + n % 3], n % 25 <> 0
         FROM generate_series(1, $1) AS n RETURNING id`,
      [SUBSCRIPTIONS],
    )
    const worker = await startWorker(new Set(rows.slice(0, REJECTED).map((r) => r.id)))
    const scheduler = createSubscriptionScheduler(pool, { workerUrl: worker.url, concurrency: 32, timezone: 'Europe/Berlin' })
    await scheduler.start()
    const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', null]
    for (const [i, { id }] of rows.entries()) await scheduler.enroll(id, { timezone: zones[i % zones.length] })
    print(`Enrolled ${rows.length} subscriptions (every 25th inactive). Running the scheduler once…`)
    const summary = await scheduler.runNow()
    const status = await scheduler.getStatus()
    const { rows: next } = await pool.query(
      `SELECT s.frequency, COALESCE(sp.timezone, 'Europe/Berlin') AS zone, min(sp.next_run_at) AS next_run_at
         FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id
        WHERE sp.status = 'completed' GROUP BY 1, 2 ORDER BY 1, 2`,
    )
    const { rows: failures } = await pool.query(`SELECT subscription_id, error FROM subscription_processing WHERE status = 'failed'`)
    await scheduler.stop()
    await worker.close()
    print('\nRun summary')
    console.table([{ run: summary.runId, processed: summary.processed, successful: summary.successful, failed: summary.failed, 'duration (ms)': summary.durationMs }])
    print('Rows by status')
    console.table([status.counts])
    print('Next runs (earliest per frequency and zone)')
    console.table(next.map((r) => ({ frequency: r.frequency, zone: r.zone, next_run_at: r.next_run_at.toISOString() })))
    print('Failures recorded on their rows')
    console.table(failures)
    print(`The worker saw ${worker.calls()} calls. Next cron fire: ${status.nextFireAt.toISOString()}.`)
  } finally {
    await pool.end()
    await database.stop()
  }
}

// Only as the entry point (`npm run demo`). Bundled into the CLI, import.meta.url is the CLI's
// file, which is the entry point too: the name check keeps every CLI command from starting the demo.
if (import.meta.url === `file://${process.argv[1]}` && /\/demo\.[cm]?[jt]s$/.test(import.meta.url)) {
  runDemo().catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
