/**
 * Diagnosis: where a drain allocates. Reads a sampling heap profile that a bench child wrote
 * with every allocation counted, collected ones included (`BENCH_ALLOC_PROFILE=<file> npm run
 * bench -- --scenarios herd`), and prints the functions that allocated most, by their own
 * allocations, with their file; and the same summed by package (or by the library's file).
 *
 *   npx tsx bench/diagnose/alloc-summary.ts <file> [--subs 100000] [--top 30]
 *
 * With `--subs`, sizes are also given per subscription.
 */
import { readFileSync } from 'node:fs'
import { flag } from './support.js'

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number }
  selfSize: number
  children: ProfileNode[]
}

const file = process.argv[2]
if (!file || file.startsWith('--')) throw new Error('Usage: npx tsx bench/diagnose/alloc-summary.ts <profile.json> [--subs N] [--top N]')
const subs = flag('--subs', 0)
const top = flag('--top', 30)
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: ProfileNode }

const byFunction = new Map<string, number>()
const byPlace = new Map<string, number>()
let total = 0
const walk = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame
  if (node.selfSize > 0) {
    total += node.selfSize
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/')}:${lineNumber + 1}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize)
    byPlace.set(place(url), (byPlace.get(place(url)) ?? 0) + node.selfSize)
  }
  for (const child of node.children) walk(child)
}
walk(head)

/** The package an allocation is in, or the library's own file, or Node's internals. */
function place(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
  if (pkg) return pkg
  const own = /\/(src\/.*|bench\/.*)$/.exec(url)?.[1]
  if (own) return own
  return url.startsWith('node:') ? 'node internals' : url || '(VM, GC or native)'
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`
const perSub = (bytes: number) => (subs ? `, ${Math.round(bytes / subs)} B/sub` : '')
const print = (title: string, rows: Map<string, number>) => {
  console.log(title)
  for (const [key, bytes] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((bytes / total) * 100).toFixed(1).padStart(5)}%  ${mb(bytes).padStart(9)}${perSub(bytes)}  ${key}`)
  }
}
console.log(`allocated ${mb(total)} in all${perSub(total)}`)
print('by place:', byPlace)
print('by function:', byFunction)
