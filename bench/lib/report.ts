/**
 * Results: every measurement becomes a {@link Row}, printed as soon as it is known, and all rows
 * end up in one markdown table. Rows that carry a target say whether it was met.
 */
import type { ProcessMetrics } from './child.js'
import { formatProfile } from './query-profile.js'

export interface Row {
  scenario: string
  case: string
  n: number | null
  /** Main measured value, already formatted: "3 210 subs/s", "1.8 ms". */
  value: string
  /** Everything else worth reading: wall time, RSS, CPU share, plan node. */
  detail: string
  /** The issue's target, when the row has one: ">= 0.9x", "<= 256 MB". */
  target?: string
  /** Whether the target was met; undefined when there is none. */
  met?: boolean
}

export class Report {
  readonly rows: Row[] = []
  readonly notes: string[] = []

  constructor(readonly header: string) {}

  add(row: Row): void {
    this.rows.push(row)
    const verdict = row.met === undefined ? '' : row.met ? '  [target met]' : '  [TARGET MISSED]'
    const target = row.target ? `  target ${row.target}` : ''
    console.log(`  ${row.scenario.padEnd(10)} ${row.case.padEnd(30)} ${formatCount(row.n).padStart(9)}  ${row.value.padEnd(18)} ${row.detail}${target}${verdict}`)
  }

  note(text: string): void {
    this.notes.push(text)
  }

  markdown(): string {
    const head = '| scenario | case | N | result | detail | target | met |\n|---|---|---:|---:|---|---|:---:|'
    const body = this.rows.map((r) =>
      `| ${r.scenario} | ${r.case} | ${formatCount(r.n)} | ${r.value} | ${escape(r.detail)} | ${escape(r.target ?? '')} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`,
    )
    const notes = this.notes.length ? `\n\n${this.notes.map((n) => `- ${n}`).join('\n')}` : ''
    return `${this.header}\n\n${head}\n${body.join('\n')}${notes}`
  }
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|')
}

export function formatCount(n: number | null): string {
  if (n === null) return ''
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000}k`
  return String(n)
}

export function formatRate(perSecond: number, unit: string): string {
  return `${Math.round(perSecond).toLocaleString('en-US')} ${unit}/s`
}

export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`
  if (ms >= 10) return `${ms.toFixed(0)} ms`
  return `${ms.toFixed(2)} ms`
}

export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(2)}x`
}

/** "wall 31.2 s, peak RSS 142 MB (…), CPU 0.71 core, ELU 0.83, loop delay p99 12 ms": what a child says about itself. */
export function describeProcess(wallMs: number, metrics: ProcessMetrics, processed?: number): string {
  const machine = metrics.machineCpuMs !== null && processed ? `, machine CPU ${Math.round((metrics.machineCpuMs * 1000) / processed)} µs/sub` : ''
  return (
    `wall ${formatMs(wallMs)}, peak RSS ${Math.round(metrics.maxRssMb)} MB (at start ${Math.round(metrics.startRssMb)}, ` +
    `during run ${Math.round(metrics.runPeakRssMb)}, heap ${Math.round(metrics.runPeakHeapMb)}), ` +
    `CPU ${metrics.cpuShare.toFixed(2)} core, ELU ${metrics.eventLoopUtilization.toFixed(2)}, ` +
    `loop delay p99 ${metrics.eventLoopDelay.p99Ms} ms (max ${metrics.eventLoopDelay.maxMs}; GC ${metrics.gc.count} pauses, ` +
    `${metrics.gc.totalMs} ms, longest ${metrics.gc.maxMs})${machine}`
  )
}

/** Prints where a child's database time went, under its row. */
export function printProfile(label: string, metrics: ProcessMetrics): void {
  if (metrics.queries.length === 0) return
  console.log(`    database time of ${label} (per statement category; concurrent statements overlap):`)
  console.log(formatProfile(metrics.queries))
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
