/**
 * A worker outage must not flood the host's logs: at most 20 lines of failed attempts a minute,
 * a line saying the rest are counted, and their count when the next minute begins.
 */
import { expect, test } from 'vitest'
import { ATTEMPT_LINES_PER_MINUTE, createAttemptLog } from '../../src/observe/attempt-log.js'
import { captureLogger } from '../../src/testing.js'

test('logs the first attempts of a minute, says when it stops, and counts the rest into the next minute', () => {
  const logger = captureLogger()
  let now = Date.parse('2030-01-01T00:00:00Z')
  const log = createAttemptLog(logger, () => now)
  for (let i = 1; i <= 500; i++) log.failed(`attempt ${i} failed`)
  const first = logger.messages('warn')
  expect(first).toHaveLength(ATTEMPT_LINES_PER_MINUTE + 1)
  expect(first.slice(0, 2)).toEqual(['attempt 1 failed', 'attempt 2 failed'])
  expect(first.at(-1)).toBe(`${ATTEMPT_LINES_PER_MINUTE} failed attempts logged this minute: until 2030-01-01T00:01:00.000Z further ones are counted, not logged (the failures table keeps each).`)

  now += 60_000
  log.failed('attempt 501 failed')
  expect(logger.messages('warn').slice(first.length)).toEqual([
    `${500 - ATTEMPT_LINES_PER_MINUTE} more failed attempts were not logged one by one in the minute before: listFailures(), the failures table and the pss.subscriptions.failed metric have each.`,
    'attempt 501 failed',
  ])
})

test('a few failures a minute are all logged, with nothing else', () => {
  const logger = captureLogger()
  let now = 0
  const log = createAttemptLog(logger, () => now)
  for (let minute = 0; minute < 3; minute++, now += 61_000) for (let i = 0; i < 5; i++) log.failed(`m${minute} #${i}`)
  expect(logger.messages('warn')).toHaveLength(15)
  expect(logger.messages('warn').every((m) => /^m\d #\d$/.test(m))).toBe(true)
})
