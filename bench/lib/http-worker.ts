/**
 * A real subscription worker on 127.0.0.1: `POST /process` reads the JSON body and answers
 * 200 after a fixed delay. It runs in the parent process, so its CPU never competes with the
 * scheduler's event loop, and it measures what the scheduler achieved from the outside: calls,
 * the busiest moment (calls in flight), and the window from the first request to the last answer.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface HttpWorkerStats {
  calls: number
  /** Most requests in flight at once. */
  maxInFlight: number
  /** ms from the first request's arrival to the last answer's end; 0 before any call. */
  windowMs: number
  /** Mean in-flight requests over the window (Little's law: busy time / window). */
  meanInFlight: number
  /** Non-2xx answers and malformed bodies. */
  errors: number
}

export interface HttpWorker {
  url: string
  stats(): HttpWorkerStats
  reset(): void
  close(): Promise<void>
}

export async function startHttpWorker(delayMs: number): Promise<HttpWorker> {
  let calls = 0
  let inFlight = 0
  let maxInFlight = 0
  let errors = 0
  let first: number | null = null
  let last = 0
  let busyMs = 0

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const arrived = performance.now()
    first ??= arrived
    inFlight += 1
    maxInFlight = Math.max(maxInFlight, inFlight)
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      let ok = req.method === 'POST' && req.url === '/process'
      try {
        ok &&= typeof (JSON.parse(body) as { subscriptionId?: unknown }).subscriptionId === 'string'
      } catch {
        ok = false
      }
      setTimeout(() => {
        const answer = JSON.stringify(ok ? { ok: true } : { error: 'bad request' })
        res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) })
        res.end(answer, () => {
          const now = performance.now()
          calls += 1
          if (!ok) errors += 1
          inFlight -= 1
          busyMs += now - arrived
          last = Math.max(last, now)
        })
      }, delayMs)
    })
  }

  const server = createServer({ keepAlive: true }, handle)
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    stats() {
      const windowMs = first === null ? 0 : last - first
      return { calls, maxInFlight, windowMs, meanInFlight: windowMs > 0 ? busyMs / windowMs : 0, errors }
    },
    reset() {
      calls = inFlight = maxInFlight = errors = busyMs = last = 0
      first = null
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
