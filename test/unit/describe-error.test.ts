/**
 * What the `error` column and the logs say of a failed call, for whatever a worker client
 * throws: a custom client may throw anything.
 */
import { expect, test } from 'vitest'
import { PermanentError, RetryableError } from '../../src/errors.js'
import { describeError } from '../../src/observe/describe-error.js'

test.each([
  { thrown: new Error('socket hang up'), says: 'socket hang up' },
  { thrown: new TypeError('x is not a function'), says: 'TypeError: x is not a function' },
  { thrown: 'a plain string', says: 'a plain string' },
  { thrown: { code: 42, msg: 'an object' }, says: '{"code":42,"msg":"an object"}' },
  { thrown: 42n, says: '42n' },
  { thrown: undefined, says: 'undefined' },
  { thrown: new Error('outer', { cause: new Error('inner', { cause: { errno: -111 } }) }), says: 'outer (cause: inner (cause: {"errno":-111}))' },
  // The library's own errors already say why: their causes are not repeated.
  { thrown: new RetryableError('Worker timed out after 100 ms.', { cause: new Error('TimeoutError') }), says: 'RetryableError: Worker timed out after 100 ms.' },
  { thrown: new PermanentError('gone'), says: 'PermanentError: gone' },
])('$says', ({ thrown, says }) => {
  expect(describeError(thrown)).toBe(says)
})

test('a cycle of causes ends, and a long text is cut and says so', () => {
  const looped = new Error('a')
  ;(looped as { cause?: unknown }).cause = looped
  expect(describeError(looped)).toBe('a (cause: a (cause: a (cause: a)))')
  expect(describeError(new Error('x'.repeat(10_000)))).toMatch(/^x+… \(truncated\)$/)
})

test("a worker's error that quotes hostile text stays one line: a line feed cannot forge a log line, nor an escape sequence reach the terminal", () => {
  const forged = new PermanentError('card declined for "x\n[info] Run 42 finished: all 20 successful.\n\u001b[2J\u001b[31mRED\u0007 \u202eevil"')
  const said = describeError(forged)
  expect(said).toBe(
    'PermanentError: card declined for "x\\n[info] Run 42 finished: all 20 successful.\\n\\u001b[2J\\u001b[31mRED\\u0007 \\u202eevil"',
  )
  expect(said).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/)
})
