/** The test helpers hosts use in their own suites: they must fail loudly, and keep what they are told. */
import { describe, expect, test } from 'vitest'
import type { ProcessRequest } from '../../src/index.js'
import { captureLogger, createFakeWorkerClient, createManualClock } from '../../src/testing.js'

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
  logger.error(new Error('bad'))
  logger.debug('100% plain')
  expect(logger.messages('info')).toEqual(['hello world'])
  expect(logger.messages('warn')).toEqual(['w1 { a: 1 }'])
  expect(logger.messages('error')[0]).toMatch(/^Error: bad\n/)
  expect(logger.messages('debug')).toEqual(['100% plain'])
  // A typo would match nothing, and an assertion of no warnings would pass.
  expect(() => logger.messages('warning' as never)).toThrow(/level must be one of debug, info, warn, error, got warning/)
})

describe('the fake worker client', () => {
  const request = (subscriptionId: string, slot = '2027-03-01T09:00:00.000Z'): ProcessRequest => ({
    subscriptionId,
    userId: '00000000-0000-4000-8000-0000000000aa',
    processingId: '00000000-0000-4000-8000-0000000000bb',
    scheduledFor: slot,
    idempotencyKey: `${subscriptionId}:${slot}`,
    attempt: 1,
  })
  const live = () => ({ signal: new AbortController().signal })

  test("any answer JSON can hold is a result, as a real worker's body is: a string, a number, null, an array", async () => {
    const worker = createFakeWorkerClient()
    for (const result of ['done', 42, null, [1, 2], { ok: false }]) {
      worker.on('a', { result })
      await expect(worker.process(request('a'), live())).resolves.toEqual(result)
    }
    expect(() => worker.on('a', { result: () => 'x' })).toThrow(/result must be a value JSON can hold.*got a function/)
  })

  test('a scripting mistake is refused where it is made, naming the field and the fix', () => {
    const worker = createFakeWorkerClient()
    expect(() => worker.on('a', { failTimes: 2 })).toThrow(/on: failTimes counts failures: give `fail` \(what to throw\) or `hang: true` with it/)
    expect(() => worker.on('a', { fail: new Error('x'), failTimes: -1 })).toThrow(/failTimes must be a whole number of failures \(0 or more\), got -1/)
    expect(() => worker.otherwise({ delayMs: -5 })).toThrow(/otherwise: delayMs must be a number of milliseconds, 0 or more, got -5/)
    expect(() => worker.on('a', { failtimes: 1 } as never)).toThrow(/unknown field "failtimes"; a behaviour has fail, failTimes, delayMs, hang, result/)
    expect(() => worker.on(123 as never, {})).toThrow(/expected a subscription id \(a string\) or a predicate/)
    expect(() => worker.on('a', null as never)).toThrow(TypeError)
    expect(() => worker.on('a', [] as never)).toThrow(/expected a behaviour object .*, got an array/)
    expect(() => worker.on('', {})).toThrow(/expected a subscription id/)
    // A call that hangs never gets to throw its `fail`.
    expect(() => worker.on('a', { hang: true, fail: new Error('x') })).toThrow(/give `hang: true` or `fail`, not both/)
  })

  test('a behaviour edited after on() changes nothing: it was checked as given', async () => {
    const behaviour: { fail?: Error; delayMs?: number } = {}
    const worker = createFakeWorkerClient().on('a', behaviour)
    behaviour.fail = new Error('edited')
    await expect(worker.process(request('a'), live())).resolves.toEqual({ ok: true })
  })

  test('waitForCalls refuses a count or timeout it cannot wait for', async () => {
    const worker = createFakeWorkerClient()
    for (const count of [0, -1, 1.5, Number.NaN, '2']) {
      await expect(worker.waitForCalls(count as never, 10), String(count)).rejects.toThrow(/waitForCalls: count must be a whole number of calls, 1 or more/)
    }
    await expect(worker.waitForCalls('2' as never, 10)).rejects.toThrow(/got "2"\.$/)
    for (const timeoutMs of [-5, Number.NaN, 'x', 2 ** 31]) {
      await expect(worker.waitForCalls(1, timeoutMs as never), String(timeoutMs)).rejects.toThrow(/waitForCalls: timeoutMs must be a number of milliseconds/)
    }
    await worker.process(request('a'), live())
    await expect(worker.waitForCalls(1, 10)).resolves.toHaveLength(1)
  })

  test('fail as a function is typed by the request, and its result is thrown', async () => {
    const worker = createFakeWorkerClient().on((r) => r.subscriptionId === 'b', { fail: (r) => new Error(`no ${r.subscriptionId}`) })
    await expect(worker.process(request('b'), live())).rejects.toThrow('no b')
    await expect(worker.process(request('c'), live())).resolves.toEqual({ ok: true })
  })

  test('hang with failTimes hangs that many times per slot, then answers', async () => {
    const worker = createFakeWorkerClient().on('a', { hang: true, failTimes: 1 })
    const first = new AbortController()
    const hung = worker.process(request('a'), { signal: first.signal })
    first.abort(new Error('timed out'))
    await expect(hung).rejects.toThrow('timed out')
    await expect(worker.process(request('a'), live())).resolves.toEqual({ ok: true })
    // Another slot hangs again.
    const other = new AbortController()
    const again = worker.process(request('a', '2027-03-02T09:00:00.000Z'), { signal: other.signal })
    other.abort(new Error('timed out again'))
    await expect(again).rejects.toThrow('timed out again')
  })

  test('a call whose signal has already aborted is rejected, as a real client would, and still recorded', async () => {
    const worker = createFakeWorkerClient()
    const aborted = new AbortController()
    aborted.abort(new Error('stopping'))
    await expect(worker.process(request('a'), { signal: aborted.signal })).rejects.toThrow('stopping')
    expect(worker.callsFor('a')).toHaveLength(1)
  })
})
