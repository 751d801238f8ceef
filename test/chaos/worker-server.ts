/**
 * A real subscription worker for the chaos suite: `node:http` on 127.0.0.1, port chosen by the
 * OS. It misbehaves on purpose, deterministically:
 * - a flaky share of calls answer 500, chosen by a hash of the idempotency key and the attempt,
 *   so a retry of the same slot (a higher attempt) usually succeeds, and from attempt
 *   `flakyUpToAttempt + 1` on always does;
 * - another share answer 503 with a `Retry-After` longer than the scheduler's first backoff, so
 *   that the retry travels in a successor job;
 * - a slow share answer 200 only after `slowMs`, past the scheduler's `workerTimeoutMs`: the
 *   worker did the work, the scheduler gave up on the call and retries it (at-least-once);
 * - a fixed set of subscriptions always answer 500 (retried until the retries are spent), and
 *   another always answer 422 (a permanent failure, never retried).
 *
 * Each scheduler instance gets its own base URL (`urlFor(instance)`), so every call is logged
 * with the instance that made it. Every call is logged; so is every processing that succeeded,
 * per idempotency key.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type CallOutcome = 'ok' | 'flaky-500' | 'retry-after-503' | 'always-500' | 'always-422' | 'slow-ok' | 'bad-request'

export interface CallRecord {
  instance: string
  subscriptionId: string
  idempotencyKey: string
  scheduledFor: string
  attempt: number
  outcome: CallOutcome
  /** Epoch ms the request arrived, and the answer was sent (or abandoned). */
  startedAt: number
  endedAt: number
  /** False when the client hung up before the answer was written (it timed out or died). */
  delivered: boolean
  /** Why a request was rejected as malformed. */
  problem?: string
}

export interface WorkerServerOptions {
  /** Share of calls answered 500, in percent. @default 20 */
  flakyPercent?: number
  /** Share of calls answered 503 with `Retry-After`, in percent. @default 5 */
  retryAfterPercent?: number
  /** The `Retry-After` seconds sent with those. @default 2 */
  retryAfterSeconds?: number
  /** Share of calls answered late, in percent. @default 3 */
  slowPercent?: number
  /** How late a slow answer is. @default 1500 */
  slowMs?: number
  /**
   * Flaky and slow answers happen only up to this attempt; later attempts succeed. This bounds
   * the retries the worker itself consumes, so that a slot fails only if the chaos around it
   * (kills, cut connections) consumed the rest: a subscription's retries are a budget, and
   * at-random failures on every attempt would fail some slots for no reason under test.
   * @default 2
   */
  flakyUpToAttempt?: number
  always500?: Iterable<string>
  always422?: Iterable<string>
  /** Extra milliseconds before answering calls from these instances, to keep their calls in flight. */
  instanceDelayMs?: Record<string, number>
}

export interface WorkerServer {
  /** Base URL of one scheduler instance: its calls are logged under `instance`. */
  urlFor(instance: string): string
  /** Every call, in the order its answer was sent (or abandoned). */
  readonly calls: CallRecord[]
  /** Calls that processed the subscription (the worker did the work), per idempotency key. */
  readonly successes: Map<string, CallRecord[]>
  /** Subscriptions with at least one processing that succeeded. */
  readonly succeededSubscriptions: Set<string>
  /** Calls arrived and not yet answered, for one instance or all. */
  inFlight(instance?: string): number
  /** Calls arrived, for one instance or all. */
  started(instance?: string): number
  /** Idempotency keys of the calls an instance has in flight now. */
  inFlightKeys(instance: string): string[]
  close(): Promise<void>
}

/** A number in [0, 100) fixed by the key and the attempt. */
export function bucket(idempotencyKey: string, attempt: number): number {
  const digest = createHash('sha1').update(`${idempotencyKey}#${attempt}`).digest()
  return (digest.readUInt32BE(0) / 0x1_0000_0000) * 100
}

interface Body {
  subscriptionId?: unknown
  userId?: unknown
  processingId?: unknown
  scheduledFor?: unknown
  attempt?: unknown
  idempotencyKey?: unknown
}

