/**
 * A settle that waits long on a lock says so, naming the session that holds it: a trial's 30 s
 * ACCESS EXCLUSIVE lock on subscription_processing stalled every replica without a line at any
 * level, and the on-call engineer could not tell the stall from idleness.
 */
import { expect, test } from 'vitest'
import { createStallWatch } from '../src/process/lock-stall.js'
import { captureLogger } from '../src/testing.js'
import { createTestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'
import { seedSubscriptions } from './support/seed.js'

test('a settle held by a lock past its time is said once, naming the holder; one that is not held says nothing', async () => {
  const db = await createTestDatabase()
  const [id] = await seedSubscriptions(db.pool, { count: 1 })
  const logger = captureLogger()
  const watch = createStallWatch(db.pool, logger, { afterMs: 300 })
  // Quick: nothing said.
  await watch.watch(db.pool.query(`SELECT 1`), 3)

  const holder = await db.pool.connect()
  try {
    await holder.query(`BEGIN; LOCK TABLE subscription_processing IN ACCESS EXCLUSIVE MODE`)
    const { rows: [me] } = await holder.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)
    const pid = me!.pid
    const held = [1, 2].map((n) => watch.watch(db.pool.query(`UPDATE subscription_processing SET updated_at = now() WHERE subscription_id = $1`, [id]), n))
    const said = await pollUntil(() => logger.messages('warn')[0], { timeoutMs: 10_000, what: 'the stall said' })
    expect(said).toMatch(new RegExp(`^Recording [12] outcomes? has waited 0\\.3 s on a lock: pid ${pid} \\(idle in transaction, its transaction open \\d+ s, last query: "SELECT pg_backend_pid\\(\\) AS pid"; 2 of the scheduler's statements wait on it\\)\\. Calls and outcomes wait behind it on every instance; end that transaction`))
    await holder.query('COMMIT')
    await Promise.all(held)
  } finally {
    holder.release()
  }
  // Once a minute at most: the second settle held at the same time said nothing more.
  expect(logger.messages('warn')).toHaveLength(1)
})
