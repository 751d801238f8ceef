/**
 * A test that fakes the timers (vi.useFakeTimers()) hangs at its first runNow(), with nothing
 * said (a trial's integration suite died at its timeout): start() now says why, and what to use.
 */
import { afterEach, expect, test, vi } from 'vitest'
import { fakedTimersWarning } from '../../src/observe/clock.js'

afterEach(() => {
  vi.useRealTimers()
})

test("faked timers are named, with the scheduler's own clock as the way out; real ones, or only Date faked, are not", () => {
  expect(fakedTimersWarning()).toBeNull()
  vi.useFakeTimers()
  expect(fakedTimersWarning()).toMatch(/^This process's setTimeout is a test runner's fake \(vi\.useFakeTimers\(\)\).*createManualClock\(\).*toFake: \['Date'\]/)
  // Faking only Date is no way to move the scheduler's time: it goes by the database's clock.
  expect(fakedTimersWarning()).toMatch(/Faking only Date .* does not move the scheduler's time either: it goes by the database server's clock\.$/)
  vi.useRealTimers()
  vi.useFakeTimers({ toFake: ['Date'] })
  expect(fakedTimersWarning()).toBeNull()
})