export async function startWorkerServer(options: WorkerServerOptions = {}): Promise<WorkerServer> {
  const flaky = options.flakyPercent ?? 20
  const slow = options.slowPercent ?? 3
  const retryAfter = options.retryAfterPercent ?? 5
  const retryAfterSeconds = options.retryAfterSeconds ?? 2
  const slowMs = options.slowMs ?? 1500
  const flakyUpTo = options.flakyUpToAttempt ?? 2
  const always500 = new Set(options.always500 ?? [])
  const always422 = new Set(options.always422 ?? [])
  const calls: CallRecord[] = []
  const successes = new Map<string, CallRecord[]>()
  const succeededSubscriptions = new Set<string>()
  const open = new Map<string, Map<number, string>>()
  const startedBy = new Map<string, number>()
  let nextCall = 0
  const timers = new Set<NodeJS.Timeout>()

  function choose(body: Required<Body>): { outcome: CallOutcome; status: number; delayMs: number; headers?: Record<string, string> } {
    const sid = body.subscriptionId as string
    if (always500.has(sid)) return { outcome: 'always-500', status: 500, delayMs: 0 }
    if (always422.has(sid)) return { outcome: 'always-422', status: 422, delayMs: 0 }
    if ((body.attempt as number) > flakyUpTo) return { outcome: 'ok', status: 200, delayMs: 0 }
    const b = bucket(body.idempotencyKey as string, body.attempt as number)
    if (b < flaky) return { outcome: 'flaky-500', status: 500, delayMs: 0 }
    if (b < flaky + retryAfter) return { outcome: 'retry-after-503', status: 503, delayMs: 0, headers: { 'retry-after': String(retryAfterSeconds) } }
    if (b < flaky + retryAfter + slow) return { outcome: 'slow-ok', status: 200, delayMs: slowMs }
    return { outcome: 'ok', status: 200, delayMs: 0 }
  }

  function validate(body: Body, header: string | undefined): string | undefined {
    for (const field of ['subscriptionId', 'userId', 'processingId', 'scheduledFor', 'idempotencyKey'] as const) {
      if (typeof body[field] !== 'string' || body[field] === '') return `missing ${field}`
    }
    if (typeof body.attempt !== 'number' || !Number.isInteger(body.attempt) || body.attempt < 1) return `bad attempt ${String(body.attempt)}`
    if (body.idempotencyKey !== `${body.subscriptionId}:${body.scheduledFor}`) return `key ${String(body.idempotencyKey)} is not subscriptionId:scheduledFor`
    if (header !== body.idempotencyKey) return `Idempotency-Key header ${String(header)} differs from the body's key`
    if (Number.isNaN(Date.parse(body.scheduledFor as string))) return `scheduledFor ${String(body.scheduledFor)} is not a date`
    return undefined
  }

  const server = http.createServer((req, res) => {
    const match = /^\/([\w-]+)\/process$/.exec(req.url ?? '')
    if (req.method !== 'POST' || !match) {
      res.writeHead(404).end()
      return
    }
    const instance = match[1]!
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const startedAt = Date.now()
      const callId = nextCall++
      let body: Body
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body
      } catch {
        body = {}
      }
      const header = req.headers['idempotency-key']
      const problem = validate(body, Array.isArray(header) ? header[0] : header)
      startedBy.set(instance, (startedBy.get(instance) ?? 0) + 1)
      const record: CallRecord = {
        instance,
        subscriptionId: String(body.subscriptionId),
        idempotencyKey: String(body.idempotencyKey),
        scheduledFor: String(body.scheduledFor),
        attempt: Number(body.attempt),
        outcome: 'bad-request',
        startedAt,
        endedAt: 0,
        delivered: false,
        ...(problem ? { problem } : {}),
      }
      const mine = open.get(instance) ?? new Map<number, string>()
      open.set(instance, mine)
      mine.set(callId, record.idempotencyKey)
      const { outcome, status, delayMs, headers } = problem
        ? { outcome: 'bad-request' as const, status: 400, delayMs: 0, headers: undefined }
        : choose(body as Required<Body>)
      record.outcome = outcome
      const extraDelayMs = options.instanceDelayMs?.[instance] ?? 0
      let finished = false
      const finish = (delivered: boolean) => {
        if (finished) return
        finished = true
        mine.delete(callId)
        record.endedAt = Date.now()
        record.delivered = delivered
        calls.push(record)
        if (outcome === 'ok' || outcome === 'slow-ok') {
          const list = successes.get(record.idempotencyKey) ?? []
          list.push(record)
          successes.set(record.idempotencyKey, list)
          succeededSubscriptions.add(record.subscriptionId)
        }
      }
      // The client hanging up first (its timeout, or its process killed) is logged as undelivered.
      res.on('close', () => finish(res.writableFinished))
      const answer = () => {
        if (res.destroyed) return finish(false)
        const payload = status === 200 ? { processed: record.idempotencyKey } : { error: outcome, detail: problem ?? null }
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload))
      }
      if (delayMs + extraDelayMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer)
          answer()
        }, delayMs + extraDelayMs)
        timers.add(timer)
      } else {
        answer()
      }
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    urlFor: (instance) => `http://127.0.0.1:${port}/${instance}`,
    calls,
    successes,
    succeededSubscriptions,
    inFlight: (instance) =>
      instance === undefined ? [...open.values()].reduce((n, m) => n + m.size, 0) : (open.get(instance)?.size ?? 0),
    started: (instance) =>
      instance === undefined ? [...startedBy.values()].reduce((n, c) => n + c, 0) : (startedBy.get(instance) ?? 0),
    inFlightKeys: (instance) => [...(open.get(instance)?.values() ?? [])],
    async close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
