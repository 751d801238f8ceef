/**
 * Where the database time goes: wraps every client a `pg.Pool` creates so each statement is
 * timed (from the call to its result, so time queued behind a busy connection counts) and
 * filed under a category read from its SQL. The scheduler and the baselines run on such a pool
 * in their child process, and report the breakdown next to their throughput.
 *
 * When the server runs on this machine (its backends' /proc/<pid>/schedstat readable), each
 * statement's CPU time in its backend is measured too: wall time counts waiting for a core or a
 * lock, which on a saturated machine says little about what a statement costs.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import type pg from 'pg'

export interface QueryStat {
  category: string
  count: number
  totalMs: number
  maxMs: number
  /** Rows the statements returned: each costs the client its parse. */
  rows: number
  /** CPU time the statements took in their backends, ms; null when it cannot be read. */
  backendCpuMs: number | null
  /** When the first and the last statement of the category ended, ms after the origin. */
  firstEndMs: number
  lastEndMs: number
}

/** First match wins. Categories name the library's statements and pg-boss's own. */
const CATEGORIES: Array<[string, RegExp]> = [
  ['tx BEGIN/COMMIT', /^\s*(BEGIN|COMMIT|ROLLBACK)\b/i],
  ['sweep: claim page', /WITH picked AS/],
  ['runs: counters/settle', /subscription_scheduler\.runs/],
  ['process: re-read callable rows', /SELECT sp\.id, sp\.job_id FROM subscription_processing sp CROSS JOIN LATERAL/],
  ['process: read a job\'s rows', /sp\.status, s\.active, [\s\S]*?FROM subscription_processing sp LEFT JOIN LATERAL/],
  ['seed: select due page', /ORDER BY sp\.next_run_at\s+LIMIT/],
  ['seed: mark processing', /SET status = 'processing', updated_at/],
  ['seed: mark completed', /SET status = 'completed', last_run_at = now\(\), next_run_at = \$2/],
  ['fanout: claim page', /SET status = 'queued', updated_at = now\(\)/],
  ['fanout: batch complete', /SET status = 'completed', last_run_at = now\(\), next_run_at = CASE/],
  ['pg-boss: insert jobs', /INSERT INTO\s+\S+\s*\(\s*id,\s*name,\s*data/],
  ['pg-boss: fetch jobs', /SKIP LOCKED/i],
  ['pg-boss: complete jobs', /state = 'completed'/],
  ['pg-boss: fail jobs', /state = 'failed'|state = 'retry'/],
]

/**
 * Each backend's schedstat, held open: re-read from offset 0 (one pread), it is produced afresh.
 * Opening the file for every read (readFileSync) cost the measured process four system calls
 * per read, two reads per statement.
 */
const schedstats = new Map<number, number>()
const schedstatBuffer = Buffer.alloc(128)

/** A backend's CPU time so far, ns, or null (a remote server, or no /proc). */
function backendCpuNs(pid: number | null): number | null {
  if (!pid) return null
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      let fd = schedstats.get(pid)
      if (fd === undefined) schedstats.set(pid, (fd = openSync(`/proc/${pid}/schedstat`, 'r')))
      const n = readSync(fd, schedstatBuffer, 0, schedstatBuffer.length, 0)
      return Number(schedstatBuffer.toString('latin1', 0, n).split(' ')[0])
    } catch {
      // A backend gone (its pid perhaps reused since): open the file again, once.
      const fd = schedstats.get(pid)
      schedstats.delete(pid)
      if (fd === undefined) return null
      try {
        closeSync(fd)
      } catch {}
    }
  }
  return null
}

/** Rows in a pg result (or in each result of a multi-statement query). */
function rowsOf(result: unknown): number {
  if (Array.isArray(result)) return result.reduce((n: number, r) => n + rowsOf(r), 0)
  const rows = (result as { rows?: unknown[] } | undefined)?.rows
  return Array.isArray(rows) ? rows.length : 0
}

function categorize(text: string): string {
  for (const [name, pattern] of CATEGORIES) if (pattern.test(text)) return name
  const head = text.replace(/\s+/g, ' ').trim().slice(0, 24)
  return /pgboss\./.test(text) ? `pg-boss: other (${head}…)` : `other (${head}…)`
}

export class QueryProfile {
  readonly #stats = new Map<string, QueryStat>()
  #origin = performance.now()

