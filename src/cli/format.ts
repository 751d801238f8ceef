/**
 * What `run-now` and `status` print for people. Pure functions of the library's own shapes, so
 * the wording is tested without a database.
 */
import type { InstanceInfo, RunSummary, SchedulerStatus } from '../index.js'
import { scheduleLines } from './schedule-view.js'
import type { GivenSchedule } from './schedule-view.js'
import type { FailedSubscription } from './watch-run.js'
import { oneLine } from '../printable.js'

export function formatDuration(ms: number | null): string {
  if (ms === null) return 'unknown'
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}

export function formatSummary(summary: RunSummary, failures: FailedSubscription[]): string {
  const lines = [`Run ${summary.runId} finished in ${formatDuration(summary.durationMs)}`]
  const rows: [string, number][] = [
    ['processed', summary.processed],
    ['successful', summary.successful],
    ['failed', summary.failed],
    ['retried', summary.retried],
    ['skipped', summary.skipped],
  ]
  const width = String(Math.max(...rows.map(([, n]) => n))).length
  for (const [label, n] of rows) lines.push(`  ${label.padEnd(10)}  ${String(n).padStart(width)}`)
  if (summary.processed === 0) lines.push('Nothing was due.')
  if (summary.error) lines.push(`The sweep reported an error: ${summary.error}`)
  if (summary.failed > 0) lines.push(...failureLines(summary.failed, failures))
  return lines.join('\n')
}

/** Where a CLI user reads the failures a summary cannot list: the commands, not the API. */
const MORE_FAILURES = '`failing` lists the subscriptions whose last attempt failed, with their errors; `show <id>`, the failed attempts of one'

/** Never a header over an empty list: when none can be listed, the count and where to look. */
function failureLines(failed: number, failures: FailedSubscription[]): string[] {
  const lines: string[] = []
  if (failures.length === 0) {
    lines.push(`${failed} subscription${failed === 1 ? '' : 's'} failed; their errors cannot be listed here.`)
    lines.push(`${MORE_FAILURES}.`)
  } else {
    lines.push(failures.length < failed ? `Failed subscriptions (${failures.length} of ${failed} listed):` : 'Failed subscriptions:')
    for (const f of failures) lines.push(`  ${f.subscriptionId}  attempt ${f.attempt}${f.paused ? ' (now paused after failing in a row)' : ''}: ${oneLine(f.error)}`)
    if (failures.length < failed) lines.push(`The others: ${MORE_FAILURES}.`)
  }
  if (failures.some((f) => f.paused)) {
    lines.push(
      'A sweep tries them again once their delay has passed (`failing` says when), except those paused after failing in a row (pauseAfterConsecutiveFailures), which no sweep takes: ' +
        '`retry-failed <id>` retries one now, `resume <id>` leaves its failed slot to the next sweep; `failing` lists them all.',
    )
  } else {
    lines.push('A sweep tries them again once their delay has passed (retry.failedSlotDelaySeconds; `failing` says when), `retry-failed` at once; `status` counts them as failed until then.')
  }
  return lines
}

function formatRun(run: RunSummary): string {
  const state = run.finishedAt ? `finished in ${formatDuration(run.durationMs)}` : 'still running'
  return `${run.runId} (${run.trigger}), started ${run.startedAt.toISOString()}, ${state}: ` +
    `${run.processed} processed, ${run.successful} succeeded, ${run.failed} failed, ${run.retried} retried, ${run.skipped} skipped` +
    (run.error ? `; error: ${run.error}` : '')
}

/** Runs still going, when any: the oldest may be a big one still settling behind later, finished ones. */
function unfinishedLines({ unfinishedRuns: { count, oldest }, lastRun, lastSweep }: SchedulerStatus): string[] {
  if (count === 0 || !oldest) return []
  const above = oldest.runId === lastRun?.runId ? 'the last run above' : oldest.runId === lastSweep?.runId ? 'the last sweep above' : formatRun(oldest)
  return [`Unfinished      ${count === 1 ? `1 run: ${above}` : `${count} runs, the oldest: ${above}`}`]
}

