/** How a sweep job from pg-boss's cron is labelled: on time ('cron') or the catch-up of a missed occurrence. */
import { expect, test } from 'vitest'
import { cronTrigger } from '../../src/runtime/workers.js'

const daily = { cron: '0 9 * * *', timezone: 'Europe/Berlin' }

test.each([
  ['created just after its occurrence', daily, '2026-03-02T08:00:20Z', 'cron'],
  // pg-boss files an occurrence by its slot: the job can be created a moment before it.
  ['created a moment before its occurrence', daily, '2026-03-02T07:59:58Z', 'cron'],
  ['created every two minutes, just before the next', { cron: '*/2 * * * *', timezone: 'UTC' }, '2026-12-01T06:15:59.500Z', 'cron'],
  ['created minutes after an occurrence, far from the next', daily, '2026-03-02T08:05:00Z', 'catch-up'],
  ['created after downtime, hours after the occurrence', daily, '2026-03-02T14:00:00Z', 'catch-up'],
] as const)('%s: %s', (_, options, createdOn, expected) => {
  expect(cronTrigger(options, new Date(createdOn))).toBe(expected)
})
