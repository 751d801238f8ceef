/**
 * What `runs` prints for people: one line per run, newest first, in columns, the errors of
 * those that ended in one, and the command that lists the page before when there is one. A pure function of the library's run summaries,
 * so that the wording is tested without a database.
 */
import type { RunSummary } from '../index.js'
import { formatDuration } from './format.js'

/** What the page was asked for: repeated in the command that lists the next page back. */
export interface RunListQuery {
  limit: number
  trigger: string[] | undefined
  before: string | undefined
  /** Only the runs not finished yet. */
  unfinished?: boolean | undefined
  /** Only the runs of this subscription (its runs on demand and backfills). */
  subscription?: string | undefined
}

function stateOf(run: RunSummary): string {
  if (run.error) return 'error'
  return run.finishedAt ? 'finished' : 'running'
}

const COLUMNS = ['Started (UTC)', 'Trigger', 'State', 'Duration', 'Processed', 'Succeeded', 'Failed', 'Retried', 'Skipped', 'Run'] as const
/** Counts and durations line up on the right. */
const RIGHT = new Set<string>(['Duration', 'Processed', 'Succeeded', 'Failed', 'Retried', 'Skipped'])

function cellsOf(run: RunSummary): string[] {
  const duration = run.finishedAt ? formatDuration(run.durationMs) : '-'
  return [run.startedAt.toISOString(), run.trigger, stateOf(run), duration, ...[run.processed, run.successful, run.failed, run.retried, run.skipped].map(String), run.runId, run.subscriptionId ?? '']
}

/** `more`: older runs than these exist (or may: a full page of 1000 cannot tell). */
export function formatRunList(runs: RunSummary[], query: RunListQuery, more: boolean): string {
  const which = (query.trigger ? ` with trigger ${query.trigger.join(' or ')}` : '') + (query.subscription ? ` of subscription ${query.subscription}` : '')
  const kind = query.unfinished ? 'unfinished ' : ''
  if (runs.length === 0) {
    if (query.before) return `No ${kind}runs${which} started before run ${query.before}.`
    return query.unfinished ? `No unfinished runs${which}: every one has finished.` : `No runs${which} yet.`
  }
  // A run of one subscription (on demand, a backfill) names it, in a column of its own when the page has one.
  const columns: string[] = [...COLUMNS, ...(runs.some((run) => run.subscriptionId) ? ['Subscription'] : [])]
  const rows = [columns, ...runs.map((run) => cellsOf(run).slice(0, columns.length))]
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  const lines = rows.map((row) => row.map((cell, i) => (RIGHT.has(columns[i]!) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd())
  const title = `${runs.length} ${kind}run${runs.length === 1 ? '' : 's'}${which}, newest first${query.before ? `, started before run ${query.before}` : ''}:`
  const out = [title, ...lines]
  // A run's error is too long for a column: each under the table, by run.
  for (const run of runs) if (run.error) out.push(`Run ${run.runId}: ${run.error}`)
  if (more) {
    const flags = [`--before ${runs.at(-1)!.runId}`, query.trigger ? `--trigger ${query.trigger.join(',')}` : '', query.subscription ? `--subscription ${query.subscription}` : '', query.unfinished ? '--unfinished' : '', query.limit !== 20 ? `--limit ${query.limit}` : '']
    out.push(`Older runs: pg-subscription-scheduler runs ${flags.filter(Boolean).join(' ')}`)
  }
  return out.join('\n')
}
