/**
 * Which database errors the scheduler rides out (a restart, a failover, a dropped connection, a
 * deadlock) and which it reports at once (wrong SQL, a violated constraint). Errors are pg's own:
 * its DatabaseError class with real SQLSTATE codes, and a real refused connection.
 */
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { describe, expect, test, vi } from 'vitest'
import { captureLogger } from '../../src/testing.js'
import { isTransientDbError, poolErrorListener, retryTransient } from '../../src/db/transient.js'

/** An error as pg raises it for a server response with this SQLSTATE. */
function sqlError(code: string, message: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error')
  error.code = code
  return error
}

/** A port on this machine that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('isTransientDbError', () => {
  test.each([
    ['57P01', 'terminating connection due to administrator command'],
    ['57P02', 'terminating connection due to crash of another server process'],
    ['57P03', 'the database system is starting up'],
    ['08006', 'connection failure'],
    ['08003', 'connection does not exist'],
    ['53300', 'sorry, too many clients already'],
    ['40001', 'could not serialize access due to concurrent update'],
    ['40P01', 'deadlock detected'],
  ])('SQLSTATE %s (%s) is transient: a retry can cure it', (code, message) => {
    expect(isTransientDbError(sqlError(code, message))).toBe(true)
  })

  test.each([
    ['23505', 'duplicate key value violates unique constraint "subscription_processing_subscription_id_key"'],
    ['23503', 'insert or update on table "subscription_processing" violates foreign key constraint'],
    ['42P01', 'relation "subscription_processing" does not exist'],
    ['42703', 'column "next_run_at" does not exist'],
    ['22P02', 'invalid input syntax for type uuid: "abc"'],
  ])('SQLSTATE %s (%s) is not: retrying the same statement fails the same way', (code, message) => {
    expect(isTransientDbError(sqlError(code, message))).toBe(false)
  })

  test('a refused connection, as pg reports it, is transient', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: await closedPort(), user: 'nobody', database: 'none' })
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect((error as { code?: string }).code).toBe('ECONNREFUSED')
    expect(isTransientDbError(error)).toBe(true)
  })

  test.each(['Connection terminated unexpectedly', 'timeout exceeded when trying to connect', 'Client has encountered a connection error and is not queryable'])(
    "pg's message without a code, %j, is transient",
    (message) => {
      expect(isTransientDbError(new Error(message))).toBe(true)
    },
  )

  test('a transient error wrapped by another library (as `cause`) is still recognised', () => {
    const wrapped = new Error('Failed to fetch jobs', { cause: new Error('query failed', { cause: sqlError('57P01', 'terminating connection') }) })
    expect(isTransientDbError(wrapped)).toBe(true)
  })

  test.each([undefined, null, 'ECONNRESET', 57, new TypeError('Cannot read properties of undefined')])('%j is not a transient database error', (value) => {
    expect(isTransientDbError(value)).toBe(false)
  })
})

describe('retryTransient', () => {
  const what = 'claiming a page of run 42'

  test('retries a transient error, logging what it was doing, and returns the result', async () => {
    const logger = captureLogger()
    let calls = 0
    const result = await retryTransient(async () => {
      calls++
      if (calls === 1) throw sqlError('57P01', 'terminating connection due to administrator command')
      return 'claimed'
    }, { logger, what })
    expect({ result, calls }).toEqual({ result: 'claimed', calls: 2 })
    expect(logger.messages('warn')).toEqual([expect.stringContaining(`Database unavailable while ${what}`)])
    expect(logger.messages('info')).toEqual([expect.stringMatching(new RegExp(`^Database reachable again: ${what} went through at try 2, \\d+\\.\\d s after the first failure\\.$`))])
  })

  test('a refusal of every write alike (a statement_timeout, a revoked privilege, a read-only database) fails at once, unless the caller holds through refusals', async () => {
    const timedOut = () => sqlError('57014', 'canceling statement due to statement timeout')
    await expect(retryTransient(async () => { throw timedOut() }, { logger: captureLogger(), what })).rejects.toThrow('statement timeout')
    for (const [code, says] of [
      ['57014', "a statement_timeout (the role's or the database's) cancelled it, or someone cancelled its statement (SQLSTATE 57014)"],
      ['42501', 'a privilege it needs was revoked: grant back what the README lists under "Database privileges" (SQLSTATE 42501)'],
      ['25006', 'the database is read-only (a replica, or a failover under way) (SQLSTATE 25006)'],
    ] as const) {
      const logger = captureLogger()
      let calls = 0
      const result = await retryTransient(async () => {
        if (++calls === 1) throw new Error('wrapped', { cause: sqlError(code, 'refused') })
        return 'recorded'
      }, { logger, what: 'recording 3 outcomes', holdThroughRefusals: true })
      expect(result).toBe('recorded')
      expect(logger.messages('error')).toEqual([expect.stringMatching(new RegExp(`^The database refused recording 3 outcomes \\(wrapped\\): ${says.replace(/[()]/g, '\\$&')}\\. Holding them and retrying in \\d+ ms, so that nobody is called again for them\\.$`))])
      expect(logger.messages('info')).toEqual([expect.stringMatching(/^Refusal over: recording 3 outcomes went through at try 2, /)])
    }
  })

  test('a conflict is not an outage: no line says the database is back', async () => {
    const logger = captureLogger()
    let calls = 0
    await retryTransient(async () => {
      if (++calls === 1) throw sqlError('40P01', 'deadlock detected')
    }, { logger, what })
    expect(calls).toBe(2)
    expect(logger.messages('info')).toEqual([])
  })

  test('a serialization failure or a deadlock is logged as a conflict, not as the database being unavailable', async () => {
    const logger = captureLogger()
    let calls = 0
    await retryTransient(async () => {
      calls++
      if (calls === 1) throw sqlError('40001', 'could not serialize access due to concurrent update')
      if (calls === 2) throw sqlError('40P01', 'deadlock detected')
    }, { logger, what })
    expect(logger.messages('warn')).toEqual([
      expect.stringMatching(new RegExp(`^A conflict with a concurrent transaction while ${what} \\(could not serialize access`)),
      expect.stringMatching(new RegExp(`^A conflict with a concurrent transaction while ${what} \\(deadlock detected\\)`)),
    ])
  })

  test('an outage is said as it begins, not at every try; maxDelayMs caps the wait between tries', async () => {
    const logger = captureLogger()
    let calls = 0
    await retryTransient(async () => {
      calls++
      if (calls <= 6) throw sqlError('57P01', 'terminating connection due to administrator command')
    }, { logger, what, maxDelayMs: 20 })
    expect(calls).toBe(7)
    const said = logger.messages('warn')
    expect(said).toEqual([expect.stringMatching(new RegExp(`^Database unavailable while ${what} \\(terminating connection due to administrator command\\); retrying in \\d+ ms\\.$`))])
    expect(Number(/retrying in (\d+) ms/.exec(said[0]!)![1])).toBeLessThanOrEqual(20)
    expect(logger.messages('info')).toEqual([expect.stringContaining(`Database reachable again: ${what} went through at try 7`)])
  })

  test("a retry waiting out an outage's backoff is woken when another gets through: once the database is back, its outcome does not wait seconds more", async () => {
    vi.useFakeTimers()
    try {
      const logger = captureLogger()
      const down = () => sqlError('57P01', 'terminating connection due to administrator command')
      let up = false
      let tries = 0
      let recorded = false
      const waiting = retryTransient(async () => {
        tries++
        if (!up) throw down()
        return 'recorded'
      }, { logger, what, maxDelayMs: 60_000, deadlineMs: 600_000 }).then((r) => ((recorded = true), r))
      // Seven tries down: its wait before the eighth is 8-16 s.
      while (tries < 7) await vi.advanceTimersByTimeAsync(100)
      up = true
      let otherTries = 0
      const other = retryTransient(async () => {
        if (++otherTries === 1) throw down()
        return 'other'
      }, { logger, what: 'recording another outcome' })
      // The other's first wait is at most 250 ms: it gets through, and the first goes at once.
      await vi.advanceTimersByTimeAsync(300)
      await expect(other).resolves.toBe('other')
      await vi.advanceTimersByTimeAsync(0)
      expect({ tries, recorded }).toEqual({ tries: 8, recorded: true })
      await expect(waiting).resolves.toBe('recorded')
    } finally {
      vi.useRealTimers()
    }
  })

  test("a conflict's wait is not cut short by another retry getting through: its jitter keeps two transactions apart", async () => {
    vi.useFakeTimers()
    try {
      const logger = captureLogger()
      let tries = 0
      let done = false
      const conflicted = retryTransient(async () => {
        // Six conflicts: its wait before the seventh is 4-8 s.
        if (++tries <= 6) throw sqlError('40P01', 'deadlock detected')
      }, { logger, what, maxDelayMs: 60_000, deadlineMs: 600_000 }).then(() => void (done = true))
      while (tries < 6) await vi.advanceTimersByTimeAsync(100)
      let otherTries = 0
      const other = retryTransient(async () => {
        if (++otherTries === 1) throw sqlError('57P01', 'terminating connection due to administrator command')
      }, { logger, what: 'recording another outcome' })
      await vi.advanceTimersByTimeAsync(300)
      await other
      expect({ tries, done }).toEqual({ tries: 6, done: false })
      await vi.advanceTimersByTimeAsync(8_000)
      await conflicted
      expect(tries).toBe(7)
    } finally {
      vi.useRealTimers()
    }
  })

  test('throws any other error at once, without retrying', async () => {
    const logger = captureLogger()
    let calls = 0
    const unique = sqlError('23505', 'duplicate key value')
    await expect(retryTransient(async () => {
      calls++
      throw unique
    }, { logger, what })).rejects.toBe(unique)
    expect(calls).toBe(1)
    expect(logger.entries).toEqual([])
  })

  test('gives up once its deadline has passed, with the last error', async () => {
    let calls = 0
    const down = sqlError('57P03', 'the database system is starting up')
    await expect(retryTransient(async () => {
      calls++
      throw down
    }, { logger: captureLogger(), what, deadlineMs: 0 })).rejects.toBe(down)
    expect(calls).toBe(1)
  })

  test('stops retrying when its signal aborts (the scheduler is stopping)', async () => {
    const controller = new AbortController()
    controller.abort()
    let calls = 0
    await expect(retryTransient(async () => {
      calls++
      throw sqlError('08006', 'connection failure')
    }, { logger: captureLogger(), what, signal: controller.signal })).rejects.toMatchObject({ code: '08006' })
    expect(calls).toBe(1)
  })
})

describe('poolErrorListener', () => {
  test('a restart dropping every idle connection is one warning, not one error per connection; another error is an error each time', () => {
    const logger = captureLogger()
    const listen = poolErrorListener(logger)
    for (let i = 0; i < 10; i++) listen(sqlError('57P01', 'terminating connection due to administrator command'))
    listen(new Error('Connection terminated unexpectedly'))
    listen(new Error('SSL certificate has expired'))
    listen(new Error('SSL certificate has expired'))
    expect(logger.entries.map((e) => `${e.level} ${e.message}`)).toEqual([
      'warn Database connection error: terminating connection due to administrator command. The pool opens a new connection at its next query; idle connections dropped with it in the next 30 s are not said one by one.',
      'error Database connection error: SSL certificate has expired',
      'error Database connection error: SSL certificate has expired',
    ])
  })
})
