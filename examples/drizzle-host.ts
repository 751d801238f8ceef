/**
 * A host that uses Drizzle: it enrols subscriptions inside its own Drizzle transactions, and
 * queries the scheduler's table next to its own with the schema the package exports.
 *
 *   DATABASE_URL=postgres://localhost/app npx tsx examples/drizzle-host.ts
 */
import { randomUUID } from 'node:crypto'
import { asc, eq, inArray } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { boolean, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { createSubscriptionScheduler } from 'pg-subscription-scheduler'
import type { WorkerClient } from 'pg-subscription-scheduler'
// Import it where you query, but don't export it from the schema file drizzle-kit reads: the
// library migrates its own tables, and drizzle-kit would otherwise try to create them too.
import { subscriptionProcessing } from 'pg-subscription-scheduler/schema'

/** Your own table, in your own schema file, as usual. */
const subscriptions = pgTable('subscriptions', {
  id: uuid('id').primaryKey().defaultRandom(),
  userId: uuid('user_id'),
  frequency: text('frequency'),
  active: boolean('active').notNull().default(true),
})

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
const db = drizzle(pool)

// Stands in for your subscription worker so the example runs on its own; in production, pass
// `workerUrl` (see custom-worker-client.ts for a real in-process client).
const worker: WorkerClient = { process: async (request) => ({ delivered: request.subscriptionId }) }
const scheduler = createSubscriptionScheduler(pool, { workerClient: worker, timezone: 'Europe/Berlin' })
await scheduler.start()

/** Signup: the subscription and its schedule commit together, or neither does. */
async function signUp(frequency: string, timezone: string, checkout?: () => Promise<void>): Promise<string> {
  return await db.transaction(async (tx) => {
    const [created] = await tx.insert(subscriptions).values({ userId: randomUUID(), frequency }).returning({ id: subscriptions.id })
    // `db: tx` runs the enrolment on the transaction's connection: it sees the uncommitted
    // subscription (the foreign key holds) and rolls back with it.
    await scheduler.enroll(created!.id, { timezone, db: tx })
    await checkout?.()
    return created!.id
  })
}

const ids = [
  await signUp('daily', 'Europe/Berlin'),
  await signUp('weekly', 'America/New_York'),
  await signUp('monthly', 'Asia/Tokyo'),
]

// A signup that fails after enrolling leaves no schedule behind to process a subscription that
// does not exist.
await signUp('daily', 'UTC', async () => {
  throw new Error('payment declined')
}).catch((error: Error) => console.log(`Signup rolled back (${error.message}): no subscription, no schedule.`))

const summary = await scheduler.runNow()
console.log(`Run ${summary.runId}: ${summary.processed} processed, ${summary.successful} succeeded`)

// Your own query, joining your table with the scheduler's: what runs next, and when.
const nextRuns = await db
  .select({
    subscription: subscriptions.id,
    frequency: subscriptions.frequency,
    status: subscriptionProcessing.status,
    timezone: subscriptionProcessing.timezone,
    nextRunAt: subscriptionProcessing.nextRunAt,
  })
  .from(subscriptions)
  .innerJoin(subscriptionProcessing, eq(subscriptionProcessing.subscriptionId, subscriptions.id))
  .where(inArray(subscriptions.id, ids))
  .orderBy(asc(subscriptionProcessing.nextRunAt))
console.log('Next runs:')
console.table(nextRuns.map((row) => ({ ...row, nextRunAt: row.nextRunAt?.toISOString() })))

await scheduler.stop()
await pool.end()
