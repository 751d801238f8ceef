/**
 * A worker client for tests: records every call and can be scripted, per subscription or by
 * predicate, to fail, to fail a few times then succeed, to answer after a delay, or to hang
 * until its signal aborts.
 */
import { shown } from '../error-text.js'
import { isWaitMs } from '../errors.js'
import type { ProcessContext, ProcessRequest, ProcessResult, WorkerClient } from '../worker-client/types.js'

export interface FakeBehaviour {
  /**
   * Throw this (an error such as `new RetryableError('busy')`, or what the function returns for
   * the call) instead of answering. Any value, as a custom client may throw anything: a string
   * or `null` thrown tests that the scheduler records it all the same.
   */
  fail?: ((request: ProcessRequest) => unknown) | Error | object | string | number | boolean | null | undefined
  /**
   * Only fail (or hang) this many times per subscription and slot, then answer: a whole number,
   * with `fail` or `hang`. @default Infinity
   */
  failTimes?: number | undefined
  /** Answer (or fail) after this many milliseconds, unless the call's signal aborts first. */
  delayMs?: number | undefined
  /** Never answer; reject only when the call's signal aborts (with `failTimes`, only that many times). */
  hang?: boolean | undefined
  /** What to answer. @default { ok: true } */
  result?: ProcessResult | undefined
}

export type FakeMatcher = string | ((request: ProcessRequest) => boolean)

export interface FakeWorkerClient extends WorkerClient {
  /** Every call, in the order they started, including failed ones. */
  readonly calls: ProcessRequest[]
  /** Scripts the calls that match: a subscription id, or a predicate. Later rules win. */
  on(match: FakeMatcher, behaviour: FakeBehaviour): FakeWorkerClient
  /** Scripts every call that no `on()` rule matches. */
  otherwise(behaviour: FakeBehaviour): FakeWorkerClient
  /** The calls made for one subscription. */
  callsFor(subscriptionId: string): ProcessRequest[]
  /**
   * Resolves once `count` calls have started since the fake was made or last `reset()`: all of
   * them, not only new ones (for two more, `waitForCalls(worker.calls.length + 2)`). Rejects after
   * `timeoutMs` (default 30 s).
   */
  waitForCalls(count: number, timeoutMs?: number): Promise<ProcessRequest[]>
  /** Forgets the calls and the rules. */
  reset(): void
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('The call was aborted.')
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal))
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError(signal))
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

const BEHAVIOUR_KEYS = new Set(['fail', 'failTimes', 'delayMs', 'hang', 'result'])

/** A scripting mistake fails where it is made, not as a test that passes for the wrong reason. */
function checkBehaviour(where: string, behaviour: FakeBehaviour): FakeBehaviour {
  const bad = (what: string) => new TypeError(`createFakeWorkerClient().${where}: ${what}`)
  if (typeof behaviour !== 'object' || behaviour === null || Array.isArray(behaviour)) throw bad(`expected a behaviour object such as { fail: new RetryableError('busy'), failTimes: 1 }, got ${Array.isArray(behaviour) ? 'an array' : String(behaviour)}.`)
  const unknown = Object.keys(behaviour).filter((key) => !BEHAVIOUR_KEYS.has(key))
  if (unknown.length > 0) throw bad(`unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}; a behaviour has ${[...BEHAVIOUR_KEYS].join(', ')}.`)
  const { failTimes, delayMs, hang } = behaviour
  if (failTimes !== undefined) {
    if (!(failTimes === Number.POSITIVE_INFINITY || (Number.isInteger(failTimes) && failTimes >= 0))) throw bad(`failTimes must be a whole number of failures (0 or more), got ${String(failTimes)}.`)
    if (behaviour.fail === undefined && !hang) throw bad('failTimes counts failures: give `fail` (what to throw) or `hang: true` with it.')
  }
  if (delayMs !== undefined && !isWaitMs(delayMs)) throw bad(`delayMs must be a number of milliseconds, 0 or more, got ${String(delayMs)}.`)
  if (hang !== undefined && typeof hang !== 'boolean') throw bad(`hang must be true or false, got ${String(hang)}.`)
  // A hung call ends only by its abort: a `fail` beside it would never be thrown.
  if (hang && behaviour.fail !== undefined) throw bad('give `hang: true` or `fail`, not both: a call that hangs never gets to fail (it ends when the scheduler aborts it).')
  // A ProcessResult is anything JSON can hold, as a real worker's body ('done', 42, null, [...]).
  if (['function', 'symbol', 'bigint'].includes(typeof behaviour.result)) throw bad(`result must be a value JSON can hold, as a worker's answer is (an object, a string, a number, null…), got a ${typeof behaviour.result}.`)
  // A copy: editing the object afterwards would bypass these checks.
  return { ...behaviour }
}

