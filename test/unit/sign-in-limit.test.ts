/** The sign-in form's limit: ten refused tokens a minute, then 429 until that minute is over. */
import { expect, test } from 'vitest'
import { createHeaderRefusals, createSignInLimit, MAX_REFUSALS, WINDOW_MS } from '../../src/admin/sign-in-limit.js'
import { captureLogger } from '../../src/testing.js'

test('blocks after the tenth refusal until its minute is over, then judges again from zero', () => {
  let now = 1_000_000
  const logger = captureLogger()
  const limit = createSignInLimit(logger, () => now)
  for (let i = 0; i < MAX_REFUSALS - 1; i++) limit.refused()
  expect(limit.blockedForMs()).toBeNull()
  limit.refused()
  now += 15_000
  expect(limit.blockedForMs()).toBe(WINDOW_MS - 15_000)
  now += WINDOW_MS - 15_000
  expect(limit.blockedForMs()).toBeNull()
  limit.refused()
  expect(logger.messages('warn').at(-1)).toBe('Admin sign-in refused: the token was not accepted (1 this minute).')
})

test('refused bearer headers are said at the 1st, 10th and 100th of a minute, and from 1 again the next minute', () => {
  let now = 1_000_000
  const logger = captureLogger()
  const refusals = createHeaderRefusals(logger, () => now)
  for (let i = 0; i < 150; i++) refusals.refused()
  expect(logger.messages('warn')).toEqual([
    'Admin API refused a request: its Authorization header was not accepted (a client with an old token, or someone guessing).',
    'Admin API refused 10 requests this minute whose Authorization header was not accepted: a client with an old token, or someone guessing.',
    'Admin API refused 100 requests this minute whose Authorization header was not accepted: a client with an old token, or someone guessing.',
  ])
  now += WINDOW_MS
  refusals.refused()
  expect(logger.messages('warn')).toHaveLength(4)
  expect(logger.messages('warn').at(-1)).toMatch(/^Admin API refused a request: /)
})
