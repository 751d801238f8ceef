/**
 * The scheduler as a process of its own, for a backend that should not run it in its web
 * instances: no HTTP server, just cron sweeps and worker calls. Run as many replicas as you like;
 * pg-boss fires each cron occurrence once across all of them, and they share the work.
 *
 *   DATABASE_URL=postgres://localhost/app SUBSCRIPTION_WORKER_URL=http://localhost:8080 \
 *   SUBSCRIPTION_CRON='0 9 * * *' SUBSCRIPTION_TIMEZONE=Europe/Berlin npx tsx examples/standalone-worker.ts
 *
 * Your backend keeps calling `scheduler.enroll()` (it needs no `start()` for that); this process
 * picks the subscriptions up at the next sweep.
 *
 * With nothing of your own to add, the package's CLI is this process already:
 * `npx pg-subscription-scheduler worker`. Write your own, like this one, when it needs your code:
 * an in-process worker client, your logger, metrics, or alerts on failed runs.
 */
import pg from 'pg'
import { createSubscriptionScheduler } from 'pg-subscription-scheduler'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
const scheduler = createSubscriptionScheduler(pool, {
  // The worker URL comes from SUBSCRIPTION_WORKER_URL.
  cron: process.env.SUBSCRIPTION_CRON ?? '0 9 * * *',
  timezone: process.env.SUBSCRIPTION_TIMEZONE ?? 'UTC',
})

// One line per run in the process's log; forward these events to your metrics or alerting.
scheduler.on('run:finished', (run) => {
  console.log(`Run ${run.runId} (${run.trigger}): ${run.processed} processed, ${run.successful} succeeded, ${run.failed} failed`)
})

// Listen before start(): a SIGTERM that arrives while starting (a quick rollback, say) must still
// end in a clean stop rather than kill the process mid-migration.
const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
  process.once('SIGTERM', resolve)
  process.once('SIGINT', resolve)
})

await scheduler.start()
console.log('Worker ready')

const signal = await stopRequested
console.log(`${signal} received: stopping`)
// Kubernetes sends SIGKILL 30 s after SIGTERM by default: in-flight calls get 25 s to finish, and
// the ones still running then are cancelled and retried later by another replica.
await scheduler.stop({ timeoutMs: 25_000 })
await pool.end()
console.log('Stopped')
