/**
 * pg-boss's events as log lines: while the database is out of reach, each of its loops reports
 * every poll, so those lines are limited; any other error is logged as an error, every time.
 */
import { EventEmitter } from 'node:events'
import { expect, test } from 'vitest'
import { forwardBossEvents } from '../../src/runtime/boss.js'
import { LINES_PER_MINUTE } from '../../src/observe/limited-log.js'
import { captureLogger, createManualClock } from '../../src/testing.js'

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432 (Queue: subscription-scheduler.process, Worker: 1)'), { code: 'ECONNREFUSED' })
}

test("a database out of reach: pg-boss's errors are warnings, at most a minute's worth, then counted", () => {
  const logger = captureLogger()
  const boss = new EventEmitter()
  forwardBossEvents(boss as never, { logger, clock: createManualClock(new Date('2026-03-02T09:00:00Z')) })
  for (let i = 0; i < 100; i++) boss.emit('error', refused())
  boss.emit('error', Object.assign(new Error('relation "pgboss.job" does not exist'), { code: '42P01' }))
  // The outage itself is one error line, said at its first sign (observe/outage.ts).
  expect(logger.messages('error')).toEqual([expect.stringMatching(/^The database is out of reach \(connect ECONNREFUSED 127\.0\.0\.1:5432/), 'pg-boss: relation "pgboss.job" does not exist'])
  const warnings = logger.messages('warn')
  expect(warnings).toHaveLength(LINES_PER_MINUTE + 1)
  expect(warnings[0]).toBe('pg-boss: connect ECONNREFUSED 127.0.0.1:5432 (Queue: subscription-scheduler.process, Worker: 1)')
  expect(warnings.at(-1)).toMatch(/^20 pg-boss errors of a database out of reach logged this minute: until 2026-03-02T09:01:00\.000Z further ones are counted, not logged/)
})

test("pg-boss's report of a lost connection, a plain object copying the error's fields, is quoted by its message in the outage line: no field dump, no stack", () => {
  const logger = captureLogger()
  const boss = new EventEmitter()
  forwardBossEvents(boss as never, { logger, clock: createManualClock(new Date('2026-03-02T09:00:00Z')) })
  const message = 'read ECONNRESET (Queue: subscription-scheduler.sweep, Worker: 1)'
  boss.emit('error', { errno: -104, code: 'ECONNRESET', syscall: 'read', message, stack: `Error: ${message}\n    at TCP.onStreamRead (node:internal/stream_base_commons:216:20)` })
  // A reset connection is a closed one: a warning, until more follows (test/unit/outage-causes.test.ts).
  expect(logger.messages('warn')[0]).toMatch(/^A database connection of this instance was closed \(read ECONNRESET \(Queue: subscription-scheduler\.sweep, Worker: 1\)\): a session/)
})
