/**
 * computeNextRunAt() and upcomingRuns() as the package exports them: what a caller passes is an
 * argument, so a bad one is a ConfigurationError naming it, as every option of the library is
 * (the engine's own calls, on rows, report a row's bad data as a SubscriptionDataError).
 */
import { describe, expect, test } from 'vitest'
import { computeNextRunAt, ConfigurationError, upcomingRuns } from '../../src/index.js'

const base = { frequency: 'daily', timezone: 'Europe/Berlin', runAt: '09:00', after: new Date('2027-03-01T08:00:00Z') }

/** The error `call` throws. */
function thrown(call: () => unknown): unknown {
  try {
    call()
  } catch (error) {
    return error
  }
  throw new Error('expected it to throw')
}

describe.each([
  ['computeNextRunAt', (input: object) => computeNextRunAt(input as never)],
  ['upcomingRuns', (input: object) => upcomingRuns({ count: 3, ...input } as never)],
])('%s', (fn, call) => {
  test('a zone that is no IANA name, or missing, is a ConfigurationError naming timezone', () => {
    for (const timezone of ['Europe/Berln', '', undefined, 42]) {
      const error = thrown(() => call({ ...base, timezone }))
      expect(error).toBeInstanceOf(ConfigurationError)
      expect(error).toMatchObject({ option: 'timezone' })
      expect((error as Error).message).toMatch(/expected an IANA zone name such as 'Europe\/Berlin' or 'UTC', got /)
    }
  })

  test('an after or anchor that is no valid Date is a ConfigurationError naming it; a string is told how to pass it', () => {
    for (const name of ['after', 'anchor']) {
      for (const value of ['2027-03-01', new Date('nope'), 1772352000000, null]) {
        const error = thrown(() => call({ ...base, [name]: value }))
        expect({ name, value, error }).toMatchObject({ name, value, error: { option: name } })
        expect(error).toBeInstanceOf(ConfigurationError)
      }
    }
    expect((thrown(() => call({ ...base, after: '2027-03-01' })) as Error).message).toContain(`(a string: pass new Date("2027-03-01"))`)
  })

  test('a field it does not take (a typo) is a ConfigurationError naming it and the nearest one', () => {
    const error = thrown(() => call({ ...base, timeZone: 'America/New_York' }))
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error).toMatchObject({ option: 'timeZone' })
    expect((error as Error).message).toMatch(new RegExp(`unknown option of ${fn}\\(\\); did you mean \`timezone\`\\?`))
  })

  test('no object at all is a ConfigurationError saying what it takes', () => {
    expect(thrown(() => (fn === 'computeNextRunAt' ? computeNextRunAt : upcomingRuns)('daily' as never))).toMatchObject({ option: 'input' })
  })

  test('valid input answers as before', () => {
    const [first] = [call(base)].flat() as Date[]
    // `after` is 09:00 CET that day, and slots are strictly after it: the next day's 09:00.
    expect(first).toEqual(new Date('2027-03-02T08:00:00Z'))
  })
})

test('upcomingRuns: an endsAt before startsAt is a ConfigurationError naming endsAt, not an empty list', () => {
  const error = thrown(() => upcomingRuns({ ...base, count: 3, startsAt: new Date('2027-03-10T00:00:00Z'), endsAt: new Date('2027-03-05T00:00:00Z') }))
  expect(error).toBeInstanceOf(ConfigurationError)
  expect(error).toMatchObject({ option: 'endsAt' })
  expect((error as Error).message).toMatch(/^Invalid option `endsAt`: 2027-03-05T00:00:00\.000Z is before startsAt 2027-03-10T00:00:00\.000Z/)
})
