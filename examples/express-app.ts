/**
 * An Express backend that embeds the scheduler: every instance of the app sweeps and processes
 * (pg-boss makes the cron fire once across all of them), and operators reach the admin API and
 * dashboard at /admin.
 *
 *   DATABASE_URL=postgres://localhost/app ADMIN_TOKEN=$(openssl rand -hex 32) \
 *   SUBSCRIPTION_WORKER_URL=http://localhost:8080 PORT=3000 npx tsx examples/express-app.ts
 */
import type { AddressInfo } from 'node:net'
import express from 'express'
import pg from 'pg'
import { createSubscriptionScheduler } from 'pg-subscription-scheduler'
import { bearerToken, createAdminHandler } from 'pg-subscription-scheduler/admin'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
// No options: the worker URL comes from SUBSCRIPTION_WORKER_URL, so each environment configures
// it next to DATABASE_URL. Pass `workerUrl`, `cron`, `timezone`... to override.
const scheduler = createSubscriptionScheduler(pool)

const app = express()

// Signup: the subscription and its schedule commit together or not at all, so there is never a
// subscription the scheduler doesn't know about, nor a schedule for a rolled-back signup.
app.post('/subscriptions', express.json(), async (req, res) => {
  const { userId, frequency, timezone } = req.body as { userId: string; frequency: string; timezone?: string }
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const { rows } = await client.query<{ id: string }>(
      'INSERT INTO subscriptions (user_id, frequency) VALUES ($1, $2) RETURNING id',
      [userId, frequency],
    )
    const subscriptionId = rows[0]!.id
    await scheduler.enroll(subscriptionId, { timezone, db: client })
    await client.query('COMMIT')
    res.status(201).json({ id: subscriptionId })
  } catch (error) {
    await client.query('ROLLBACK')
    throw error // Express 5 passes a rejected handler's error to its error middleware
  } finally {
    client.release()
  }
})

// Mounted before any body parser of the app's own: the handler reads its request bodies itself.
// bearerToken() refuses a missing or short token at startup, rather than serving an open API.
app.use('/admin', createAdminHandler(scheduler, { authorize: bearerToken(process.env.ADMIN_TOKEN!) }))

// Start before listening: the first admin request then finds a scheduler that is running.
await scheduler.start()
const server = app.listen(Number(process.env.PORT ?? 3000), (error) => {
  if (error) throw error // a taken port: crash loudly rather than run without serving
  console.log(`Listening on http://localhost:${(server.address() as AddressInfo).port}`)
})

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  console.log(`${signal} received: shutting down`)
  // Stop accepting connections and drop idle keep-alive ones; requests in flight finish.
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
  server.closeIdleConnections()
  // At the same time, let in-flight worker calls finish (calls still running after 10 s are
  // cancelled and retried later, by this or another instance): an admin request waiting on a run
  // would otherwise hold server.close() open until the run settled.
  await Promise.all([closed, scheduler.stop({ timeoutMs: 10_000 })])
  // The pool is the app's: the scheduler never closes it, so the app does, last.
  await pool.end()
  // Nothing is left running, so Node exits on its own, with code 0. If it doesn't, something
  // still holds a handle: better found here than papered over with process.exit().
}

// `once`: a second Ctrl-C kills the process the default way, for when a shutdown hangs.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    shutdown(signal).catch((error: unknown) => {
      console.error('Shutdown failed:', error)
      process.exit(1)
    })
  })
}
