/**
 * A worker client for tests: records every call and can be scripted, per subscription or by
 * predicate, to fail, to fail a few times then succeed, to answer after a delay, or to hang
 * until its signal aborts.
 */
import type { ProcessContext, ProcessRequest, ProcessResult, WorkerClient } from '../worker-client/types.js'

export interface FakeBehaviour {
  /** Throw this (or what the function returns) instead of answering. */
  fail?: unknown | ((request: ProcessRequest) => unknown) | undefined
  /** Only fail this many times per subscription and slot, then answer. @default Infinity */
  failTimes?: number | undefined
  /** Answer (or fail) after this many milliseconds, unless the call's signal aborts first. */
  delayMs?: number | undefined
  /** Never answer; reject only when the call's signal aborts. */
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
  /** Resolves once `count` calls have started; rejects after `timeoutMs` (default 30 s). */
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
      const behaviour = behaviourFor(request)
      if (behaviour.hang) {
        await new Promise<never>((_, reject) => {
          if (signal.aborted) reject(abortError(signal))
          signal.addEventListener('abort', () => reject(abortError(signal)), { once: true })
        })
      }
      if (behaviour.delayMs) await wait(behaviour.delayMs, signal)
      if (behaviour.fail !== undefined) {
        const failed = failures.get(request.idempotencyKey) ?? 0
        if (failed < (behaviour.failTimes ?? Number.POSITIVE_INFINITY)) {
          failures.set(request.idempotencyKey, failed + 1)
          throw typeof behaviour.fail === 'function' ? (behaviour.fail as (r: ProcessRequest) => unknown)(request) : behaviour.fail
        }
      }
      return behaviour.result ?? { ok: true }
    },
    on(match, behaviour) {
      rules.push({ match, behaviour })
      return client
    },
    otherwise(behaviour) {
      fallback = behaviour
      return client
    },
    callsFor: (subscriptionId) => calls.filter((c) => c.subscriptionId === subscriptionId),
    waitForCalls(count, timeoutMs = 30_000) {
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
