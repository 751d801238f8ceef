#!/usr/bin/env node
/**
 * The `pg-subscription-scheduler` command. Reads DATABASE_URL.
 *
 * Exit codes: 0 success; 1 runtime failure; 2 usage or configuration error; 3 `run-now`,
 * `retry-failed` or `backfill` finished but at least one subscription (or slot) failed; 4
 * refused while busy (see EXIT); 130 one of those three interrupted.
 *
 * citty's `runMain` exits 1 on every error, usage errors included, and prints stacks; this
 * entry runs the same `runCommand` itself to keep the exit codes above.
 */
import { defineCommand, renderUsage, runCommand } from 'citty'
import type { CommandDef } from 'citty'
import pkg from '../../package.json' with { type: 'json' }
import backfill from './commands/backfill.js'
import { pauseCalls, resumeCalls } from './commands/calls.js'
import demo from './commands/demo.js'
import enroll from './commands/enroll.js'
import failing from './commands/failing.js'
import list from './commands/list.js'
import migrate from './commands/migrate.js'
import pause from './commands/pause.js'
import reschedule from './commands/reschedule.js'
import resume from './commands/resume.js'
import erase from './commands/erase.js'
import retryFailed from './commands/retry-failed.js'
import runNow from './commands/run-now.js'
import show from './commands/show.js'
import skip from './commands/skip.js'
import runs from './commands/runs.js'
import status from './commands/status.js'
import upcoming from './commands/upcoming.js'
import worker from './commands/worker.js'
import { EXIT, exitCodeFor, formatErrorChain, isCittyUsageError, UsageError } from './context.js'
import { closest, didYouMean } from '../config/suggest.js'
import { print } from './print.js'

const EPILOGUE = `
DATABASE_URL     postgres://user:pass@host:5432/db (every command but demo)
SUBSCRIPTION_QUEUE_PREFIX, SUBSCRIPTION_BOSS_SCHEMA
                 the queuePrefix and bossSchema of a scheduler given its own (default
                 subscription-scheduler and pgboss)
Instants         ISO 8601 with a zone: 2026-03-10T09:00:00Z, 2026-03-10T10:00:00+01:00
Exit codes       0 ok, 1 failure, 2 usage or configuration error,
                 3 run-now, retry-failed, backfill: some failed,
                 4 skip, reschedule, run-now <id>, backfill: refused, busy (a call or a backfill in flight),
                   or calls paused (pause-calls); erase: a subscription still in your table,
                 130 run-now, retry-failed, backfill: interrupted`

const subCommands: Record<string, CommandDef<any>> = {
  migrate, enroll, 'run-now': runNow, 'retry-failed': retryFailed, status, runs, failing, list, show, upcoming, skip, pause, resume, reschedule, backfill,
  'pause-calls': pauseCalls, 'resume-calls': resumeCalls, erase, worker, demo,
}

const NAME = 'pg-subscription-scheduler'

const main = defineCommand({
  meta: { name: NAME, version: pkg.version, description: 'Process subscriptions on a schedule, on PostgreSQL' },
  subCommands,
})

/** The command `rawArgs` names, for its usage text; the root when it names none. */
function commandFor(rawArgs: string[]): { cmd: CommandDef<any>; parent?: CommandDef<any> | undefined } {
  const name = commandName(rawArgs)
  const cmd = name === undefined ? undefined : subCommands[name]
  return cmd ? { cmd, parent: main } : { cmd: main }
}

/** The root takes no flag with a value, so its first token that is not a flag names the command. */
function commandName(rawArgs: string[]): string | undefined {
  return rawArgs.find((arg) => !arg.startsWith('-'))
}

/** citty's own error names the command alone; this one says what was likely meant, and what exists. */
function checkCommand(rawArgs: string[]): void {
  const name = commandName(rawArgs)
  if (name === undefined || name in subCommands) return
  const names = Object.keys(subCommands)
  throw new UsageError(`Unknown command ${name}${didYouMean(closest(name, names))} Commands: ${names.join(', ')}. See ${NAME} --help.`)
}

/** citty colours its text whatever the stream; a pipe or a log file gets it plain. */
function forStream(stream: NodeJS.WriteStream, text: string): string {
  return stream.isTTY ? text : text.replace(/\x1b\[[0-9;]*m/g, '')
}

async function usage(rawArgs: string[]): Promise<string> {
  const { cmd, parent } = commandFor(rawArgs)
  return `${await renderUsage(cmd, parent)}\n${cmd === main ? EPILOGUE : ''}\n`
}

async function run(rawArgs: string[]): Promise<number> {
  const verbose = rawArgs.includes('--verbose')
  try {
    if (rawArgs.includes('--help') || rawArgs.includes('-h')) {
      process.stdout.write(forStream(process.stdout, await usage(rawArgs)))
      return EXIT.ok
    }
    if (rawArgs.length === 1 && (rawArgs[0] === '--version' || rawArgs[0] === '-v')) {
      print(pkg.version)
      return EXIT.ok
    }
    checkCommand(rawArgs)
    await runCommand(main, { rawArgs })
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (error) {
    if (isCittyUsageError(error)) process.stderr.write(forStream(process.stderr, await usage(rawArgs)))
    process.stderr.write(forStream(process.stderr, `${formatErrorChain(error, verbose)}\n`))
    return exitCodeFor(error)
  }
}

void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code
  // Everything the command opened is closed by now, so the process ends by itself. Should a
  // stray handle keep it alive, this timer (which does not) ends it, with the same code.
  setTimeout(() => {
    if (process.argv.includes('--verbose')) process.stderr.write('warning: an open handle kept the process alive; exiting.\n')
    process.exit(code)
  }, 2000).unref()
})
