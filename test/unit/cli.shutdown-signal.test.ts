/**
 * The CLI's shutdown on a signal: the first SIGTERM or SIGINT asks for a clean stop; one more
 * while it stops exits at once; one more once it has stopped, while the process exits, is let
 * by. A documentation audit's supervisor sent its SIGTERM twice to a worker with nothing in
 * flight: the stop took 50 ms, and the second signal killed the process (143, no log line) on
 * its way to exit 0.
 */
import { afterEach, expect, test } from 'vitest'
import { waitForShutdownSignal } from '../../src/cli/args.js'
import { captureLogger } from '../../src/testing.js'

const before = { SIGTERM: process.listeners('SIGTERM'), SIGINT: process.listeners('SIGINT') }

afterEach(() => {
  for (const name of ['SIGTERM', 'SIGINT'] as const) {
    for (const listener of process.listeners(name)) if (!before[name].includes(listener)) process.off(name, listener)
  }
})

test('after the stop a signal asked for, another one is let by instead of killing the process with the default handler', async () => {
  const shutdown = waitForShutdownSignal(captureLogger())
  process.emit('SIGTERM', 'SIGTERM')
  await expect(shutdown.signal).resolves.toBe('SIGTERM')
  shutdown.dispose()
  // With no listener left, Node's default handler would end the process at the next SIGTERM.
  expect(process.listenerCount('SIGTERM')).toBe(before.SIGTERM.length + 1)
  expect(process.listenerCount('SIGINT')).toBe(before.SIGINT.length + 1)
  expect(() => process.emit('SIGTERM', 'SIGTERM')).not.toThrow()
})

test('disposed with no signal received (a run that settled), it leaves the signals to their defaults', () => {
  const shutdown = waitForShutdownSignal(captureLogger())
  shutdown.dispose()
  expect(process.listenerCount('SIGTERM')).toBe(before.SIGTERM.length)
  expect(process.listenerCount('SIGINT')).toBe(before.SIGINT.length)
})
