/**
 * A worker outage, or a cadence name nobody defined, must not flood the host's logs: at most 20
 * lines of a kind a minute, a line saying the rest are counted, and their count when the next
 * minute begins. Each kind has its own allowance.
 */
import { expect, test } from 'vitest'
import { createLimitedLog, FAILED_ATTEMPTS, flushLimitedLogs, limitedLogOf, LINES_PER_MINUTE, UNKNOWN_FREQUENCIES } from '../../src/observe/limited-log.js'
import { captureLogger, createManualClock } from '../../src/testing.js'

test('logs the first lines of a minute, says when it stops, and counts the rest into the next minute', () => {
  const logger = captureLogger()
  let now = Date.parse('2030-01-01T00:00:00Z')
  const log = createLimitedLog(logger, () => now, FAILED_ATTEMPTS)
  for (let i = 1; i <= 500; i++) log.warn(`attempt ${i} failed`)
  const first = logger.messages('warn')
  expect(first).toHaveLength(LINES_PER_MINUTE + 1)
  expect(first.slice(0, 2)).toEqual(['attempt 1 failed', 'attempt 2 failed'])
  expect(first.at(-1)).toBe(
    `${LINES_PER_MINUTE} failed attempts logged this minute: until 2030-01-01T00:01:00.000Z further ones are counted, not logged ` +
      '(each one is in listFailures(), the failures table and the pss.subscriptions.failed metric).',
  )

  now += 60_000
  log.warn('attempt 501 failed')
  expect(logger.messages('warn').slice(first.length)).toEqual([
    `${500 - LINES_PER_MINUTE} more failed attempts not logged one by one in the minute before: each one is in listFailures(), the failures table and the pss.subscriptions.failed metric.`,
    'attempt 501 failed',
  ])
})

test('when the lines stop, the count of those left out is logged as their minute ends', () => {
  const logger = captureLogger()
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = []
  const timer = (fn: () => void, ms: number) => {
    const t = { fn, ms, cancelled: false }
    timers.push(t)
    return { cancel: () => void (t.cancelled = true) }
  }
  let now = 1_000_000
  const log = createLimitedLog(logger, () => now, FAILED_ATTEMPTS, timer)
  for (let i = 0; i < LINES_PER_MINUTE + 5; i++, now += 100) log.warn(`attempt ${i} failed`)
  // One timer, set by the first line left out, for the end of the minute.
  expect(timers).toHaveLength(1)
  expect(timers[0]!.ms).toBe(60_000 - LINES_PER_MINUTE * 100)
  timers[0]!.fn()
  expect(logger.messages('warn').at(-1)).toMatch(/^5 more failed attempts not logged one by one in the minute before/)
  // A new minute starts with the next line, and logs it.
  log.warn('later')
  expect(logger.messages('warn').at(-1)).toBe('later')
})

test('a few lines a minute are all logged, with nothing else', () => {
  const logger = captureLogger()
  let now = 0
  const log = createLimitedLog(logger, () => now, FAILED_ATTEMPTS)
  for (let minute = 0; minute < 3; minute++, now += 61_000) for (let i = 0; i < 5; i++) log.warn(`m${minute} #${i}`)
  expect(logger.messages('warn')).toHaveLength(15)
  expect(logger.messages('warn').every((m) => /^m\d #\d$/.test(m))).toBe(true)
})

test("each scheduler and kind has its own allowance, on the scheduler's clock", () => {
  const logger = captureLogger()
  const scheduler = { logger, clock: createManualClock('2030-01-01T00:00:00Z') }
  for (let i = 0; i < LINES_PER_MINUTE; i++) limitedLogOf(scheduler, FAILED_ATTEMPTS).warn(`failed ${i}`)
  limitedLogOf(scheduler, UNKNOWN_FREQUENCIES).warn('unknown frequency "fortnightly"')
  limitedLogOf({ logger, clock: scheduler.clock }, FAILED_ATTEMPTS).warn('another scheduler failed')
  expect(logger.messages('warn').slice(-2)).toEqual(['unknown frequency "fortnightly"', 'another scheduler failed'])
  limitedLogOf(scheduler, FAILED_ATTEMPTS).warn('not logged')
  scheduler.clock.advance(60_000)
  limitedLogOf(scheduler, FAILED_ATTEMPTS).warn('logged again')
  expect(logger.messages('warn').slice(-2)).toEqual([expect.stringMatching(/^1 more failed attempts not logged/), 'logged again'])
})

test('flushLimitedLogs() says at once how many lines each log to that logger left out, and nothing when none were', () => {
  const logger = captureLogger()
  const other = captureLogger()
  let now = Date.parse('2030-01-01T00:00:00Z')
  const failed = createLimitedLog(logger, () => now, FAILED_ATTEMPTS)
  createLimitedLog(logger, () => now, UNKNOWN_FREQUENCIES).warn('unknown frequency "fortnightly"')
  const elsewhere = createLimitedLog(other, () => now, FAILED_ATTEMPTS)
  for (let i = 0; i < LINES_PER_MINUTE + 3; i++, now += 100) {
    failed.warn(`attempt ${i} failed`)
    elsewhere.warn(`elsewhere ${i} failed`)
  }
  const before = logger.messages('warn').length
  flushLimitedLogs(logger)
  expect(logger.messages('warn').slice(before)).toEqual([
    '3 more failed attempts not logged one by one since 2030-01-01T00:00:00.000Z: each one is in listFailures(), the failures table and the pss.subscriptions.failed metric.',
  ])
  // The other logger's count waits for its minute's end; a second flush has nothing to say.
  expect(other.messages('warn').some((m) => m.includes('more failed attempts'))).toBe(false)
  flushLimitedLogs(logger)
  expect(logger.messages('warn').length).toBe(before + 1)
  // The next line starts a new minute, and is logged.
  failed.warn('after the flush')
  expect(logger.messages('warn').at(-1)).toBe('after the flush')
})
