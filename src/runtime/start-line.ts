/**
 * The line an instance logs once it has started: which version it runs, what it schedules, and
 * what it calls with, so that a rolling deploy's logs say which instance runs with what.
 */
import type { ResolvedOptions } from '../config/options.js'

type StartLineOptions = Pick<ResolvedOptions, 'schedule' | 'work' | 'cron' | 'timezone' | 'concurrency' | 'maxConcurrentCalls' | 'maxCallsPerSecond'>

export function startLine(options: StartLineOptions, pkg: { name: string; version: string }): string {
  const started = `Started (${pkg.name} ${pkg.version})`
  const calls = options.work ? `concurrency ${options.concurrency}${fleetLimits(options)}` : 'calling no worker (work: false: other instances make the calls)'
  return options.schedule
    ? `${started}: cron '${options.cron}' (${options.timezone}), ${calls}.`
    : `${started}, ${options.work ? 'processing only' : 'steering only'} (schedule: false: sweeps run on the schedule another instance registered), ${calls}.`
}

/** The limits every instance on the queue shares, as this instance sets them: none unless given. */
function fleetLimits(options: StartLineOptions): string {
  const limits = [
    options.maxConcurrentCalls !== null ? `at most ${options.maxConcurrentCalls} calls at once` : '',
    options.maxCallsPerSecond !== null ? `at most ${options.maxCallsPerSecond} calls a second` : '',
  ].filter(Boolean)
  return limits.length > 0 ? ` (across instances: ${limits.join(', ')})` : ''
}
