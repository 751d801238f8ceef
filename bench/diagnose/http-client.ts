/**
 * Diagnosis: what one worker call costs in CPU, the library's HTTP client against plain fetch.
 *
 *   npx tsx bench/diagnose/http-client.ts [--calls 5000] [--concurrency 64] [--delay 20]
 *
 * The latency scenario's ceiling (the library's client alone, no database) stays far below
 * concurrency / latency on a 2-core machine, with the client process near a full core. This
 * compares, against the same local worker (bench/lib/http-worker.ts) and in the same process,
 * the client from src/http-worker-client.ts and a bare `fetch` POST of the same JSON body.
 */
import { createHttpWorkerClient } from '../../src/worker-client/http-client.js'
import { startHttpWorker } from '../lib/http-worker.js'
import { flag } from './support.js'

type Call = (i: number) => Promise<void>

function body(i: number) {
  const subscriptionId = crypto.randomUUID()
  const scheduledFor = new Date(Date.UTC(2027, 0, 1, 9)).toISOString()
  return {
    subscriptionId,
    userId: crypto.randomUUID(),
    processingId: `diag-${i}`,
    scheduledFor,
    attempt: 1,
    idempotencyKey: `${subscriptionId}:${scheduledFor}`,
  }
}

async function measure(label: string, calls: number, concurrency: number, call: Call, ideal: number): Promise<string> {
  let next = 0
  let failed = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        const i = next++
        await call(i).catch(() => (failed += 1))
      }
    }),
  )
  const ms = performance.now() - started
  const used = process.cpuUsage(cpu)
  const rate = (calls / ms) * 1000
  const cpuPerCall = (used.user + used.system) / calls
  return `| ${label} | ${Math.round(rate)} calls/s | ${(rate / ideal).toFixed(2)} | ${(cpuPerCall / 1000).toFixed(2)} ms | ${failed} |`
}

async function main(): Promise<void> {
  const calls = flag('--calls', 5000)
  const concurrency = flag('--concurrency', 64)
  const delay = flag('--delay', 20)
  const worker = await startHttpWorker(delay)
  const ideal = concurrency / (delay / 1000)
  try {
    const client = createHttpWorkerClient({ baseUrl: worker.url, timeoutMs: 30_000 })
    const signal = new AbortController().signal
    const viaClient: Call = async (i) => {
      await client.process(body(i), { signal })
    }
    const viaFetch: Call = async (i) => {
      const b = body(i)
      const response = await fetch(`${worker.url}/process`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': b.idempotencyKey },
        body: JSON.stringify(b),
      })
      await response.text()
      if (!response.ok) throw new Error(`HTTP ${response.status}`)
    }
    // A warm-up of each, then the measured runs, alternated.
    await measure('warm-up', Math.min(500, calls), concurrency, viaFetch, ideal)
    await measure('warm-up', Math.min(500, calls), concurrency, viaClient, ideal)
    const rows = [
      await measure('plain fetch', calls, concurrency, viaFetch, ideal),
      await measure('createHttpWorkerClient (ky)', calls, concurrency, viaClient, ideal),
      await measure('plain fetch, again', calls, concurrency, viaFetch, ideal),
      await measure('createHttpWorkerClient, again', calls, concurrency, viaClient, ideal),
    ]
    console.log(`${calls} calls, ${concurrency} at a time, worker answering after ${delay} ms (ideal ${ideal} calls/s).`)
    console.log('Client and worker share this process, so both rates include the worker side.\n')
    console.log('| client | rate | of ideal | CPU per call (client + worker) | failed |\n|---|---:|---:|---:|---:|')
    for (const row of rows) console.log(row)
  } finally {
    await worker.close()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
