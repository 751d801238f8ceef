/**
 * Mistakes on the command line, as users make them: a misspelt command or flag, a negative
 * number, a missing value, an id that is no UUID, an instant without its zone. Each must exit 2 with a message that says what was wrong and what to
 * type instead, before the command connects anywhere (the database URL here leads nowhere).
 */
import { describe, expect, test } from 'vitest'
import { runCli, SLOW_MS } from './support/cli-process.js'

const NOWHERE = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }
const WORKER = ['--worker-url', 'http://127.0.0.1:9']
const ID = '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9'
const PAST = '2026-03-01T00:00:00Z'

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

  test('last on the line, it says so too; given twice, it says to give it once', async () => {
    await expectUsageErrors([
      [['upcoming', ID, '--count'], /^error: --count needs a value: write --count <\w+> \(or --count=<\w+>\)\.$/m],
      [['upcoming', ID, '--count', '2', '--count', '3'], /^error: --count is given twice: give it once\.$/m],
      [['upcoming', ID, '--count=2', '--count', '3'], /^error: --count is given twice: give it once\.$/m],
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

  test('the commands that steer one subscription are suggested too', async () => {
    await expectUsageErrors([
      [['skp', ID], /Unknown command skp; did you mean skip\?/],
      [['puase', ID], /Unknown command puase; did you mean pause\?/],
      [['resme', ID], /Unknown command resme; did you mean resume\?/],
      [['upcomming', ID], /Unknown command upcomming; did you mean upcoming\?/],
      [['reschedul', ID], /Unknown command reschedul; did you mean reschedule\?/],
      [['backfil', ID], /Unknown command backfil; did you mean backfill\?/],
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
      [['reschedule', ID, '--run-att', '07:00'], /Unknown option --run-att; did you mean --run-at\?/],
      [['backfill', ID, '--form', PAST, '--to', PAST, ...WORKER], /Unknown option --form; did you mean --from\?/],
      [['pause', ID, '--untl', PAST], /Unknown option --untl; did you mean --until\?/],
      // The id is an argument, not a flag.
      [['upcoming', ID, '--id', ID], /Unknown option --id\. Options of this command: --help, --count, --json, --verbose\./],
    ])
  })
})

describe('the commands that steer one subscription check what they are given, before connecting', { timeout: SLOW_MS }, () => {
  test('the id: missing, not a UUID, or more than one', async () => {
    await expectUsageErrors([
      [['upcoming'], /Missing required positional argument: ID/i],
      [['skip', 'nope'], /^error: <id> must be a subscription id, a UUID such as 3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9; got "nope"\.$/m],
      [['resume', ID, ID], /^error: resume takes one subscription id, got 2: resume <id>\.$/m],
    ])
  })

  test('a word given to a command that takes only flags', async () => {
    await expectUsageErrors([
      [['status', 'json'], /^error: status takes no arguments, only flags, but was given "json": a flag without its --, or a value without its flag\? See status --help\.$/m],
      [['migrate', 'now'], /^error: migrate takes no arguments, only flags, but was given "now"/m],
      [['run-now', ...WORKER, '4'], /^error: run-now takes flags and at most one subscription id \(a UUID\), but was given "4": a flag without its --/m],
    ])
  })

  test('instants without a zone or that do not exist, counts, empty values, nothing to change, no worker', async () => {
    await expectUsageErrors([
      [['pause', ID, '--until', 'tomorrow'], /^error: --until: expected a date and time with its zone, such as 2026-03-10T09:00:00Z/m],
      [['pause', ID, '--until', '2026-03-10T09:00:00'], /^error: --until: expected a date and time with its zone.*got "2026-03-10T09:00:00"\.$/m],
      [['reschedule', ID, '--anchor', '2026-02-30T09:00:00Z'], /^error: --anchor: expected a date and time with its zone.*got "2026-02-30T09:00:00Z": 2026-02-30 is not a day of the calendar\.$/m],
      [['reschedule', ID, '--ends-at='], /^error: --ends-at is empty: give a value, or none to clear it\.$/m],
      [['upcoming', ID, '--count', ''], /^error: --count is empty: give it a value, or leave it out/m],
      [['status', '--timezone='], /^error: --timezone is empty: give it a value, or leave it out/m],
      // A fleet's cron and zone must not fall back to the defaults because a variable was unset.
      [['worker', ...WORKER, '--cron', '', '--timezone', ''], /^error: --cron is empty: give it a value, or leave it out/m],
      [['reschedule', ID], /^error: Nothing to change: pass at least one of --run-at, --timezone, --anchor, --starts-at, --ends-at \(none clears one\)\.$/m],
      [['upcoming', ID, '--count', 'five'], /^error: --count: expected a whole number, got "five"\.$/m],
      [['upcoming', ID, '--count', '0'], /^error: --count: expected at least 1, got 0\.$/m],
      [['backfill', ID, '--to', PAST, ...WORKER], /^error: --from is required: backfill <id> --from <instant> --to <instant>\.$/m],
      [['backfill', ID, '--from', 'last week', '--to', PAST, ...WORKER], /^error: --from: expected a date and time with its zone/m],
      [['backfill', ID, '--from', PAST, '--to', PAST], /pass --worker-url http:\/\/worker:8080 or export SUBSCRIPTION_WORKER_URL/],
    ])
  })
})

describe('a value the library refuses names the flag or variable the user typed, once', { timeout: SLOW_MS }, () => {
  test('--worker-url, --cron, --timezone, and their variables', async () => {
    await expectUsageErrors(
      [
        [['run-now', '--worker-url', 'notaurl'], /^error: --worker-url: "notaurl" is not an absolute URL\. Pass the absolute http\(s\) URL of the worker/m],
        [['worker', '--worker-url', 'ftp://x'], /^error: --worker-url: "ftp:\/\/x" is not an http\(s\) URL\./m],
        [['worker', ...WORKER, '--cron', 'bogus'], /^error: --cron: "bogus" has 1 field; expected 5/m],
        [['status', '--timezone', 'Mars/Olympus'], /^error: --timezone: unknown time zone "Mars\/Olympus"\. Use an IANA name/m],
      ],
      // The option's name in the library, or a second line saying the same of the HTTP client's.
      /Invalid option|caused by|workerUrl|baseUrl/,
    )
    const fromEnv = await Promise.all([
      runCli(['run-now'], { ...NOWHERE, SUBSCRIPTION_WORKER_URL: 'notaurl' }),
      runCli(['run-now', '--worker-url', 'notaurl'], { ...NOWHERE, SUBSCRIPTION_WORKER_HEADERS: 'Authorization=Bearer%20x' }),
      runCli(['status'], { ...NOWHERE, SUBSCRIPTION_CRON: 'bogus' }),
    ])
    expect(fromEnv.map((r) => [r.code, r.stderr.trim().split('\n')])).toEqual([
      [2, [expect.stringMatching(/^error: SUBSCRIPTION_WORKER_URL: "notaurl" is not an absolute URL\./)]],
      [2, [expect.stringMatching(/^error: --worker-url: "notaurl" is not an absolute URL\./)]],
      [2, [expect.stringMatching(/^error: SUBSCRIPTION_CRON: "bogus" has 1 field/)]],
    ])
  })
})

describe('--help says what the command does', { timeout: SLOW_MS }, () => {
  test("the top level lists every exit code; worker's --cron and --timezone say they follow what is registered", async () => {
    const [top, worker] = await Promise.all([runCli(['--help'], NOWHERE), runCli(['worker', '--help'], NOWHERE)])
    expect(top.code).toBe(0)
    expect(top.stdout).toMatch(/4 skip, reschedule, run-now <id>, backfill: refused, busy/)
    expect(worker.code).toBe(0)
    const flag = (name: string) => worker.stdout.split('\n').find((line) => line.trimStart().startsWith(`--${name}`)) ?? ''
    for (const name of ['cron', 'timezone']) {
      expect(flag(name)).toMatch(/default: the one registered on the database/)
      expect(flag(name)).not.toMatch(/default UTC|default '0 9/)
    }
  })
})
