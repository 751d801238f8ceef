/**
 * The outage line names what kept the instance from the database: a server whose connection
 * slots are full is up (a trial's alert on "out of reach" paged for it while the database
 * answered everyone else), and a pool whose wait for a connection timed out is this process's own.
 */
import { performance } from 'node:perf_hooks'
import { expect, test, vi } from 'vitest'
import { createDatabaseClock } from '../../src/observe/database-clock.js'
import { outageOf } from '../../src/observe/outage.js'
import { captureLogger, createManualClock } from '../../src/testing.js'

function watched() {
  const owner = { logger: captureLogger(), clock: createManualClock(new Date('2026-03-02T09:00:00Z')) }
  return { owner, watch: outageOf(owner) }
}

test("a server out of connection slots (53300) is named as such, with what to lower or raise, and so is its end", () => {
  const { owner, watch } = watched()
  const full = Object.assign(new Error('remaining connection slots are reserved for non-replication superuser connections'), { code: '53300' })
  watch.unreachable(full)
  watch.unreachable(full)
  owner.clock.advance(12_000)
  watch.reached()
  expect(owner.logger.messages('error')).toEqual([
    expect.stringMatching(/^The database server refuses this instance more connections \(remaining connection slots are reserved for non-replication superuser connections\): its max_connections is spent, by every client together\. .* Lower the pools' max .* or raise max_connections\./),
  ])
  expect(owner.logger.messages('info')).toEqual(["This instance has its connections again, after 12 s without (the server's slots full)."])
  expect(owner.logger.messages('error')[0]).not.toMatch(/out of reach/)
})

test("a pool's connect timeout is named as the pool's, not the database's", () => {
  const { owner, watch } = watched()
  watch.unreachable(new Error('timeout exceeded when trying to connect (Queue: subscription-scheduler.process, Worker: 1)'))
  owner.clock.advance(2_500)
  watch.reached()
  expect(owner.logger.messages('error')).toEqual([
    expect.stringMatching(/^This instance's pool gave no connection within its connectionTimeoutMillis \(timeout exceeded when trying to connect .*\): the pool's connections are all in use.* Raise the pool's max or its connectionTimeoutMillis\./),
  ])
  expect(owner.logger.messages('info')).toEqual(['This instance has its connections again, after 2.5 s without (its pool spent).'])
})

test('a database out of reach is said as before', () => {
  const { owner, watch } = watched()
  watch.unreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))
  owner.clock.advance(20_000)
  watch.reached()
  expect(owner.logger.messages('error')).toEqual([expect.stringMatching(/^The database is out of reach \(connect ECONNREFUSED 127\.0\.0\.1:5432\)\. This instance's sweeps and calls wait for it; .* Its return is said too\.$/)])
  expect(owner.logger.messages('info')).toEqual(['The database answers again, after 20 s out of reach.'])
})

test('a serialization failure or a deadlock, retried as transient, is no outage: nothing is said', () => {
  const { owner, watch } = watched()
  watch.unreachable(Object.assign(new Error('could not serialize access due to concurrent update'), { code: '40001' }))
  watch.unreachable(Object.assign(new Error('deadlock detected'), { code: '40P01' }))
  expect(watch.out()).toBe(false)
  watch.reached()
  expect(owner.logger.entries).toEqual([])
})

test("with the default clock an outage is timed by the monotonic clock: a correction of the database's clock read as it comes back is no part of it", () => {
  // A trial's server came back from a restart with its clock 5 minutes fast: "after 303 s out of
  // reach" for an outage of a second, the clock's new correction counted in.
  const owner = { logger: captureLogger(), clock: createDatabaseClock() }
  const watch = outageOf(owner)
  const start = performance.now()
  const monotonic = vi.spyOn(performance, 'now')
  try {
    monotonic.mockReturnValue(start)
    watch.unreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))
    monotonic.mockReturnValue(start + 1_200)
    watch.reached()
  } finally {
    monotonic.mockRestore()
  }
  expect(owner.logger.messages('info')).toEqual(['The database answers again, after 1.2 s out of reach.'])
})

const killed = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })

test('a closed connection that a refused one follows is an outage, said at error level and timed from the close', () => {
  const { owner, watch } = watched()
  watch.unreachable(killed())
  expect(owner.logger.messages('warn')).toEqual([expect.stringMatching(/^A database connection of this instance was closed \(terminating connection due to administrator command\): .* said at error level within 5 s\.$/)])
  expect(owner.logger.messages('error')).toEqual([])
  owner.clock.advance(1_000)
  // The server went down: its next connection is refused.
  watch.unreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))
  watch.unreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))
  expect(owner.logger.messages('error')).toEqual([expect.stringMatching(/^The database is out of reach \(connect ECONNREFUSED/)])
  owner.clock.advance(9_000)
  watch.reached()
  expect(owner.logger.messages('info')).toEqual(['The database answers again, after 10 s out of reach.'])
})

test('connections closed again and again for 5 s are an outage; one closed and then reconnected is not', () => {
  const { owner, watch } = watched()
  watch.unreachable(killed())
  owner.clock.advance(4_000)
  watch.unreachable(Object.assign(new Error('Connection terminated unexpectedly'), {}))
  expect(owner.logger.messages('error')).toEqual([])
  owner.clock.advance(1_000)
  watch.unreachable(Object.assign(new Error('Connection terminated unexpectedly'), {}))
  expect(owner.logger.messages('error')).toEqual([expect.stringMatching(/^The database is out of reach \(Connection terminated unexpectedly\)/)])
  watch.reached()

  const again = watched()
  again.watch.unreachable(killed())
  again.owner.clock.advance(300)
  again.watch.reached()
  expect(again.owner.logger.messages('error')).toEqual([])
  expect(again.owner.logger.messages('info')).toEqual(['Connected to the database again, 0.3 s after a connection was closed.'])
})
