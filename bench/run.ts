/**
 * `npm run bench`: the scheduler's performance suite.
 *
 *   npm run bench                              # N = 100000; idle and scale go up to 1M rows
 *   npm run bench -- --smoke                   # tiny sizes for CI, well under two minutes
 *   npm run bench -- --n 20000 --scenarios throughput,latency
 *
 * Database: DATABASE_URL when set, otherwise an embedded PostgreSQL. Every measurement gets a
 * fresh clone (`pss_bench_<random>`) of one migrated template and drops it afterwards, so the
 * scheduler and its baselines are measured on the same server in the same run. Each scenario
 * prints its rows as it goes; a markdown table of all of them ends the run.
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism, cpus } from 'node:os'
import { parseArgs } from './lib/args.js'
import type { ScenarioName } from './lib/args.js'
import { createTemplate, openServer } from './lib/database.js'
import type { BenchDatabase, BenchServer } from './lib/database.js'
import { formatMs, Report } from './lib/report.js'
import { herd } from './scenarios/herd.js'
import { idle } from './scenarios/idle.js'
import { latency } from './scenarios/latency.js'
import { scale } from './scenarios/scale.js'
import { scaleOut } from './scenarios/scale-out.js'
import type { Scenario, ScenarioContext } from './scenarios/shared.js'
import { throughput } from './scenarios/throughput.js'

const SCENARIO_FUNCTIONS: Record<ScenarioName, Scenario> = { throughput, latency, idle, herd, scale, 'scale-out': scaleOut }

/** "e7dfe5b + 9 changed files in src/": what was measured, since src/ changes under the bench. */
function revision(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + ${dirty} changed files in src/` : ''}`
  } catch {
    return 'unknown revision'
  }
}

function header(server: BenchServer, smoke: boolean, n: number): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  return (
    `## pg-subscription-scheduler bench (${smoke ? 'smoke' : 'full'}, N=${n})\n\n` +
    `Library at ${revision()}. Node ${process.version}, ${availableParallelism()} cores (${cpu}), ${server.description}. ` +
    'Each side runs in its own child process on a fresh clone of one migrated database.'
  )
}

async function main(): Promise<void> {
  const config = parseArgs(process.argv.slice(2))
  const started = performance.now()
  console.log(`Opening the database server (${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL'})…`)
  const server = await openServer()
  let template: BenchDatabase | undefined
  let failures = 0
  const report = new Report(header(server, config.smoke, config.n))
  const drains: ScenarioContext['drains'] = new Map()
  try {
    template = await createTemplate(server)
    console.log(`Template ${template.name} ready. Scenarios: ${config.scenarios.join(', ')}.\n`)
    for (const name of config.scenarios) {
      const scenarioStarted = performance.now()
      console.log(`▶ ${name}`)
      try {
        await SCENARIO_FUNCTIONS[name]({ config, server, template, report, drains })
      } catch (error) {
        failures += 1
        console.error(`  ${name} failed:`, error)
        report.note(`${name}: failed with ${(error as Error).message}`)
      }
      console.log(`  (${name} took ${formatMs(performance.now() - scenarioStarted)})\n`)
    }
  } finally {
    await template?.drop().catch((error: unknown) => console.error(`Could not drop the template: ${(error as Error).message}`))
    await server.stop()
  }

  console.log(report.markdown())
  const missed = report.rows.filter((r) => r.met === false)
  console.log(
    `\nTotal ${formatMs(performance.now() - started)}; ${report.rows.filter((r) => r.met !== undefined).length} targets, ` +
      `${missed.length} missed${missed.length ? `: ${missed.map((r) => `${r.scenario}/${r.case}`).join('; ')}` : ''}.`,
  )
  // Missed targets are findings, not failures; a scenario that could not run is a failure.
  if (failures > 0) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
