/**
 * Mistakes on the command line, as users make them: a misspelt command or flag, a negative
 * number, a missing value. Each must exit 2 with a message that says what was wrong and what to
 * type instead, before the command connects anywhere (the database URL here leads nowhere).
 */
import { describe, expect, test } from 'vitest'
import { runCli, SLOW_MS } from './support/cli-process.js'

const NOWHERE = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }
const WORKER = ['--worker-url', 'http://127.0.0.1:9']

type Case = [args: string[], message: RegExp | RegExp[]]

/** Runs the cases a few at a time (each is two Node processes), and checks exit 2 and the message. */
async function expectUsageErrors(cases: Case[], notMessage?: RegExp) {
  const results: Awaited<ReturnType<typeof runCli>>[] = []
  for (let i = 0; i < cases.length; i += 3) {
    results.push(...(await Promise.all(cases.slice(i, i + 3).map(([args]) => runCli(args, NOWHERE)))))
  }
  for (const [i, [args, messages]] of cases.entries()) {
    const { code, stdout, stderr } = results[i]!
    expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: '' })
    for (const message of [messages].flat()) expect(stderr, args.join(' ')).toMatch(message)
    if (notMessage) expect(stderr, args.join(' ')).not.toMatch(notMessage)
    expect(stderr).not.toMatch(/^\s+at /m)
  }
}

describe('a negative number gets the option its own message, exit 2', { timeout: SLOW_MS }, () => {
  test('--shutdown-timeout and --concurrency, as `--flag -5` and as `--flag=-5`, on every command that takes them', async () => {
    await expectUsageErrors(
      [
        [['run-now', ...WORKER, '--shutdown-timeout', '-5'], /--shutdown-timeout: expected at least 0, got -5\./],
        [['run-now', ...WORKER, '--shutdown-timeout=-5'], /--shutdown-timeout: expected at least 0, got -5\./],
        [['worker', ...WORKER, '--shutdown-timeout', '-5'], /--shutdown-timeout: expected at least 0, got -5\./],
        [['run-now', ...WORKER, '--concurrency', '-5'], /--concurrency: expected at least 1, got -5\./],
        [['worker', ...WORKER, '--concurrency=-5'], /--concurrency: expected at least 1, got -5\./],
        [['run-now', ...WORKER, '--concurrency', '-1.5'], /--concurrency: expected a whole number, got "-1\.5"\./],
      ],
      /Unknown option/,
    )
  })
})

describe('a flag that needs a value', { timeout: SLOW_MS }, () => {
  test('followed by another flag says so', async () => {
    await expectUsageErrors([
      [['worker', '--worker-url', '--cron', '0 9 * * *'], /--worker-url needs a value, but --cron follows it: write --worker-url <url>/],
    ])
  })
})

describe('a misspelt command or flag gets the closest one, exit 2', { timeout: SLOW_MS }, () => {
  /** The list of commands, whatever else joins it. */
  const COMMANDS = /Commands: (?=[^\n]*\bmigrate\b)(?=[^\n]*\brun-now\b)(?=[^\n]*\bstatus\b)(?=[^\n]*\bworker\b)(?=[^\n]*\bdemo\b)[a-z, -]+\./

  test('an unknown command names itself, the closest command and the list', async () => {
    await expectUsageErrors([
      [['stauts'], [/^error: Unknown command stauts; did you mean status\? Commands: /m, COMMANDS]],
      [['wroker', ...WORKER], /Unknown command wroker; did you mean worker\?/],
      [['runnow'], /Unknown command runnow; did you mean run-now\?/],
    ])
  })

  test('an unknown command close to none gets the list alone', async () => {
    await expectUsageErrors([[['bogus'], COMMANDS]], /did you mean/)
  })

  test('an unknown flag gets the closest flag of its command', async () => {
    await expectUsageErrors([
      [['status', '--jsn'], /Unknown option --jsn; did you mean --json\?/],
      [['run-now', ...WORKER, '--concurency', '4'], /Unknown option --concurency; did you mean --concurrency\?/],
      [['worker', ...WORKER, '--shutdown-timeot=5'], /Unknown option --shutdown-timeot; did you mean --shutdown-timeout\?/],
    ])
  })
})
