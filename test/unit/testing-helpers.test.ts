/** The test helpers hosts use in their own suites: they must fail loudly, and keep what they are told. */
import { expect, test } from 'vitest'
import { captureLogger, createManualClock } from '../../src/testing.js'

test('the manual clock refuses an instant it cannot read, or a step that is not a number, and stays where it was', () => {
  const clock = createManualClock('2027-03-01T08:00:00Z')
  expect(() => clock.set('not a date')).toThrow(/set: expected a Date or an ISO 8601 string.*"not a date"/)
  expect(() => clock.set(new Date('nope'))).toThrow(TypeError)
  expect(() => clock.advance(Number.NaN)).toThrow(/advance: expected a finite number of milliseconds, got NaN/)
  expect(() => createManualClock('yesterday')).toThrow(TypeError)
  expect(clock.now().toISOString()).toBe('2027-03-01T08:00:00.000Z')
  clock.advance(-60_000)
  expect(clock.now().toISOString()).toBe('2027-03-01T07:59:00.000Z')
})

test('the captured logger keeps every argument, as a console prints them, and an Error as its text', () => {
  const logger = captureLogger()
  logger.info('hello %s', 'world')
  logger.warn('w1', { a: 1 })
  logger.error(new Error('bad') as unknown as string)
  logger.debug('100% plain')
  expect(logger.messages('info')).toEqual(['hello world'])
  expect(logger.messages('warn')).toEqual(['w1 { a: 1 }'])
  expect(logger.messages('error')[0]).toMatch(/^Error: bad\n/)
  expect(logger.messages('debug')).toEqual(['100% plain'])
})
