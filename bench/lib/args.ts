/**
 * Command-line flags of `npm run bench` and the sizes each scenario runs at. `--smoke` scales
 * every scenario down so the whole suite finishes in well under two minutes (CI).
 *
 *   npm run bench                                   # N = 100000, every scenario
 *   npm run bench -- --n 20000 --scenarios throughput,herd
 *   npm run bench -- --smoke
 */
import { WHAT_IFS } from '../child/what-if.js'
import type { WhatIf } from '../child/what-if.js'

export const SCENARIOS = ['throughput', 'latency', 'idle', 'herd', 'scale', 'scale-out'] as const
export type ScenarioName = (typeof SCENARIOS)[number]

export interface BenchConfig {
  smoke: boolean
  /** Due subscriptions drained in `throughput` and `herd`. */
  n: number
  scenarios: ScenarioName[]
  /** Worker calls in the `latency` scenario. */
  latencyN: number
  /** Rows (none due) in the `idle` scenario. */
  idleN: number
  /** Sizes of the `scale` scenario. */
  scaleNs: number[]
  /** Due rows of the `scale-out` scenario. */
  scaleOutN: number
  /** Scheduler settings shared by every scenario. */
  concurrency: number
  claimBatchSize: number
  /** Simulated worker latency of the `latency` scenario, in milliseconds. */
  workerDelayMs: number
  /** Experiments applied to the scheduler from the outside (bench/child/what-if.ts). */
  whatIf: WhatIf[]
}

const USAGE = `Usage: npm run bench -- [--n <count>] [--scenarios ${SCENARIOS.join(',')}] [--smoke]

  --n <count>        due subscriptions in throughput and herd (default 100000; smoke 2000)
  --scenarios <list> comma-separated subset (default: all)
  --smoke            tiny sizes for CI (whole run < 2 minutes)
  --what-if <list>   measure the scheduler with one of its choices undone at runtime:
                     ${WHAT_IFS.join(', ')} (see bench/child/what-if.ts)
  --help             this text

Database: DATABASE_URL if set (one fresh database per measurement, dropped afterwards),
otherwise an embedded PostgreSQL started for the run.`

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`)
  process.exit(2)
}

function positiveInt(flag: string, raw: string | undefined): number {
  const value = Number(raw)
  if (!raw || !Number.isSafeInteger(value) || value < 1) fail(`${flag} expects a positive integer, got ${JSON.stringify(raw)}.`)
  return value
}

function list<T extends string>(flag: string, raw: string | undefined, known: readonly T[]): T[] {
  if (!raw) fail(`${flag} expects a comma-separated list.`)
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean)
  for (const name of names) {
    if (!(known as readonly string[]).includes(name)) fail(`${flag}: unknown name ${JSON.stringify(name)}.`)
  }
  return names as T[]
}

export function parseArgs(argv: string[]): BenchConfig {
  let n: number | undefined
  let scenarios: ScenarioName[] = [...SCENARIOS]
  let smoke = false
  let whatIf: WhatIf[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const value = () => inline ?? argv[++i]
    switch (flag) {
      case '--n':
        n = positiveInt('--n', value())
        break
      case '--scenarios':
        scenarios = list('--scenarios', value(), SCENARIOS)
        break
      case '--what-if':
        whatIf = list('--what-if', value(), WHAT_IFS)
        break
      case '--smoke':
        smoke = true
        break
      case '--help':
      case '-h':
        console.log(USAGE)
        process.exit(0)
      default:
        fail(`Unknown argument ${JSON.stringify(arg)}.`)
    }
  }
  const base = { scenarios, smoke, whatIf, concurrency: 64, claimBatchSize: 1000, workerDelayMs: 20 }
  if (smoke) {
    // Sized for a busy 2-core machine, where the scheduler may drain only a few hundred a second.
    const size = n ?? 2000
    return { ...base, n: size, latencyN: Math.min(1000, size), idleN: 20_000, scaleNs: [...new Set([1000, size, 5000])].sort((a, b) => a - b), scaleOutN: 2000 }
  }
  const size = n ?? 100_000
  return { ...base, n: size, latencyN: Math.min(5000, size), idleN: 1_000_000, scaleNs: [10_000, 100_000, 1_000_000], scaleOutN: 10_000 }
}

/** Herd size: the issue asks for 100k, i.e. N (so the throughput drain is reused). */
export function herdSize(config: BenchConfig): number {
  return config.n
}
