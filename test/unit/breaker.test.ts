/**
 * The circuit breaker's states, on a clock the test moves: when it opens, how long it holds calls
 * back, the single probe and who waits for it, and what closes it.
 */
import { describe, expect, test } from 'vitest'
import { createBreaker } from '../../src/process/breaker.js'
import type { Admission, Admitted, Breaker } from '../../src/process/breaker.js'
import { createEventBus } from '../../src/observe/events.js'
import type { SchedulerEvents } from '../../src/observe/events.js'
import { captureLogger } from '../../src/testing.js'

const FAILED = { kind: 'failed', error: '503 Service Unavailable' } as const
const ANSWERED = { kind: 'answered' } as const
const NEUTRAL = { kind: 'neutral' } as const

function setup(settings = { failureThreshold: 3, cooldownSeconds: 10, maxCooldownSeconds: 25 }) {
  let nowMs = 1_000_000
  const logger = captureLogger()
  const events = createEventBus(logger)
  const opened: SchedulerEvents['breaker:opened'][] = []
  const closed: SchedulerEvents['breaker:closed'][] = []
  events.on('breaker:opened', (e) => void opened.push(e))
  events.on('breaker:closed', (e) => void closed.push(e))
  let counted = 0
  const telemetry = { breakerOpened: () => void (counted += 1) }
  const breaker = createBreaker(settings, { logger, events, telemetry }, () => nowMs)
  return { breaker, opened, closed, logger, advance: (ms: number) => void (nowMs += ms), now: () => nowMs, counted: () => counted }
}

/** Admits a call, failing the test if it is held back. */
async function admitted(breaker: Breaker): Promise<Admitted> {
  const admission = await breaker.admit()
  if (!admission.call) throw new Error(`Expected the call to go, but it was held for ${admission.holdMs} ms.`)
  return admission
}

async function failTimes(breaker: Breaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) breaker.record(FAILED, await admitted(breaker))
}

describe('circuit breaker', () => {
  test('opens after failureThreshold failures in a row, and an answer in between starts the count again', async () => {
    const { breaker, opened } = setup()
    await failTimes(breaker, 2)
    breaker.record(ANSWERED, await admitted(breaker))
    await failTimes(breaker, 2)
    breaker.record(NEUTRAL, await admitted(breaker))
    expect(opened).toEqual([])
    await failTimes(breaker, 1)
    expect(opened).toHaveLength(1)
    expect(opened[0]).toMatchObject({ probe: false, error: '503 Service Unavailable' })
    expect(await breaker.admit()).toEqual({ call: false, holdMs: 10_000 })
  })

  test('holds calls for the cooldown, then lets one probe through while the others wait for its verdict', async () => {
    const { breaker, advance, closed } = setup()
    await failTimes(breaker, 3)
    advance(4_000)
    expect(await breaker.admit()).toEqual({ call: false, holdMs: 6_000 })
    advance(6_000)
    const probe = await admitted(breaker)
    expect(probe.probe).toBe(true)
    let waited: Admission | undefined
    const waiting = breaker.admit().then((a) => (waited = a))
    await Promise.resolve()
    expect(waited).toBeUndefined()
    advance(500)
    expect(breaker.record(ANSWERED, probe)).toBeNull()
    await waiting
    expect(waited).toMatchObject({ call: true, probe: false })
    expect(closed).toEqual([{ openForMs: 10_500 }])
  })

  test("a failed probe holds calls back twice as long, up to maxCooldownSeconds: its own row and the waiters' too", async () => {
    const { breaker, advance, opened, counted } = setup()
    await failTimes(breaker, 3)
    const holds: number[] = []
    for (let round = 0; round < 3; round++) {
      const { holdMs } = (await breaker.admit()) as { holdMs: number }
      holds.push(holdMs)
      advance(holdMs)
      const probe = await admitted(breaker)
      expect(probe.probe).toBe(true)
      const waiting = breaker.admit()
      const next = Math.min(25_000, holdMs * 2)
      // The probe's row waits for the next probe: its attempt is not used up.
      expect(breaker.record(FAILED, probe)).toBe(next)
      expect(await waiting).toEqual({ call: false, holdMs: next })
    }
    expect(holds).toEqual([10_000, 20_000, 25_000])
    expect(opened.map((e) => e.probe)).toEqual([false, true, true, true])
    expect(counted()).toBe(4)
  })

  test('calls that were in flight when it opened change nothing, answered or not: only the probe decides', async () => {
    const { breaker, advance, closed } = setup()
    const inFlight = await Promise.all([admitted(breaker), admitted(breaker), admitted(breaker)])
    await failTimes(breaker, 3)
    // A 4xx and a failure of calls made before it opened (a flapping breaker, seen in a trial).
    expect(breaker.record(ANSWERED, inFlight[0]!)).toBeNull()
    expect(breaker.record(FAILED, inFlight[1]!)).toBeNull()
    expect(closed).toEqual([])
    expect(await breaker.admit()).toEqual({ call: false, holdMs: 10_000 })
    advance(10_000)
    const probe = await admitted(breaker)
    breaker.record(ANSWERED, probe)
    expect(closed).toHaveLength(1)
    // Closed again, a failure of a call admitted before the opening does not count towards the next.
    breaker.record(FAILED, inFlight[2]!)
    await failTimes(breaker, 2)
    expect(await breaker.admit()).toMatchObject({ call: true })
  })

  test('a probe cut short says nothing: the next call is the probe, at once', async () => {
    const { breaker, advance, opened } = setup()
    await failTimes(breaker, 3)
    advance(10_000)
    const probe = await admitted(breaker)
    const waiting = breaker.admit()
    expect(breaker.record(NEUTRAL, probe)).toBeNull()
    expect(await waiting).toMatchObject({ call: true, probe: true })
    expect(opened).toHaveLength(1)
  })

  test("holds calls for the worker's Retry-After when it asks for longer than the cooldown, up to maxCooldownSeconds", async () => {
    const { breaker, advance, opened, logger } = setup()
    const limited = (retryAfterMs: number) => ({ kind: 'failed', error: '429 Too Many Requests', retryAfterMs }) as const
    await failTimes(breaker, 2)
    breaker.record(limited(18_000), await admitted(breaker))
    expect(await breaker.admit()).toEqual({ call: false, holdMs: 18_000 })
    expect(opened[0]!.until.getTime()).toBe(1_000_000 + 18_000)
    expect(logger.messages('warn')[0]).toContain('makes no worker call for 18 s (the worker\'s Retry-After)')
    advance(18_000)
    // A failed probe: twice the cooldown (20 s) against its Retry-After, capped at the longest hold (25 s).
    const probe = await admitted(breaker)
    expect(breaker.record(limited(60_000), probe)).toBe(25_000)
    advance(25_000)
    // A Retry-After shorter than the backoff changes nothing: the doubling goes on from the cooldown.
    expect(breaker.record(limited(1_000), await admitted(breaker))).toBe(25_000)
  })

  test('says why it opened and when it closed, once each', async () => {
    const { breaker, advance, logger } = setup()
    await failTimes(breaker, 3)
    advance(10_000)
    breaker.record(ANSWERED, await admitted(breaker))
    expect(logger.messages('warn')).toEqual([
      'Circuit breaker open: 3 worker calls failed in a row (last: 503 Service Unavailable). This instance makes no worker call for 10 s, then tries one; the rows whose turn comes meanwhile (retries already scheduled too, whatever their log line said) wait for it, without using up their retries.',
    ])
    expect(logger.messages('info')).toEqual(['Circuit breaker closed: the worker service answered a probe call (it had been open for 10 s).'])
  })
})
