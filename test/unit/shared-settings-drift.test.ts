import { describe, expect, test } from 'vitest'
import { followPublished, settingsDrift } from '../../src/runtime/shared-settings.js'
import type { SchedulerOptions } from '../../src/index.js'
import { captureLogger } from '../../src/testing.js'
import type { SharedSettings } from '../../src/runtime/shared-settings.js'

// What an instance says differs from the published settings: each setting that does, and only
// those. The published cadences come back from jsonb with their fields in jsonb's order.

const published: SharedSettings = {
  timezone: 'Europe/Berlin',
  runAt: '07:00',
  catchUp: 'latest',
  catchUpWindowDays: null,
  frequencies: { daily: { every: 1, unit: 'day' }, workdays: { every: 1, unit: 'week', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] } },
  retry: { limit: 3, delaySeconds: 30, maxDelaySeconds: 3600, failedSlotDelaySeconds: 300, failedSlotMaxDelaySeconds: 21_600 },
  unknownFrequency: 'daily',
  autoEnroll: true,
  pauseAfterConsecutiveFailures: 0,
}

describe('settingsDrift', () => {
  test('the same rules with their fields in another order are no difference', () => {
    const fromJsonb = {
      ...published,
      frequencies: { daily: { unit: 'day', every: 1 }, workdays: { unit: 'week', every: 1, weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] } },
    } as SharedSettings
    expect(settingsDrift(fromJsonb, published)).toEqual([])
  })

  test('names each setting that differs, and the cadence names whose rules differ or that one side lacks', () => {
    const mine: SharedSettings = {
      timezone: 'Asia/Tokyo',
      runAt: '07:00',
      catchUp: 'all',
      catchUpWindowDays: 30,
      frequencies: { daily: { every: 1, unit: 'day' }, workdays: { every: 1, unit: 'week', weekdays: ['mon', 'tue'] }, fortnightly: { every: 2, unit: 'week' } },
      retry: { limit: 5, delaySeconds: 30, maxDelaySeconds: 3600, failedSlotDelaySeconds: 300, failedSlotMaxDelaySeconds: 21_600 },
      unknownFrequency: 'fail',
      autoEnroll: false,
      pauseAfterConsecutiveFailures: 3,
    }
    expect(settingsDrift(published, mine)).toEqual([
      "timezone 'Europe/Berlin' → 'Asia/Tokyo'",
      "catchUp 'latest' → 'all'",
      'catchUpWindowDays none → 30',
      'frequencies (fortnightly, workdays)',
      'retry.limit 3 → 5',
      "unknownFrequency 'daily' → 'fail'",
      'autoEnroll true → false',
      'pauseAfterConsecutiveFailures never → 3',
    ])
  })

  test('a row published before the retry policy, unknownFrequency, autoEnroll, pauseAfterConsecutiveFailures and catchUpWindowDays were (null, or no column) is no difference in them', () => {
    const older = { ...published, retry: null, unknownFrequency: null, autoEnroll: null, pauseAfterConsecutiveFailures: null, catchUpWindowDays: undefined }
    const mine: SharedSettings = { ...published, retry: { limit: 9, delaySeconds: 1, maxDelaySeconds: 2, failedSlotDelaySeconds: 0, failedSlotMaxDelaySeconds: 0 }, unknownFrequency: 'fail', autoEnroll: false, pauseAfterConsecutiveFailures: 2, catchUpWindowDays: 7 }
    expect(settingsDrift(older, mine)).toEqual([])
  })

  test('the same retry policy from jsonb, its fields in another order, is no difference', () => {
    const fromJsonb = { ...published, retry: { failedSlotMaxDelaySeconds: 21_600, maxDelaySeconds: 3600, limit: 3, failedSlotDelaySeconds: 300, delaySeconds: 30 } }
    expect(settingsDrift(fromJsonb, published)).toEqual([])
  })
})

describe('followPublished', () => {
  test("a process given no catch-up takes the published catchUp 'all' and its window; one told 'latest' takes no window", () => {
    const withWindow: SharedSettings = { ...published, catchUp: 'all', catchUpWindowDays: 14 }
    const cli: SchedulerOptions = {}
    followPublished(cli, withWindow, captureLogger())
    expect(cli).toMatchObject({ catchUp: 'all', catchUpWindowDays: 14 })
    const latest: SchedulerOptions = { catchUp: 'latest' }
    followPublished(latest, withWindow, captureLogger())
    expect(latest.catchUpWindowDays).toBeUndefined()
  })
})