function checkMatcher(match: FakeMatcher): FakeMatcher {
  if ((typeof match === 'string' && match !== '') || typeof match === 'function') return match
  throw new TypeError(`createFakeWorkerClient().on: expected a subscription id (a string) or a predicate of the request, got ${String(match)}.`)
}

/**
 * @example
 * const worker = createFakeWorkerClient().on(badId, { fail: new PermanentError('gone') })
 * const scheduler = createSubscriptionScheduler(pool, { workerClient: worker })
 */
export function createFakeWorkerClient(): FakeWorkerClient {
  const calls: ProcessRequest[] = []
  let rules: { match: FakeMatcher; behaviour: FakeBehaviour }[] = []
  let fallback: FakeBehaviour = {}
  const failures = new Map<string, number>()
  let waiters: { count: number; resolve: () => void }[] = []

  function behaviourFor(request: ProcessRequest): FakeBehaviour {
    for (let i = rules.length - 1; i >= 0; i--) {
      const { match, behaviour } = rules[i]!
      if (typeof match === 'string' ? match === request.subscriptionId : match(request)) return behaviour
    }
    return fallback
  }

  const client: FakeWorkerClient = {
    calls,
    async process(request: ProcessRequest, { signal }: ProcessContext): Promise<ProcessResult> {
      calls.push(request)
      waiters = waiters.filter((w) => (calls.length >= w.count ? (w.resolve(), false) : true))
      // A real client rejects a call whose signal has already aborted, before sending anything.
      if (signal.aborted) throw abortError(signal)
      const behaviour = behaviourFor(request)
      const failed = failures.get(request.idempotencyKey) ?? 0
      const misbehaves = failed < (behaviour.failTimes ?? Number.POSITIVE_INFINITY)
      if (behaviour.hang && misbehaves) {
        failures.set(request.idempotencyKey, failed + 1)
        await new Promise<never>((_, reject) => {
          if (signal.aborted) reject(abortError(signal))
          signal.addEventListener('abort', () => reject(abortError(signal)), { once: true })
        })
      }
      if (behaviour.delayMs) await wait(behaviour.delayMs, signal)
      if (behaviour.fail !== undefined && misbehaves) {
        failures.set(request.idempotencyKey, failed + 1)
        throw typeof behaviour.fail === 'function' ? (behaviour.fail as (r: ProcessRequest) => unknown)(request) : behaviour.fail
      }
      return behaviour.result === undefined ? { ok: true } : behaviour.result
    },
    on(match, behaviour) {
      rules.push({ match: checkMatcher(match), behaviour: checkBehaviour('on', behaviour) })
      return client
    },
    otherwise(behaviour) {
      fallback = checkBehaviour('otherwise', behaviour)
      return client
    },
    callsFor: (subscriptionId) => calls.filter((c) => c.subscriptionId === subscriptionId),
    waitForCalls(count, timeoutMs = 30_000) {
      if (!Number.isSafeInteger(count) || count < 1) {
        return Promise.reject(new TypeError(`createFakeWorkerClient().waitForCalls: count must be a whole number of calls, 1 or more, got ${shown(count)}.`))
      }
      if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > 2_147_483_647) {
        return Promise.reject(new TypeError(`createFakeWorkerClient().waitForCalls: timeoutMs must be a number of milliseconds, 0 to 2147483647, got ${shown(timeoutMs)}.`))
      }
      if (calls.length >= count) return Promise.resolve([...calls])
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`Expected ${count} worker calls within ${timeoutMs} ms, saw ${calls.length}.`)), timeoutMs)
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve([...calls])) })
      })
    },
    reset() {
      calls.length = 0
      rules = []
      fallback = {}
      failures.clear()
    },
  }
  return client
}
