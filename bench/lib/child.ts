/**
 * The parent/child protocol. Each measured side (the scheduler, or a baseline) runs in a child
 * process of its own, so that its peak RSS and CPU are its own and not the parent's seeding.
 * The parent passes a JSON input in `BENCH_INPUT`; the child prints one `BENCH_RESULT <json>`
 * line on stdout when it is done. Anything else the child prints is forwarded, prefixed.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks'
import type { QueryStat } from './query-profile.js'

const RESULT_PREFIX = 'BENCH_RESULT '
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TIMEOUT_MS = 60 * 60 * 1000

/** What every child reports about itself, measured at its very end. */
export interface ProcessMetrics {
  /** Peak resident set size of the child, MiB (`process.resourceUsage().maxRSS`), loading included. */
  maxRssMb: number
  /** RSS when the measured interval began (modules loaded, scheduler started), MiB. */
  startRssMb: number
  /** Highest RSS sampled (every 50 ms) during the measured interval, and highest heap used, MiB. */
  runPeakRssMb: number
  runPeakHeapMb: number
  /** CPU the child used, ms (user + system), and its share of the measured wall time. */
  cpuMs: number
  cpuShare: number
  /** Event-loop utilisation over the measured interval, 0..1. */
  eventLoopUtilization: number
  /**
   * How late the event loop ran a timer over the measured interval, ms (p99 and max): what a host's
   * HTTP handler in the same process waits behind the scheduler's synchronous work.
   */
  eventLoopDelay: { p99Ms: number; maxMs: number }
  /** V8's garbage-collection pauses over the measured interval: how many, their total and the longest, ms. */
  gc: { count: number; totalMs: number; maxMs: number }
  /**
   * CPU the whole machine used over the measured interval (this child, PostgreSQL, the rest), ms;
   * null where /proc/stat cannot be read. On a small machine it is what bounds throughput.
   */
  machineCpuMs: number | null
  /** Database time by statement category. */
  queries: QueryStat[]
}

/**
 * Runs `bench/child/<script>` under tsx with `input` (and `nodeArgs` for node), and resolves with
 * its result. `BENCH_CPU_PROF_DIR=<dir>`: every child writes a V8 CPU profile there.
 * `BENCH_NODE_ARGS="--trace-gc …"`: flags for every child's node (those NODE_OPTIONS refuses).
 */
export async function runChild<Input, Result>(script: string, input: Input, label: string, nodeArgs: string[] = []): Promise<Result> {
  const path = fileURLToPath(new URL(`../child/${script}`, import.meta.url))
  const spawned = performance.now()
  const profileDir = process.env.BENCH_CPU_PROF_DIR
  const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
  const child = spawn(process.execPath, [...profiling, ...extra, ...nodeArgs, '--import', 'tsx', path], {
    cwd: REPO_ROOT,
    env: { ...process.env, BENCH_INPUT: JSON.stringify(input) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let result: Result | undefined
  let buffer = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk
    let newline: number
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + 1)
      if (line.startsWith(RESULT_PREFIX)) result = JSON.parse(line.slice(RESULT_PREFIX.length)) as Result
      else if (line.trim()) console.error(`    [${label}] ${line}`)
    }
  })
  const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  }).finally(() => clearTimeout(timer))
  if (code !== 0 || result === undefined) throw new Error(`${label}: child ${script} exited with code ${code} and no result.`)
  console.error(`    [${label}] child process done in ${((performance.now() - spawned) / 1000).toFixed(1)} s`)
  return result
}

/** In a child: its input, as the parent passed it. */
export function readInput<Input>(): Input {
  const raw = process.env.BENCH_INPUT
  if (!raw) throw new Error('BENCH_INPUT is not set: this script is started by bench/run.ts.')
  return JSON.parse(raw) as Input
}

/** In a child: reports the result and exits (pg-boss and pools may leave timers behind). */
export async function report(result: unknown): Promise<never> {
  await new Promise<void>((resolve) => process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`, () => resolve()))
  process.exit(0)
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10

/** Busy CPU time of the whole machine so far, in ms (Linux), or null. */
function machineBusyMs(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const busy = fields[0]! + fields[1]! + fields[2]! + fields[5]! + fields[6]! + fields[7]!
    return (busy * 1000) / 100
  } catch {
    return null
  }
}

const DELAY_RESOLUTION_MS = 10
/** A timer interval of the delay histogram (ns) as how late it ran, ms. */
const lateMs = (intervalNs: number) => Math.max(0, Math.round(intervalNs / 1e5 - DELAY_RESOLUTION_MS * 10) / 10)

/** In a child: starts measuring CPU, memory and event-loop use; `finish()` returns the metrics. */
export function startMeter(): { finish(queries: QueryStat[]): ProcessMetrics } {
  const cpu = process.cpuUsage()
  const machine = machineBusyMs()
  const elu = performance.eventLoopUtilization()
  // The histogram holds the intervals between its 10 ms timer's runs: the delay is what exceeds 10.
  const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS })
  delay.enable()
  const gc = { count: 0, totalMs: 0, maxMs: 0 }
  const gcWatch = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++
      gc.totalMs += entry.duration
      gc.maxMs = Math.max(gc.maxMs, entry.duration)
    }
  })
  gcWatch.observe({ entryTypes: ['gc'] })
  const started = performance.now()
  const startRss = process.memoryUsage.rss()
  let peakRss = startRss
  let peakHeap = process.memoryUsage().heapUsed
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
  }, 50)
  sampler.unref()
  return {
    finish(queries) {
      clearInterval(sampler)
      delay.disable()
      gcWatch.disconnect()
      const used = process.cpuUsage(cpu)
      const cpuMs = (used.user + used.system) / 1000
      const wall = performance.now() - started
      return {
        maxRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
        startRssMb: mb(startRss),
        runPeakRssMb: mb(Math.max(peakRss, process.memoryUsage.rss())),
        runPeakHeapMb: mb(peakHeap),
        cpuMs: Math.round(cpuMs),
        cpuShare: wall > 0 ? Math.round((cpuMs / wall) * 100) / 100 : 0,
        eventLoopUtilization: Math.round(performance.eventLoopUtilization(elu).utilization * 100) / 100,
        eventLoopDelay: { p99Ms: lateMs(delay.percentile(99)), maxMs: lateMs(delay.max) },
        gc: { count: gc.count, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10 },
        machineCpuMs: machine === null ? null : Math.round(machineBusyMs()! - machine),
        queries,
      }
    },
  }
}

/** In a child: a fatal error ends it with a non-zero code and no result. */
export function failChild(error: unknown): never {
  console.error(error)
  process.exit(1)
}