/**
 * The instances by state, silent ones named: they want a look. None reported under this queue
 * prefix while others are in use (`otherPrefixes`): the environment lacks the instances' prefix.
 */
export function instancesLine(instances: InstanceInfo[] | null, otherPrefixes: readonly string[] = []): string {
  if (instances === null) return "Instances       not listed: this database's tables are older than this CLI (`migrate`, or the first instance of this version to start, updates them)"
  if (instances.length === 0 && otherPrefixes.length > 0) {
    return `Instances       none under this queue prefix; instances here have used ${otherPrefixes.map((p) => `'${p}'`).join(', ')}: set SUBSCRIPTION_QUEUE_PREFIX (and SUBSCRIPTION_BOSS_SCHEMA) to theirs, and this status shows them`
  }
  if (instances.length === 0) return 'Instances       none has reported (none started, or only versions from before instances reported)'
  const count = (state: InstanceInfo['state']) => instances.filter((i) => i.state === state)
  const running = count('running')
  const parts = [`${running.length} running`]
  // Of running instances only: a silent one's last report is stale, breaker and all.
  const held = running.filter((i) => i.breaker !== null && i.breaker.state !== 'closed')
  if (held.length > 0) {
    const since = new Date(Math.min(...held.map((i) => i.breaker!.openSince?.getTime() ?? Date.now())))
    const which = held.length === running.length ? (running.length === 1 ? 'its' : 'every one\'s') : `${held.length} of them with ${held.length === 1 ? 'its' : 'their'}`
    parts[0] += ` (${which} circuit breaker open since ${since.toISOString()}: calls held back, the worker failing or down)`
  }
  const silent = count('silent')
  if (silent.length > 0) {
    const named = silent.slice(0, 3).map((i) => `${i.host} pid ${i.pid}`).join(', ') + (silent.length > 3 ? ', …' : '')
    parts.push(`${silent.length} silent (${named}: no report for over a minute and no stop, killed or cut off from the database)`)
  }
  // Kept a day: one-off CLI commands (run-now, retry-failed, backfill) among them.
  if (count('stopped').length > 0) parts.push(`${count('stopped').length} stopped in the last day`)
  return `Instances       ${parts.join(', ')}`
}

/**
 * The calls the running instances make, and the shared limits, when set, with how much of them is
 * in use: an operator sees that a limit holds the fleet back (calls waiting, the limit reached).
 */
export function callLines({ limits }: SchedulerStatus, instances: InstanceInfo[] | null = null): string[] {
  if (limits === null) return ["Calls           not shown: this database's tables are older than this CLI (`migrate`, or the first instance of this version to start, updates them)"]
  // The running instances that call the worker and say their limits (this version's): a limit
  // set once stays in the database after a deploy drops it, so say who is held to it.
  const running = (instances ?? []).filter((i) => i.state === 'running' && i.works)
  const calling = running.filter((i) => i.calls !== null)
  const older = running.length - calling.length
  const silent = older === 0 ? '' : `; ${older} running ${older === 1 ? 'instance' : 'instances'} of an older version ${older === 1 ? 'reports' : 'report'} none`
  const lines = [`Calls           ${limits.callsInFlight} in flight, ${limits.callsWaiting} waiting (the running instances' last reports${silent})`]
  const without = (limit: 'maxConcurrentCalls' | 'maxCallsPerSecond') => {
    const free = calling.filter((i) => i[limit] === null).length
    return free === 0 ? '' : `; ${free} of ${calling.length} running instances calling the worker not held to it`
  }
  const parts: string[] = []
  if (limits.maxConcurrentCalls !== null) {
    // Under a rate too, a call holds its permit while it waits its turn (up to about 2 s).
    const waitingTurn = limits.maxCallsPerSecond !== null && limits.bookedAheadMs > 0 ? ', some by calls waiting their turn under the rate' : ''
    const full = limits.permitsHeld >= limits.maxConcurrentCalls ? `: every permit held${waitingTurn}` : ''
    parts.push(`maxConcurrentCalls ${limits.maxConcurrentCalls} (${limits.permitsHeld} held${full}${without('maxConcurrentCalls')})`)
  }
  if (limits.maxCallsPerSecond !== null) {
    const ahead = limits.bookedAheadMs > 0 ? `start times booked ${(limits.bookedAheadMs / 1000).toFixed(1)} s ahead` : 'none booked ahead'
    parts.push(`maxCallsPerSecond ${limits.maxCallsPerSecond} (${ahead}${without('maxCallsPerSecond')})`)
  }
  if (parts.length > 0) lines.push(`Call limits     ${parts.join(', ')}`)
  return lines
}