  /** Forgets everything so far; times are reported relative to now. */
  reset(): void {
    this.#stats.clear()
    this.#origin = performance.now()
  }

  record(text: string, ms: number, cpuNs: number | null = null, rows = 0): void {
    const category = categorize(text)
    const at = performance.now() - this.#origin
    const stat = this.#stats.get(category) ?? { category, count: 0, totalMs: 0, maxMs: 0, rows: 0, backendCpuMs: cpuNs === null ? null : 0, firstEndMs: at, lastEndMs: at }
    stat.count += 1
    stat.rows += rows
    stat.totalMs += ms
    if (stat.backendCpuMs !== null) stat.backendCpuMs = cpuNs === null ? null : stat.backendCpuMs + cpuNs / 1e6
    stat.maxMs = Math.max(stat.maxMs, ms)
    stat.lastEndMs = at
    this.#stats.set(category, stat)
  }

  /** Every category, most total time first. */
  stats(): QueryStat[] {
    return [...this.#stats.values()]
      .map((s) => ({
        ...s,
        totalMs: Math.round(s.totalMs),
        maxMs: Math.round(s.maxMs * 10) / 10,
        backendCpuMs: s.backendCpuMs === null ? null : Math.round(s.backendCpuMs),
        firstEndMs: Math.round(s.firstEndMs),
        lastEndMs: Math.round(s.lastEndMs),
      }))
      .sort((a, b) => b.totalMs - a.totalMs)
  }

  /**
   * Times every statement any client of `pool` runs, including `pool.query`'s. `rewrite` may
   * change a statement's text before it is sent (what-if experiments only).
   */
  attach(pool: pg.Pool, rewrite?: (sql: string) => string): void {
    pool.on('connect', (client) => this.#wrap(client, rewrite))
  }

  #wrap(client: pg.PoolClient, rewrite?: (sql: string) => string): void {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown
    // A client runs one statement at a time, so its backend's CPU between the call and the
    // result is that statement's (queued calls on one client would blur this; the pools here
    // hand a client to one caller at a time).
    const pid = () => (client as unknown as { processID: number | null }).processID
    const record = (text: string, started: number, cpu: number | null, result?: unknown) => {
      const after = cpu === null ? null : backendCpuNs(pid())
      this.record(text, performance.now() - started, after === null || cpu === null ? null : after - cpu, rowsOf(result))
    }
    const wrapped = (...args: unknown[]): unknown => {
      const first = args[0]
      let text = typeof first === 'string' ? first : String((first as { text?: string } | undefined)?.text ?? '')
      if (rewrite) {
        text = rewrite(text)
        args[0] = typeof first === 'string' ? text : { ...(first as object), text }
      }
      const started = performance.now()
      const cpu = backendCpuNs(pid())
      const callbackAt = args.findIndex((a) => typeof a === 'function')
      if (callbackAt >= 0) {
        // pg's own Pool#query uses the callback form.
        const callback = args[callbackAt] as (error: unknown, result: unknown) => void
        args[callbackAt] = (error: unknown, result: unknown) => {
          record(text, started, cpu, result)
          callback(error, result)
        }
        return original(...args)
      }
      const result = original(...args)
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return (result as Promise<unknown>).then(
          (value) => (record(text, started, cpu, value), value),
          (error: unknown) => {
            record(text, started, cpu)
            throw error
          },
        )
      }
      return result
    }
    ;(client as unknown as { query: typeof wrapped }).query = wrapped
  }
}

/** A few aligned lines for the log: category, count, total and mean milliseconds. */
export function formatProfile(stats: QueryStat[], limit = 12): string {
  const lines = stats.slice(0, limit).map((s) => {
    const mean = s.count ? (s.totalMs / s.count).toFixed(2) : '-'
    const span = `${(s.firstEndMs / 1000).toFixed(1)}–${(s.lastEndMs / 1000).toFixed(1)} s`
    const cpu = s.backendCpuMs === null ? '' : `  backend CPU ${String(s.backendCpuMs).padStart(6)} ms`
    return `    ${s.category.padEnd(30)} ${String(s.count).padStart(8)} calls ${String(s.rows).padStart(8)} rows ${String(s.totalMs).padStart(9)} ms  mean ${mean.padStart(6)}  max ${String(s.maxMs).padStart(7)}${cpu}  at ${span}`
  })
  return lines.join('\n')
}
