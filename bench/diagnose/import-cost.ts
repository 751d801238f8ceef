/**
 * Diagnosis: what loading the library costs a process before it does anything.
 *
 *   npx tsx bench/diagnose/import-cost.ts
 *
 * Each module is imported in a fresh plain `node` process (no tsx), which then prints its peak
 * RSS and the time the import took. The scheduler's child starts at ~250 MB RSS while the
 * pg-boss fan-out's starts at ~90 MB: the difference is drizzle-orm, which src/migrate.ts
 * (drizzle-orm/node-postgres, for the migrator) and src/schema.ts (drizzle-orm/pg-core, for two
 * constants that migrate.ts and status.ts read) load at import time.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const REPEATS = 3

const SPECIFIERS = [
  'pg',
  'pg-boss',
  'ky',
  'luxon',
  'drizzle-orm',
  'drizzle-orm/pg-core',
  'drizzle-orm/node-postgres',
  'drizzle-orm/node-postgres/migrator',
  ...(existsSync(`${ROOT}dist/index.js`) ? ['./dist/index.js'] : []),
]

interface Sample {
  peakMb: number
  ms: number
}

function importOnce(specifier: string): Sample | string {
  const code = `
    const started = performance.now()
    await import(${JSON.stringify(specifier)})
    const ms = performance.now() - started
    console.log(JSON.stringify({ peakMb: process.resourceUsage().maxRSS / 1024, ms }))`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' })
  if (child.status !== 0) return child.stderr.split('\n').find((line) => line.includes('Error')) ?? `exit ${child.status}`
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as Sample
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

function main(): void {
  const bare = importOnce('node:os') as Sample
  console.log(`Plain node ${process.version}; an empty process peaks at ${bare.peakMb.toFixed(0)} MB. Median of ${REPEATS} fresh processes each.\n`)
  console.log('| import | peak RSS | import time |\n|---|---:|---:|')
  for (const specifier of SPECIFIERS) {
    const samples: Sample[] = []
    let error: string | undefined
    for (let i = 0; i < REPEATS && !error; i++) {
      const sample = importOnce(specifier)
      if (typeof sample === 'string') error = sample
      else samples.push(sample)
    }
    if (error) {
      console.log(`| ${specifier} | failed: ${error.slice(0, 80)} | |`)
      continue
    }
    console.log(`| ${specifier} | ${median(samples.map((s) => s.peakMb)).toFixed(0)} MB | ${median(samples.map((s) => s.ms)).toFixed(0)} ms |`)
  }
}

main()