/**
 * `given`: the schedule fields set by flags or environment; schedule-view.ts says how they show.
 * `zonePublished`: the zone not given is the one the scheduling instances published.
 * `instances`: listInstances()'s, for their line; null when the tables are too old to list them.
 * `otherPrefixes`: the queue prefixes other schedulers used here, said when none reported under this one.
 */
export function formatStatus(status: SchedulerStatus, given: GivenSchedule, zonePublished = false, instances?: InstanceInfo[] | null, otherPrefixes: readonly string[] = []): string {
  const counts = Object.entries(status.counts)
  const width = Math.max(...counts.map(([, n]) => String(n).length), 1)
  const enrols = status.schedule.autoEnroll ? 'the next sweep enrols them' : 'autoEnroll is off: `enroll <id>` or `enroll --all` enrols them'
  const unenrolled = status.unenrolled > 0 ? ` (${status.unenrolled} more not enrolled yet: ${enrols})` : ''
  const lines = [`Subscriptions   ${status.total} total, ${status.due} due now${unenrolled}`]
  // An operator's pause of every call is the first thing the next operator must see.
  if (status.callsPaused) lines.unshift(`CALLS PAUSED    on every instance since ${status.callsPaused.pausedAt.toISOString()}${status.callsPaused.note ? ` (${status.callsPaused.note})` : ''}: no sweep claims, nobody is called; \`resume-calls\` lifts it`)
  for (const [name, n] of counts) {
    // Paused by an operator, or after failing in a row: the second want a look.
    let why = name === 'paused' && status.pausedForFailures > 0 ? ` (${status.pausedForFailures} after failing in a row: retry-failed, the dashboard's Retry failed or POST /failed/retry retries them)` : ''
    // A run that failed them drops out of "Last run" at the next sweep: the count says where to look.
    if (name === 'failed' && n > 0) why = ' (their last slot failed: `failing` lists each with its error and when a sweep tries it again; `retry-failed` tries them now)'
    lines.push(`  ${name.padEnd(12)}  ${String(n).padStart(width)}${why}`)
  }
  const stranded = status.queue.stranded > 0 ? `, ${status.queue.stranded} stranded (their jobs failed for good: see failing, or run-now <id>)` : ''
  lines.push(`Queue           ${status.queue.waiting} waiting, ${status.queue.active} active${stranded}`)
  if (instances !== undefined) lines.push(instancesLine(instances, otherPrefixes))
  lines.push(...callLines(status, instances))
  lines.push(`Last run        ${status.lastRun ? formatRun(status.lastRun) : 'none yet'}`)
  // A retry, one subscription or a backfill ran since: the sweep of everything due is news too.
  if (status.lastSweep && status.lastSweep.runId !== status.lastRun?.runId) lines.push(`Last sweep      ${formatRun(status.lastSweep)}`)
  lines.push(...unfinishedLines(status))
  lines.push(...scheduleLines(status, given, zonePublished))
  return lines.join('\n')
}
