/** How a sweep job from pg-boss's cron is labelled: on time ('cron') or the catch-up of a missed occurrence. */
import { expect, test } from 'vitest'
import { cronTrigger, sweepTrigger } from '../../src/runtime/workers.js'

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

test('a job is judged by the cron it was sent for: one the old cron sent just before another instance replaced it is on time, not a catch-up', () => {
  const yearly = { cron: '0 0 1 1 *', timezone: 'UTC', clock: { now: () => new Date('2026-12-02T06:31:15Z') } }
  const createdOn = new Date('2026-12-02T06:31:00.200Z')
  expect(sweepTrigger(yearly, { createdOn, data: { cron: '* * * * *', timezone: 'UTC' } })).toBe('cron')
  // Jobs sent before schedules carried it, or with data this version cannot read, are judged by the instance's own cron.
  expect(sweepTrigger(yearly, { createdOn, data: {} })).toBe('catch-up')
  expect(sweepTrigger(yearly, { createdOn, data: { cron: 'not a cron', timezone: 'UTC' } })).toBe('catch-up')
})
