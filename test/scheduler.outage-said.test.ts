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

    // Longer than a closed connection's grace: every connection is cut, then every new one.
    await proxy.blackout(9_000)

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

test('sessions killed by pg_terminate_backend are a warning and a return, not an outage, while the server answers', { timeout: 90_000 }, async () => {
  const db = await createTestDatabase()
  const pool = new pg.Pool({ connectionString: db.url, max: 5, application_name: 'killed-sessions' })
  pool.on('error', () => {})
  const logger = captureLogger()
  const scheduler = createSubscriptionScheduler(pool, { workerUrl: 'http://127.0.0.1:9', logger, pollingIntervalSeconds: 0.5 })
  await scheduler.start()
  const said = (pattern: RegExp) => logger.entries.filter((e) => pattern.test(e.message))
  const log = () => logger.entries.map((e) => `${e.level} ${e.message}`).join('\n')
  try {
    // Every session of the scheduler's pool, pg-boss's listener among them, as a DBA kills them.
    const kill = async () => {
      const { rows } = await db.pool.query<{ killed: boolean }>(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'killed-sessions' AND pid <> pg_backend_pid()`,
      )
      return rows.length
    }
    await pollUntil(async () => ((await kill()) > 0 ? true : null), { timeoutMs: 10_000, what: "the scheduler's sessions to kill" })
    const closed = await pollUntil(async () => {
      await kill()
      const lines = said(/^A database connection of this instance was closed/)
      return lines.length > 0 ? lines : null
    }, { timeoutMs: 20_000, what: 'a closed connection to be said' })
    expect(closed[0]).toMatchObject({ level: 'warn', message: expect.stringMatching(/closed \(terminating connection due to administrator command/) })
    const back = await pollUntil(async () => {
      const lines = said(/^Connected to the database again/)
      return lines.length > 0 ? lines : null
    }, { timeoutMs: 30_000, what: 'the reconnection to be said' })
    expect(back[0], log()).toMatchObject({ level: 'info', message: expect.stringMatching(/^Connected to the database again, \d+(\.\d)? s after a connection was closed\.$/) })
    expect(said(/^The database is out of reach/), log()).toEqual([])
    expect(logger.entries.filter((e) => e.level === 'error'), log()).toEqual([])
  } finally {
    await scheduler.stop({ timeoutMs: 5_000 })
    await pool.end()
  }
})
