/**
 * Guards for the scheduler's child, so one pathological drain cannot take the machine or the
 * whole run down with it:
 *
 * - memory: the scheduler's RSS grows with every subscription it processes (see the report), so
 *   a 1M-row drain could exhaust a shared machine's memory and bring the OOM killer down on
 *   PostgreSQL itself. BENCH_RSS_LIMIT_MB sets the limit (default 4096).
 * - time: a drain slowed to a crawl by a bad plan would run for hours. BENCH_DRAIN_LIMIT_S sets
 *   the budget of one measured interval (default 1800).
 *
 * Past either, `onExceeded` is called once; the child reports what was done so far and exits.
 * BENCH_TRACE_MEMORY=1 also logs memory every 2 s to the parent's log.
 */
import { performance } from 'node:perf_hooks'

export const DEFAULT_RSS_LIMIT_MB = 4096
export const DEFAULT_DRAIN_LIMIT_S = 1800

const mb = (bytes: number) => Math.round(bytes / 1048576)

function envNumber(name: string, fallback: number): number {
  const raw = Number(process.env[name])
  return Number.isFinite(raw) && raw > 0 ? raw : fallback
}

export interface RunGuard {
  stop(): void
}

/** Calls `onExceeded(reason)` once when RSS or the time budget is exceeded; samples every 250 ms. */
export function guardRun(onExceeded: (reason: string) => void): RunGuard {
  const rssLimit = envNumber('BENCH_RSS_LIMIT_MB', DEFAULT_RSS_LIMIT_MB)
  const timeLimitMs = envNumber('BENCH_DRAIN_LIMIT_S', DEFAULT_DRAIN_LIMIT_S) * 1000
  const started = performance.now()
  const trace = process.env.BENCH_TRACE_MEMORY === '1'
  let lastTrace = 0
  let fired = false
  const fire = (reason: string) => {
    if (fired) return
    fired = true
    onExceeded(reason)
  }
  const timer = setInterval(() => {
    const rss = mb(process.memoryUsage.rss())
    const elapsed = performance.now() - started
    if (trace && elapsed - lastTrace >= 2000) {
      lastTrace = elapsed
      const m = process.memoryUsage()
      console.log(
        `memory at ${(elapsed / 1000).toFixed(0)}s: rss ${rss} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} ` +
          `external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} MB`,
      )
    }
    if (rss > rssLimit) fire(`RSS ${rss} MB passed the ${rssLimit} MB guard`)
    else if (elapsed > timeLimitMs) fire(`the ${timeLimitMs / 1000} s time budget ran out`)
  }, 250)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
