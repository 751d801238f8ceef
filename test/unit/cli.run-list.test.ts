/** What `runs` prints: aligned columns, newest first, each run's state, and the command for the page before. */
import { expect, test } from 'vitest'
import { formatRunList } from '../../src/cli/run-list.js'
import type { RunSummary } from '../../src/records/runs.js'

const run = (runId: string, over: Partial<RunSummary> = {}): RunSummary => ({
  runId, trigger: 'cron', startedAt: new Date('2026-12-01T09:00:00Z'), sweepFinishedAt: null, finishedAt: new Date('2026-12-01T09:00:01.5Z'),
  processed: 1200, successful: 1199, failed: 1, retried: 3, skipped: 0, durationMs: 1500, latenessP50Ms: null, latenessP95Ms: null, error: null, subscriptionId: null, ...over,
})
const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'

test('one aligned line per run under a header, its state and duration, and the command that lists older runs', () => {
  const text = formatRunList([run(A), run(B, { trigger: 'single', finishedAt: null, durationMs: null, processed: 1, successful: 0, failed: 0, retried: 0 })], { limit: 2, trigger: undefined, before: undefined }, true)
  expect(text.split('\n')).toEqual([
    '2 runs, newest first:',
    'Started (UTC)             Trigger  State     Duration  Processed  Succeeded  Failed  Retried  Skipped  Run',
    `2026-12-01T09:00:00.000Z  cron     finished     1.5 s       1200       1199       1        3        0  ${A}`,
    `2026-12-01T09:00:00.000Z  single   running          -          1          0       0        0        0  ${B}`,
    `Older runs: pg-subscription-scheduler runs --before ${B} --limit 2`,
  ])
})

test('a run that ended in an error says so; the trigger asked for is named and kept in the next command; no command when none is older', () => {
  const query = { limit: 20, trigger: ['cron', 'manual'], before: A }
  const text = formatRunList([run(B, { error: 'sweep failed: connection terminated' })], query, true)
  expect(text).toMatch(/^1 run with trigger cron or manual, newest first, started before run 1{8}-/)
  expect(text).toMatch(/ cron {5}error /)
  expect(text).toMatch(new RegExp(`^Run ${B}: sweep failed: connection terminated$`, 'm'))
  expect(text).toMatch(new RegExp(`^Older runs: pg-subscription-scheduler runs --before ${B} --trigger cron,manual$`, 'm'))
  expect(formatRunList([run(B)], query, false)).not.toMatch(/Older runs/)
})

test('an empty page says whether there are no runs at all or none older', () => {
  expect(formatRunList([], { limit: 20, trigger: undefined, before: undefined }, false)).toBe('No runs yet.')
  expect(formatRunList([], { limit: 20, trigger: ['backfill'], before: undefined }, false)).toBe('No runs with trigger backfill yet.')
  expect(formatRunList([], { limit: 20, trigger: undefined, before: A }, false)).toBe(`No runs started before run ${A}.`)
})

test('--unfinished is named in the title, kept in the next command, and an empty page says every run has finished', () => {
  const query = { limit: 20, trigger: undefined, before: undefined, unfinished: true }
  const text = formatRunList([run(B, { finishedAt: null, durationMs: null })], query, true)
  expect(text).toMatch(/^1 unfinished run, newest first:$/m)
  expect(text).toMatch(new RegExp(`^Older runs: pg-subscription-scheduler runs --before ${B} --unfinished$`, 'm'))
  expect(formatRunList([], query, false)).toBe('No unfinished runs: every one has finished.')
  expect(formatRunList([], { ...query, trigger: ['cron'] }, false)).toBe('No unfinished runs with trigger cron: every one has finished.')
  expect(formatRunList([], { ...query, before: A }, false)).toBe(`No unfinished runs started before run ${A}.`)
})

test("a run of one subscription names it, in a column the page has only then; a page of one subscription's runs says whose", () => {
  const sub = '33333333-3333-4333-8333-333333333333'
  const page = formatRunList([run(A, { trigger: 'single', subscriptionId: sub }), run(B)], { limit: 2, trigger: undefined, before: undefined, subscription: sub }, true)
  const [title, header, first, second, older] = page.split('\n')
  expect(title).toBe(`2 runs of subscription ${sub}, newest first:`)
  expect(header).toMatch(/ Run +Subscription$/)
  expect(first).toMatch(new RegExp(`single .* ${A}  ${sub}$`))
  expect(second).toMatch(new RegExp(`${B}$`))
  expect(older).toBe(`Older runs: pg-subscription-scheduler runs --before ${B} --subscription ${sub} --limit 2`)
  expect(formatRunList([run(B)], { limit: 20, trigger: undefined, before: undefined }, false).split('\n')[1]).not.toContain('Subscription')
})
