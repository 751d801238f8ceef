/**
 * Diagnosis: what validating a time zone costs, per job.
 *
 *   npx tsx bench/diagnose/zone-validation.ts [--calls 20000]
 *
 * src/next-run.ts `isValidTimeZone()` calls luxon's `IANAZone.isValidZone()`, which builds a
 * new `Intl.DateTimeFormat` and formats with it on every call. process-jobs.ts calls it once
 * per job and `computeNextRunAt()` once more. On Node 24 (V8 13.6, ICU 78) each such call costs
 * tens of microseconds of CPU and leaves native memory behind that no GC returns, so a
 * long-lived scheduler's RSS grows with every subscription it processes. Memoising the answer
 * per zone name (the set of zones is tiny) removes both.
 */
import { computeNextRunAt, isValidTimeZone } from '../../src/schedule/next-run.js'
import { flag } from './support.js'

const rssMb = () => process.memoryUsage.rss() / 1048576

function measure(label: string, calls: number, fn: (i: number) => void): string {
  const rssBefore = rssMb()
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (let i = 0; i < calls; i++) fn(i)
  const ms = performance.now() - started
  const used = process.cpuUsage(cpu)
  const cpuUs = (used.user + used.system) / calls
  const grown = rssMb() - rssBefore
  return `| ${label} | ${calls} | ${cpuUs.toFixed(1)} µs | ${((ms * 1000) / calls).toFixed(1)} µs | ${grown.toFixed(0)} MB (${((grown * 1024) / calls).toFixed(1)} KB/call) |`
}

function main(): void {
  const calls = flag('--calls', 20_000)
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo']
  const cache = new Map<string, boolean>()
  const memoised = (zone: string) => {
    let valid = cache.get(zone)
    if (valid === undefined) cache.set(zone, (valid = isValidTimeZone(zone)))
    return valid
  }
  const after = new Date('2027-03-01T08:00:00Z')
  const now = new Date('2027-03-01T08:00:05Z')

  const rows = [
    // Memoised first: the leak of the others would otherwise be counted against it.
    measure('memoised isValidTimeZone (proposed)', calls, (i) => memoised(zones[i % zones.length]!)),
    measure('isValidTimeZone (src/next-run.ts)', calls, (i) => isValidTimeZone(zones[i % zones.length]!)),
    measure('computeNextRunAt, daily (validates again)', calls, (i) =>
      computeNextRunAt({ frequency: 'daily', timezone: zones[i % zones.length]!, runAt: '09:00', after, now }),
    ),
  ]
  console.log(`Node ${process.version}, V8 ${process.versions.v8}, ICU ${process.versions.icu}\n`)
  console.log('| what | calls | CPU per call | wall per call | RSS growth |\n|---|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
  globalThis.gc?.()
  console.log(`\nRSS at the end: ${rssMb().toFixed(0)} MB (heap used ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB).`)
}

main()
