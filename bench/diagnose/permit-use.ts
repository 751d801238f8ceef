/**
 * Diagnosis: how much of `maxConcurrentCalls` calls of mixed latency use.
 *
 *   npx tsx bench/diagnose/permit-use.ts [--calls 400] [--cap 8] [--concurrency 16] [--min 50] [--max 550]
 *
 * A trial with latencies of 50–550 ms saw 3.4 of 8 permits busy on average: a wave's permits
 * went back only once its slowest call had ended. Each permit now goes back as its own call
 * ends. This runs the same calls (the same latencies, from a fixed seed) through the call gate
 * and the shared permits on a scratch database, under both policies, alternated, in one process:
 * "per call" is the code as it is; "per wave" is the old policy, rebuilt from the outside by
 * holding each call's return (`releaseOne`) until the wave's last call has ended.
 */
import pg from 'pg'
import { createCallGate } from '../../src/process/call-gate.js'
import { configureLimits } from '../../src/process/configure-limits.js'
import { createGlobalLimits } from '../../src/process/global-limits.js'
import type { GlobalLimits } from '../../src/process/global-limits.js'
import { captureLogger } from '../../src/testing.js'
import { flag, withScratchDatabase } from './support.js'

const calls = flag('--calls', 400)
const cap = flag('--cap', 8)
const concurrency = flag('--concurrency', 16)
const minMs = flag('--min', 50)
const maxMs = flag('--max', 550)

/** The same latencies for every run: a linear congruential sequence from a fixed seed. */
function latencies(): number[] {
  let state = 20261202
  return Array.from({ length: calls }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return minMs + (state / 2 ** 31) * (maxMs - minMs)
  })
}

/** The old policy: a wave's permits go back together, when its last call has ended. */
function perWave(limits: GlobalLimits): GlobalLimits {
  return {
    acquire: async (wanted, signal) => {
      const grant = await limits.acquire(wanted, signal)
      let ended = 0
      // Each call's return is held until the wave's last call has ended; then all go back.
      const releaseOne = async () => {
        ended += 1
        if (ended === grant.count) for (let i = 0; i < grant.count; i++) await grant.releaseOne()
      }
      return { ...grant, releaseOne }
    },
    close: limits.close,
  }
}

async function measure(pool: pg.Pool, label: string, wrap: (limits: GlobalLimits) => GlobalLimits, run: number) {
  const scope = `permit-use-${run}`
  const limits = { maxConcurrentCalls: cap, maxCallsPerSecond: null }
  await configureLimits(pool, scope, limits)
  const global = wrap(createGlobalLimits(pool, { scope, limits, holdSeconds: 120, logger: captureLogger() })!)
  const gate = createCallGate(concurrency, global, captureLogger())
  const delays = latencies()
  let inFlight = 0
  let max = 0
  let area = 0
  let last = performance.now()
  const step = () => {
    const now = performance.now()
    area += inFlight * (now - last)
    last = now
  }
  const started = performance.now()
  await gate.runEach(delays.map((ms, i) => ({ ms, i })), async ({ ms }) => {
    step()
    inFlight += 1
    max = Math.max(max, inFlight)
    await new Promise((resolve) => setTimeout(resolve, ms))
    step()
    inFlight -= 1
  }, { signal: new AbortController().signal })
  const wallMs = performance.now() - started
  const rate = (calls * 1000) / wallMs
  const busy = area / wallMs
  console.log(`  ${label.padEnd(9)} ${rate.toFixed(1).padStart(6)} calls/s  mean in flight ${busy.toFixed(2)} of ${cap} (${((busy / cap) * 100).toFixed(0)}%), max ${max}, wall ${(wallMs / 1000).toFixed(1)} s`)
  return rate
}

await withScratchDatabase(async (db) => {
  const pool = new pg.Pool({ connectionString: db.url, max: 5 })
  try {
    const ideal = (cap * 1000) / ((minMs + maxMs) / 2)
    console.log(`${calls} calls of ${minMs}-${maxMs} ms, maxConcurrentCalls ${cap}, concurrency ${concurrency}: at most ${ideal.toFixed(1)} calls/s with every permit busy`)
    const ratios: number[] = []
    for (let pair = 0; pair < 2; pair++) {
      const wave = await measure(pool, 'per wave', perWave, pair * 2)
      const call = await measure(pool, 'per call', (limits) => limits, pair * 2 + 1)
      ratios.push(call / wave)
    }
    console.log(`per call / per wave: ${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')}`)
  } finally {
    await pool.end()
  }
})
