/**
 * The call gate's count of calls waiting for a slot, which decides when an instance fetches
 * more work (process-jobs.ts): calls count from when they are ready until they start, across
 * every page handed to the gate, and a page whose calls never start stops counting when it ends.
 */
import { describe, expect, test } from 'vitest'
import { createCallGate } from '../../src/process/call-gate.js'
import { captureLogger } from '../../src/testing.js'

/** A call that ends when told to. */
function controlled() {
  const ends: Array<() => void> = []
  const started: number[] = []
  const call = (item: number) =>
    new Promise<void>((resolve) => {
      started.push(item)
      ends.push(resolve)
    })
  const endOne = async () => {
    ends.shift()?.()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { call, started, endOne }
}

const settled = async (promise: Promise<unknown>) => {
  let done = false
  void promise.then(() => (done = true))
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe('whenWaitingBelow', () => {
  test('resolves once fewer calls than the limit wait for a slot, counting every page', async () => {
    const gate = createCallGate(2, null, captureLogger())
    const { call, started, endOne } = controlled()
    const signal = new AbortController().signal
    const first = gate.runEach([1, 2, 3, 4], call, { signal })
    const second = gate.runEach([5, 6], call, { signal })
    // Two in flight, four waiting.
    expect(started).toEqual([1, 2])
    const belowTwo = gate.whenWaitingBelow(2, signal)
    expect(await settled(belowTwo)).toBe(false)
    await endOne()
    await endOne()
    expect(await settled(belowTwo)).toBe(false)
    await endOne()
    // Five started, one waiting.
    expect(started).toHaveLength(5)
    expect(await settled(belowTwo)).toBe(true)
    for (let i = 0; i < 3; i++) await endOne()
    await Promise.all([first, second])
    expect(await settled(gate.whenWaitingBelow(1, signal))).toBe(true)
  })

  test('an aborted signal ends the wait', async () => {
    const gate = createCallGate(1, null, captureLogger())
    const { call } = controlled()
    void gate.runEach([1, 2, 3], call, { signal: new AbortController().signal })
    const halt = new AbortController()
    const wait = gate.whenWaitingBelow(1, halt.signal)
    expect(await settled(wait)).toBe(false)
    halt.abort()
    expect(await settled(wait)).toBe(true)
  })

  test('calls of a page that failed before they started stop counting', async () => {
    const gate = createCallGate(1, null, captureLogger())
    const signal = new AbortController().signal
    let fail!: (error: Error) => void
    const page = gate.runEach([1, 2, 3], (item) => (item === 1 ? new Promise<void>((_, reject) => (fail = reject)) : Promise.resolve()), { signal })
    expect(await settled(gate.whenWaitingBelow(1, signal))).toBe(false)
    fail(new Error('boom'))
    await expect(page).rejects.toThrow('boom')
    await new Promise((resolve) => setImmediate(resolve))
    expect(await settled(gate.whenWaitingBelow(1, signal))).toBe(true)
  })
})
