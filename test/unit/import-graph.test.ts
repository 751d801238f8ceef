/**
 * The source tree's shape: no import cycles (type-only imports included, since a cycle of types
 * still ties two modules' meanings together), and no import of a module that is not there.
 * Reads src/ as text: no build.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { expect, test } from 'vitest'

const SRC = resolve(new URL('../../src', import.meta.url).pathname)

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

/** Each module's relative imports of modules (static and re-exports), as absolute .ts paths. */
function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>()
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8')
    const targets = [...text.matchAll(/^(?:import|export)[^'"]*?from\s+'(\.{1,2}\/[^']+)\.js'/gm)].map((m) => resolve(dirname(file), `${m[1]!}.ts`))
    edges.set(file, targets)
  }
  return edges
}

/** Every cycle, each as the list of modules on it (depth-first, reported once per back edge). */
function cycles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (node: string) => {
    state.set(node, 'open')
    stack.push(node)
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') found.push(stack.slice(stack.indexOf(next)).map((f) => relative(SRC, f)))
      else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(node, 'done')
  }
  for (const node of edges.keys()) if (!state.has(node)) visit(node)
  return found
}

test('src/ has no import cycle, type-only imports included', () => {
  const edges = graph()
  expect(edges.size).toBeGreaterThan(50)
  expect(cycles(edges)).toEqual([])
})

test('every relative import names a module that exists', () => {
  const edges = graph()
  const missing = [...edges].flatMap(([file, targets]) => targets.filter((t) => !edges.has(t)).map((t) => `${relative(SRC, file)} → ${relative(SRC, t)}`))
  expect(missing).toEqual([])
})
