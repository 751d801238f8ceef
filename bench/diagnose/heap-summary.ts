/**
 * Diagnosis: what fills the scheduler's heap during a drain.
 *
 *   BENCH_HEAP_SNAPSHOT_AT=20 npm run bench -- --n 30000 --scenarios herd   # prints the file
 *   npx tsx bench/diagnose/heap-summary.ts <file.heapsnapshot> [--top 25]
 *
 * Sums the self size and count of every object in a V8 heap snapshot by its type and
 * constructor name, largest first. Self sizes only (no retained sizes): enough to see which
 * kind of object a drain accumulates, e.g. one AbortSignal per worker call kept alive for the
 * call's whole timeout.
 */
import { readFileSync } from 'node:fs'
import { flag } from './support.js'

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

function main(): void {
  const file = process.argv[2]
  if (!file || file.startsWith('--')) {
    console.error('Usage: npx tsx bench/diagnose/heap-summary.ts <file.heapsnapshot> [--top 25]')
    process.exit(2)
  }
  const top = flag('--top', 25)
  const data = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
  const fields = data.snapshot.meta.node_fields
  const types = data.snapshot.meta.node_types[0]
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const groups = new Map<string, { count: number; bytes: number }>()
  let total = 0
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt]!] ?? '?'
    // Strings and code are grouped by type; objects by constructor name.
    const name = type === 'object' || type === 'closure' ? data.strings[data.nodes[i + nameAt]!] ?? '?' : ''
    const key = name ? `${type}: ${name}` : type
    const size = data.nodes[i + sizeAt]!
    const group = groups.get(key) ?? { count: 0, bytes: 0 }
    group.count += 1
    group.bytes += size
    groups.set(key, group)
    total += size
  }
  const rows = [...groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)
  console.log(`${file}: ${(total / 1048576).toFixed(1)} MB in ${(data.nodes.length / width).toLocaleString('en-US')} objects\n`)
  console.log('| type: constructor | count | self size |\n|---|---:|---:|')
  for (const [key, g] of rows) console.log(`| ${key} | ${g.count.toLocaleString('en-US')} | ${(g.bytes / 1048576).toFixed(1)} MB |`)
}

main()
