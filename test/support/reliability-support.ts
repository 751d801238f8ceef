/**
 * Helpers for the reliability tests: polling with a deadline (never a blind sleep), several
 * scheduler instances on one database (each with its own pool, as separate processes would
 * have), a local HTTP worker whose answer is scripted per subscription, and a closed port.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type pg from 'pg'
import { afterEach } from 'vitest'
import { createSubscriptionScheduler } from '../../src/index.js'
import type { SchedulerOptions, SubscriptionScheduler, WorkerClient } from '../../src/index.js'
import { captureLogger, createFakeWorkerClient } from '../../src/testing.js'
import type { CapturedLogger, FakeWorkerClient } from '../../src/testing.js'
import type { ProcessRequest } from '../../src/worker-client/types.js'
import { ownPool } from './database.js'

/**
 * Calls `probe` until it returns something other than `undefined`, `null` or `false`, and returns
 * that. Throws once `timeoutMs` has passed, with `describe()` of the last state for the reason.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs, intervalMs = 200, what }: { timeoutMs: number; intervalMs?: number; what: string | (() => string | Promise<string>) },
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== null && value !== false) return value as T
    if (Date.now() >= deadline) {
      const detail = typeof what === 'function' ? await what() : what
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${detail}`)
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(10, Math.min(intervalMs, deadline - Date.now()))))
  }
}

/**
 * Waits for the wall clock to pass `instant` (epoch ms), by polling `Date.now()` against it: the
 * point of the wait is a clock boundary, not a duration guessed to be long enough.
 */
export async function waitForClockToPass(instant: number, { maxWaitMs }: { maxWaitMs: number }): Promise<void> {
  const remaining = instant - Date.now()
  if (remaining > maxWaitMs) throw new Error(`Refusing to wait ${remaining} ms for the clock (more than ${maxWaitMs} ms).`)
  await pollUntil(() => Date.now() > instant, { timeoutMs: Math.max(0, remaining) + 5_000, intervalMs: 250, what: `the clock to pass ${new Date(instant).toISOString()}` })
}

export interface Instance {
  pool: pg.Pool
  scheduler: SubscriptionScheduler
  worker: FakeWorkerClient
  logger: CapturedLogger
}

/** `count` schedulers on one database, each with its own pool, fake worker and logger. Not started. */
export function createInstances(url: string, count: number, options: SchedulerOptions): Instance[] {
  return Array.from({ length: count }, () => {
    const pool = ownPool(url, 8)
    const worker = createFakeWorkerClient()
    const logger = captureLogger()
    const scheduler = createSubscriptionScheduler(pool, { workerClient: worker, logger, migrate: false, ...options })
    return { pool, scheduler, worker, logger }
  })
}

/** Stops every instance (in-flight calls get `timeoutMs`), then ends their pools. Never throws. */
export async function stopInstances(instances: Instance[], { endPools = true, timeoutMs = 2_000 } = {}): Promise<void> {
  await Promise.allSettled(instances.map((i) => i.scheduler.stop({ timeoutMs })))
  if (endPools) await Promise.allSettled(instances.map((i) => i.pool.end()))
}

/**
 * Instances a test file's tests start, each test's stopped after it (an afterEach this registers):
 * `start()` starts `count` on `url`, polling every 0.5 s unless `options` says otherwise, all
 * calling `worker`.
 */
export function instancesStoppedAfterEach(): { start: (url: string, count: number, options: SchedulerOptions, worker: WorkerClient) => Promise<Instance[]> } {
  let instances: Instance[] = []
  afterEach(async () => {
    await stopInstances(instances)
    instances = []
  })
  return {
    async start(url, count, options, worker) {
      instances = createInstances(url, count, { pollingIntervalSeconds: 0.5, ...options, workerClient: worker })
      await Promise.all(instances.map((i) => i.scheduler.start()))
      return instances
    },
  }
}

// ---------------------------------------------------------------------------------------------
// A local HTTP worker

/** What the local worker answers for one call. */
export interface HttpAnswer {
  status?: number
  headers?: Record<string, string>
  /** A string or bytes. @default '{"ok":true}' */
  body?: string | Buffer
  /** Answer after this many milliseconds. */
  delayMs?: number
}

export type HttpScript = (request: ProcessRequest, callIndex: number) => HttpAnswer

export interface HttpCall {
  request: ProcessRequest
  at: number
  headers: IncomingMessage['headers']
}

export interface LocalWorker {
  url: string
  readonly calls: HttpCall[]
  callsFor(subscriptionId: string): HttpCall[]
  /** Scripts the answers for one subscription (by call index, 0-based). Unscripted ones get 200 `{"ok":true}`. */
  on(subscriptionId: string, script: HttpScript): void
  reset(): void
  close(): Promise<void>
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** A `node:http` server on 127.0.0.1 that plays the subscription worker: `POST /process`. */
export async function startLocalWorker(): Promise<LocalWorker> {
  const calls: HttpCall[] = []
  const scripts = new Map<string, HttpScript>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const request = JSON.parse(await readBody(req)) as ProcessRequest
      const index = calls.filter((c) => c.request.subscriptionId === request.subscriptionId).length
      calls.push({ request, at: Date.now(), headers: req.headers })
      const answer = scripts.get(request.subscriptionId)?.(request, index) ?? {}
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs))
      const body = answer.body ?? '{"ok":true}'
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers })
      res.end(body)
    })().catch((error: unknown) => {
      res.writeHead(500)
      res.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsFor: (id) => calls.filter((c) => c.request.subscriptionId === id),
    on: (id, script) => void scripts.set(id, script),
    reset() {
      calls.length = 0
      scripts.clear()
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A URL on 127.0.0.1 where nothing listens: a port that was just bound, then released. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

/** The statements of this pool's database that wait for a lock, by their text. */
export async function lockWaiters(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ query: string }>(`SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
  return rows.map((r) => r.query)
}

/** Resolves once `count` statements on this pool's database wait for a lock (a test holds it). */
export async function waitingForLocks(pool: pg.Pool, count: number, what: string): Promise<void> {
  await pollUntil(async () => (await lockWaiters(pool)).length >= count || undefined, { timeoutMs: 15_000, what })
}
