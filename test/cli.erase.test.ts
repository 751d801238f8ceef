/**
 * `erase <id>…`, as an operator runs it (a child process on a database of this file's own): the
 * failures and history of subscriptions deleted from the host's table go; one still in the table
 * is refused with exit 4, and nothing goes.
 */
import { beforeAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import type { SubscriptionScheduler } from '../src/index.js'
import { captureLogger } from '../src/testing.js'
import { runCli, SLOW_MS } from './support/cli-process.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'

let db: TestDatabase
let library: SubscriptionScheduler
let env: Record<string, string>

beforeAll(async () => {
  db = await createTestDatabase()
  // Never started: pause() and erase() need no engine.
  library = createSubscriptionScheduler(db.pool, { logger: captureLogger(), migrate: false })
  env = { DATABASE_URL: db.url }
})

async function pausedSubscription(): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO subscriptions (user_id) VALUES (gen_random_uuid()) RETURNING id`)
  await library.pause(rows[0]!.id, { note: 'asked by bob@example.com' })
  return rows[0]!.id
}

const historyOf = async (id: string) => (await db.pool.query(`SELECT 1 FROM subscription_scheduler.history WHERE subscription_id = $1`, [id])).rowCount

test("erases deleted subscriptions' history; refuses one still in the table with exit 4, erasing nothing", { timeout: SLOW_MS }, async () => {
  const [gone, alsoGone, still] = [await pausedSubscription(), await pausedSubscription(), await pausedSubscription()]
  await db.pool.query(`DELETE FROM subscriptions WHERE id = ANY($1::uuid[])`, [[gone, alsoGone]])

  const refused = await runCli(['erase', gone, still], env)
  expect(refused.code).toBe(4)
  expect(refused.stderr).toContain(`Subscription ${still} is still in your subscriptions table, so nothing was erased`)
  expect(await historyOf(gone)).toBe(1)

  const erased = await runCli(['erase', gone, alsoGone], env)
  expect(erased).toMatchObject({ code: 0, stderr: '' })
  expect(erased.stdout).toBe('Erased what was kept of 2 subscriptions: 0 failed attempts, 2 history entries, 0 dead letters.\n')
  expect(await historyOf(gone)).toBe(0)
  expect(await historyOf(still)).toBe(1)

  const usage = await runCli(['erase', 'not-an-id'], env)
  expect(usage.code).toBe(2)
})
