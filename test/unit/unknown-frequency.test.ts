/**
 * What writing the schedule of a subscription whose frequency names no cadence says: that its
 * slots are daily ones, and what happens at them under each `unknownFrequency`.
 */
import { expect, test } from 'vitest'
import { BUILT_IN_FREQUENCIES } from '../../src/schedule/frequency-rules.js'
import { unknownCadenceWarning } from '../../src/schedule/unknown-frequency.js'

const frequencies = { ...BUILT_IN_FREQUENCIES }
const slot = new Date('2027-01-30T10:00:00Z')

test('a cadence, built in or of the host, says nothing', () => {
  expect(unknownCadenceWarning({ unknownFrequency: 'fail', frequencies }, { subscription_id: 'a', frequency: 'monthly', next_run_at: slot })).toBeNull()
})

test("under 'fail' its slots fail and nobody is called; a row with no slot yet is told its slots are daily", () => {
  expect(unknownCadenceWarning({ unknownFrequency: 'fail', frequencies }, { subscription_id: 'a', frequency: 'Monthly', next_run_at: slot })).toMatch(
    /^Subscription a has frequency "Monthly", which is no cadence: with unknownFrequency 'fail' the worker is not called for it: each of its slots \(daily placeholders until the frequency names a cadence\) fails as a data error\. Set subscriptions\.frequency to one of 'daily', /,
  )
  expect(unknownCadenceWarning({ unknownFrequency: 'daily', frequencies }, { subscription_id: 'b', frequency: null, next_run_at: null })).toMatch(
    /^Subscription b has no frequency: its slots are computed daily, and it runs daily \(unknownFrequency 'daily'\)\. /,
  )
})
