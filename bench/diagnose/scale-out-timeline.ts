/**
 * Diagnosis: how a run's calls spread over several scheduler processes on one database (the
 * scale-out scenario's shape), process by process and over time.
 *
 *   npx tsx bench/diagnose/scale-out-timeline.ts [--n 800] [--processes 4] [--delay 50] [--concurrency 16]
 *
 * One process starts the run (`runNow()`), the others only work (bench/child/run-helper.ts). Each
 * process calls the worker under a path of its own, so the worker can tell them apart: it prints,
 * per process, its calls and when its first and last call arrived (ms after the run's first
 * call), then how many calls each process had in flight, 100 ms at a time.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { HelperInput } from '../child/run-helper.js'
import type { SchedulerRunInput, SchedulerRunResult } from '../child/run-scheduler.js'
import { runChild } from '../lib/child.js'
import { createReadyTable, seedSubscriptions } from '../lib/seed.js'
import { flag, withScratchDatabase } from './support.js'

const BUCKET_MS = 100

async function main(): Promise<void> {
  const n = flag('--n', 800)
  const processes = flag('--processes', 4)
  const delayMs = flag('--delay', 50)
  const concurrency = flag('--concurrency', 16)
  // Per process: [arrival, end] of each call, in ms of performance.now().
  const calls = new Map<string, Array<[number, number]>>()
  const server = createServer({ keepAlive: true }, (req, res) => {
    const arrived = performance.now()
    const tag = req.url?.split('/')[1] ?? '?'
    req.resume()
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"ok":true}', () => {
          const list = calls.get(tag) ?? []
          list.push([arrived, performance.now()])
          calls.set(tag, list)
        })
      }, delayMs),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    await withScratchDatabase(async (db) => {
      await seedSubscriptions(db.url, n, 'due')
      await createReadyTable(db.url)
      const helpers = Array.from({ length: processes - 1 }, (_, i) =>
        runChild<HelperInput, unknown>('run-helper.ts', { url: db.url, concurrency, workerUrl: `${base}/p${i + 1}` }, `helper-${i + 1}`),
      )
      for (const helper of helpers) helper.catch(() => {})
      const input: SchedulerRunInput = { url: db.url, concurrency, claimBatchSize: 1000, workerUrl: `${base}/p0`, peers: processes - 1 }
      const result = await runChild<SchedulerRunInput, SchedulerRunResult>('run-scheduler.ts', input, 'sweeper')
      await Promise.all(helpers)
      const run = result.runs[0]!
      console.log(`runNow(): ${Math.round(run.wallMs)} ms, ${Math.round((n / run.wallMs) * 1000)} calls/s (ideal ${Math.round((processes * concurrency * 1000) / delayMs)})`)
    })
  } finally {
    server.closeAllConnections()
    server.close()
  }
  const all = [...calls.values()].flat()
  const origin = Math.min(...all.map(([a]) => a))
  const end = Math.max(...all.map(([, e]) => e))
  const tags = [...calls.keys()].sort()
  for (const tag of tags) {
    const list = calls.get(tag)!
    const first = Math.min(...list.map(([a]) => a)) - origin
    const last = Math.max(...list.map(([a]) => a)) - origin
    console.log(`${tag}: ${list.length} calls, first at ${Math.round(first)} ms, last at ${Math.round(last)} ms`)
  }
  console.log(`\nms     ${tags.map((t) => t.padStart(4)).join(' ')}   (calls in flight at the bucket's start)`)
  for (let t = 0; t < end - origin; t += BUCKET_MS) {
    const at = origin + t
    const row = tags.map((tag) => String(calls.get(tag)!.filter(([a, e]) => a <= at && e > at).length).padStart(4))
    console.log(`${String(t).padStart(5)}  ${row.join(' ')}`)
  }
}

await main()
