/**
 * A page job's rows let go of before their turn (revoked, or handed to another job): recorded once,
 * passed over at their turn, and not counted as waiting meanwhile, so that the instance's reports
 * and its next fetch see only the calls it will make.
 */
import { expect, test } from 'vitest'
import { createCallGate } from '../../src/process/call-gate.js'
import { pageTurns } from '../../src/process/page-turns.js'
import type { Outcome, PageRow } from '../../src/settle/outcome.js'
import { captureLogger } from '../../src/testing.js'

const rows = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, attempts: 0 }) as PageRow)

test('handed-over rows are the last to come, each recorded once, passed over at their turn, and not counted as waiting', async () => {
  const gate = createCallGate(1, null, captureLogger())
  const recorded: Outcome[] = []
  const turns = pageTurns('job-1', rows, gate, (o) => recorded.push(o), true)
  const ends: Array<() => void> = []
  const called: string[] = []
  const signal = new AbortController().signal
  const running = gate.runEach(rows, async (row) => {
    if (!turns.take(row.id)) return
    called.push(row.id)
    await new Promise<void>((resolve) => ends.push(resolve))
  }, { signal })
  expect(called).toEqual(['a'])
  expect(gate.load()).toEqual({ inFlight: 1, waiting: 4 })
  // A row whose turn came cannot be let go of; two of the four waiting are handed over, the last first.
  expect(turns.letGo('a', { kind: 'skipped', jobId: 'job-1', row: rows[0]!, attempt: 1, startedAt: null })).toBe(false)
  expect(turns.handOver(2)).toBe(2)
  expect(recorded.map((o) => [o.kind, o.row.id])).toEqual([['cancelled', 'e'], ['cancelled', 'd']])
  expect(gate.load()).toEqual({ inFlight: 1, waiting: 2 })
  // Let go of already: not recorded again, by a re-check or another hand-over.
  expect(turns.letGo('e', { kind: 'skipped', jobId: 'job-1', row: rows[4]!, attempt: 1, startedAt: null })).toBe(false)
  for (let i = 0; i < 3; i++) {
    ends.shift()!()
    await new Promise((resolve) => setImmediate(resolve))
  }
  await running
  turns.end()
  expect(called).toEqual(['a', 'b', 'c'])
  expect(recorded).toHaveLength(2)
  expect(gate.load()).toEqual({ inFlight: 0, waiting: 0 })
})

test('rows let go of whose turn never came are no longer set aside once the page ends', async () => {
  const gate = createCallGate(1, null, captureLogger())
  const turns = pageTurns('job-2', rows, gate, () => {}, true)
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  const running = gate.runEach(rows, async (row) => {
    if (turns.take(row.id)) await released
  }, { signal: new AbortController().signal })
  expect(turns.handOver(3)).toBe(3)
  expect(gate.load()).toEqual({ inFlight: 1, waiting: 1 })
  turns.end()
  // Ended early (its job failed, say): nothing is let go of after it.
  expect(turns.handOver(1)).toBe(0)
  release()
  await running
  expect(gate.load()).toEqual({ inFlight: 0, waiting: 0 })
})
