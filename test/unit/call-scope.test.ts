/**
 * The worker calls of one job: each ends when the worker answers, when it times out, when the
 * job expires or when the scheduler stops, even with a client that ignores its signal; and the
 * scheduler's and the job's signals hold one listener per job, however many calls are in flight.
 */
import { getEventListeners } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RetryableError } from '../../src/errors.js'
import { openCallScope } from '../../src/process/call-worker.js'
import type { ProcessorContext } from '../../src/process/context.js'
import type { PageRow } from '../../src/settle/outcome.js'
import type { ProcessRequest, WorkerClient, ProcessContext } from '../../src/worker-client/types.js'

const TIMEOUT_MS = 1000

/** A worker client that answers when the test says so, and never looks at its signal. */
function heldClient() {
  const calls: { request: ProcessRequest; context: ProcessContext; answer: (value: unknown) => void }[] = []
  const client: WorkerClient = {
    process: (request, context) => new Promise((resolve) => calls.push({ request, context, answer: resolve })),
  }
  return { calls, client }
}

function setUp(client: WorkerClient) {
  const stop = new AbortController()
  const expiry = new AbortController()
  const ctx = { options: { workerTimeoutMs: TIMEOUT_MS }, cancelSignal: stop.signal, workerClient: client } as unknown as ProcessorContext
  return { stop, expiry, scope: openCallScope(ctx, expiry.signal) }
}

const row = (n: number) =>
  ({ id: `row-${n}`, subscription_id: `sub-${n}`, scheduled_for: new Date(Date.UTC(2027, 0, 1, 9)) }) as unknown as PageRow

/** Resolves with what the promise rejected with, or fails the test if it resolved. */
const rejection = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected a rejection'), (error: unknown) => error as Error)

describe('call scope', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('sends the worker contract and resolves with its answer', async () => {
    const { calls, client } = heldClient()
    const { scope } = setUp(client)
    const answer = scope.call(row(1), 'user-1', 2)
    expect(calls[0]!.request).toEqual({
      subscriptionId: 'sub-1',
      userId: 'user-1',
      processingId: 'row-1',
      scheduledFor: '2027-01-01T09:00:00.000Z',
      attempt: 2,
      idempotencyKey: 'sub-1:2027-01-01T09:00:00.000Z',
    })
    calls[0]!.answer({ ok: true })
    await expect(answer).resolves.toEqual({ ok: true })
  })

  it('ends a call that outlives workerTimeoutMs, though the client ignores its signal, and aborts that signal', async () => {
    const { calls, client } = heldClient()
    const { scope } = setUp(client)
    const ended = rejection(scope.call(row(1), 'user-1', 1))
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS - 1)
    expect(calls[0]!.context.signal.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const error = await ended
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toBe(`Worker call for subscription sub-1 timed out after ${TIMEOUT_MS} ms.`)
    expect(calls[0]!.context.signal.reason).toBe(error)
  })

  it('stop() ends every call in flight at once, and a call asked for afterwards never reaches the worker', async () => {
    const { calls, client } = heldClient()
    const { scope, stop } = setUp(client)
    const ended = [1, 2, 3].map((n) => rejection(scope.call(row(n), `user-${n}`, 1)))
    stop.abort()
    const errors = await Promise.all(ended)
    expect(errors.map((e) => e.message)).toEqual([1, 2, 3].map((n) => `Worker call for subscription sub-${n} cancelled because the scheduler is stopping.`))
    expect(calls.every((c) => c.context.signal.aborted)).toBe(true)
    const late = await rejection(scope.call(row(4), 'user-4', 1))
    expect(late.message).toContain('cancelled because the scheduler is stopping')
    expect(calls).toHaveLength(3)
  })

  it("the job's expiry ends its calls in flight, and says so", async () => {
    const { client } = heldClient()
    const { scope, expiry } = setUp(client)
    const ended = rejection(scope.call(row(1), 'user-1', 1))
    expiry.abort()
    expect((await ended).message).toBe('Worker call for subscription sub-1 cancelled because its job expired.')
  })

  it("a client that throws at once rejects with what it threw, and the call's timer is gone", async () => {
    const thrown = new Error('bad client')
    const { scope } = setUp({ process: () => { throw thrown } })
    expect(await rejection(scope.call(row(1), 'user-1', 1))).toBe(thrown)
    expect(vi.getTimerCount()).toBe(0)
  })

  it("holds one listener on the scheduler's and on the job's signal however many calls are in flight, none once closed", async () => {
    const { calls, client } = heldClient()
    const { scope, stop, expiry } = setUp(client)
    const answers = Array.from({ length: 50 }, (_, n) => scope.call(row(n), `user-${n}`, 1))
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1)
    expect(getEventListeners(expiry.signal, 'abort')).toHaveLength(1)
    for (const call of calls) call.answer(null)
    await Promise.all(answers)
    expect(vi.getTimerCount()).toBe(0)
    scope.close()
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0)
    expect(getEventListeners(expiry.signal, 'abort')).toHaveLength(0)
  })
})
