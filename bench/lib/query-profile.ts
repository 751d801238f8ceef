/**
 * Where the database time goes: wraps every client a `pg.Pool` creates so each statement is
 * timed (from the call to its result, so time queued behind a busy connection counts) and
 * filed under a category read from its SQL. The scheduler and the baselines run on such a pool
 * in their child process, and report the breakdown next to their throughput.
 */
import type pg from 'pg'

export interface QueryStat {
  category: string
  count: number
  totalMs: number
  maxMs: number
  /** When the first and the last statement of the category ended, ms after the origin. */
  firstEndMs: number
  lastEndMs: number
}

/** First match wins. Categories name the library's statements and pg-boss's own. */
const CATEGORIES: Array<[string, RegExp]> = [
  ['tx BEGIN/COMMIT', /^\s*(BEGIN|COMMIT|ROLLBACK)\b/i],
  ['sweep: claim page', /WITH picked AS/],
  ['runs: counters/settle', /subscription_scheduler\.runs/],
  ['process: begin rows', /SET status = 'processing', attempts/],
  ['process: settle completions', /SET status = 'completed', last_run_at = \$4/],
  ['process: settle failures', /SET status = 'failed'|SET status = 'queued', lease_expires_at/],
  ['process: release skipped', /released AS/],
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

  record(text: string, ms: number): void {
    const category = categorize(text)
    const at = performance.now() - this.#origin
    const stat = this.#stats.get(category) ?? { category, count: 0, totalMs: 0, maxMs: 0, firstEndMs: at, lastEndMs: at }
    stat.count += 1
    stat.totalMs += ms
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
    const record = (text: string, started: number) => this.record(text, performance.now() - started)
    const wrapped = (...args: unknown[]): unknown => {
      const first = args[0]
      let text = typeof first === 'string' ? first : String((first as { text?: string } | undefined)?.text ?? '')
      if (rewrite) {
        text = rewrite(text)
        args[0] = typeof first === 'string' ? text : { ...(first as object), text }
      }
      const started = performance.now()
      const callbackAt = args.findIndex((a) => typeof a === 'function')
      if (callbackAt >= 0) {
        // pg's own Pool#query uses the callback form.
        const callback = args[callbackAt] as (error: unknown, result: unknown) => void
        args[callbackAt] = (error: unknown, result: unknown) => {
          record(text, started)
          callback(error, result)
        }
        return original(...args)
      }
      const result = original(...args)
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return (result as Promise<unknown>).finally(() => record(text, started))
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
    return `    ${s.category.padEnd(30)} ${String(s.count).padStart(8)} calls ${String(s.totalMs).padStart(9)} ms  mean ${mean.padStart(6)}  max ${String(s.maxMs).padStart(7)}  at ${span}`
  })
  return lines.join('\n')
}
