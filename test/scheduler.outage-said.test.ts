/**
 * A database outage is said at error level once, and its end once, with how long it lasted: an
 * operator's alert on error lines fires, and the log says when to stand down. pg-boss's own
 * failures stay warnings, counted a minute at a time.
 */
import pg from 'pg'
import { afterAll, expect, test } from 'vitest'
import { createSubscriptionScheduler } from '../src/index.js'
import { captureLogger } from '../src/testing.js'
import { startDbProxy } from './chaos/db-proxy.js'
import type { DbProxy } from './chaos/db-proxy.js'
import { createTestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'

let proxy: DbProxy | undefined
afterAll(async () => await proxy?.close())

test('an outage is one error line, and its end one line with its length', { timeout: 90_000 }, async () => {
  const db = await createTestDatabase()
  proxy = await startDbProxy(db.url)
  const pool = new pg.Pool({ connectionString: proxy.url, max: 5 })
  pool.on('error', () => {})
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(pool, { workerUrl: 'http://127.0.0.1:9', logger, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
  const said = (pattern: RegExp) => logger.entries.filter((e) => pattern.test(e.message))
  try {
    expect(said(/out of reach/)).toEqual([])

    await proxy.blackout(6_000)

    const ended = await pollUntil(async () => (said(/^The database answers again/).length > 0 ? said(/^The database answers again/) : null), {
      timeoutMs: 40_000,
      what: "the database's return to be said",
    })
    const outage = said(/^The database is out of reach/)
    expect(outage, logger.entries.map((e) => `${e.level} ${e.message}`).join('\n')).toHaveLength(1)
    expect(outage[0]).toMatchObject({ level: 'error', message: expect.stringMatching(/out of reach \(.*\)\. This instance's sweeps and calls wait for it/) })
    expect(ended).toEqual([{ level: 'info', message: expect.stringMatching(/^The database answers again, after \d+(\.\d)? s out of reach\.$/) }])
    const seconds = Number(/after ([\d.]+) s/.exec(ended[0]!.message)![1])
    expect(seconds).toBeGreaterThan(1)
    expect(seconds).toBeLessThan(40)
  } finally {
    await scheduler.stop({ timeoutMs: 5_000 })
    await pool.end()
  }
})
