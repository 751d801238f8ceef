/**
 * What stop() says last, after a stop that gave up on outcomes it could not record (the database
 * out of reach): not that each outcome was recorded, which a trial read right after the warning
 * that 64 subscriptions' outcomes were not.
 */
import { expect, test } from 'vitest'
import { stoppedLine } from '../../src/runtime/stop-report.js'

test('the last line says each outcome was recorded only when none was given up', () => {
  expect(stoppedLine(2_300, 16, 0, 20_000)).toBe('Stopped in 2.3 s: 16 calls in flight ended, each outcome recorded.')
  expect(stoppedLine(10_100, 16, 0, 5_000, 0, true)).toBe(
    'Stopped in 10.1 s: 16 calls in flight ended, not every outcome recorded (the warning above says what goes back to the queue).',
  )
  expect(stoppedLine(10_100, 16, 4, 5_000, 0, true)).toBe(
    'Stopped in 10.1 s: 12 calls in flight ended, not every outcome recorded (the warning above says what goes back to the queue); 4 calls cut short at timeoutMs (5000 ms) went back to the queue.',
  )
})
