/**
 * `runNow()` and the other waiting calls resolve once the run row says the run has finished. A
 * run this instance finishes is read at once, when its `run:finished` event comes; a run finished
 * by another instance is found by the poll.
 */
import { expect, test } from 'vitest'
import { TABLES } from '../src/db/names.js'
import { createRun } from '../src/records/runs.js'
import type { RunSummary } from '../src/records/runs.js'
import { waitForRun } from '../src/records/wait-for-run.js'
import { countingExecutor, createTestDatabase } from './support/database.js'
import { pollUntil } from './support/reliability-support.js'

/** A run, a pool that counts the statements sent, and a stand-in for the scheduler's event bus. */
async function setUp() {
  const db = await createTestDatabase()
  const runId = await createRun(db.pool, 'manual', new Date())
  const { executor: counted, statements: reads, answered } = countingExecutor(db.pool)
  const listeners = new Set<(run: RunSummary) => void>()
  const finishedHere = (listener: (run: RunSummary) => void) => (listeners.add(listener), () => void listeners.delete(listener))
  const emit = (id: string) => listeners.forEach((listener) => listener({ runId: id } as RunSummary))
  const finish = () => db.pool.query(`UPDATE ${TABLES.runs} SET finished_at = now() WHERE id = $1`, [runId])
  return { runId, reads, answered, counted, listeners, finishedHere, emit, finish }
}

/** Rejects if `promise` has not settled within `ms`: the poll it should not have waited for is far longer. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)))
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

test('a run this instance finishes is read at once, not at the next poll, and the listener is removed', async () => {
  const { runId, reads, answered, counted, listeners, finishedHere, emit, finish } = await setUp()
  const waiting = waitForRun(counted, runId, { pollMs: 600_000, finishedHere })
  // The first read has found it running (not merely started); the next poll is ten minutes away.
  await pollUntil(() => answered() === 1, { timeoutMs: 10_000, intervalMs: 20, what: 'the answer to the first read of the run' })
  await finish()
  emit(runId)
  const run = await within(waiting, 10_000, 'waitForRun() resolving after the run:finished event')
  expect(run.runId).toBe(runId)
  expect(run.finishedAt).toBeInstanceOf(Date)
  expect(reads).toHaveLength(2)
  expect(listeners.size).toBe(0)
})

test("another run's event does not end the wait, and a run finished by another instance is found by the poll", async () => {
  const { runId, reads, counted, finishedHere, emit, finish } = await setUp()
  const waiting = waitForRun(counted, runId, { pollMs: 50, finishedHere })
  await pollUntil(() => reads.length >= 1, { timeoutMs: 10_000, intervalMs: 20, what: 'the first read of the run' })
  emit('00000000-0000-4000-8000-000000000000')
  let resolved = false
  void waiting.then(() => (resolved = true))
  // Polls go on, and each finds the run still running.
  await pollUntil(() => reads.length >= 3, { timeoutMs: 10_000, intervalMs: 20, what: 'two more polls' })
  expect(resolved).toBe(false)
  await finish()
  const run = await within(waiting, 10_000, 'the poll finding the run finished')
  expect(run.finishedAt).toBeInstanceOf(Date)
})

test('a stop gives up the wait', async () => {
  const { runId, counted, finishedHere } = await setUp()
  const stop = new AbortController()
  const waiting = waitForRun(counted, runId, { pollMs: 600_000, finishedHere, signal: stop.signal })
  stop.abort(new Error('stopping'))
  await expect(within(waiting, 10_000, 'the wait giving up')).rejects.toThrow('stopping')
})
