/**
 * Flags more than one command takes, and a check citty leaves out: it accepts any flag, so a
 * typo such as `--concurency 4` would otherwise be ignored in silence.
 */
import { defineCittyPlugin } from 'citty'
import type { ArgsDef } from 'citty'
import type { Logger } from '../observe/logger.js'
import { UsageError } from './context.js'
import { closest, didYouMean } from '../config/suggest.js'

export const commonArgs = {
  verbose: { type: 'boolean', description: 'Print stack traces and debug logs' },
} as const satisfies ArgsDef

export const schedulerArgs = {
  'worker-url': { type: 'string', description: 'Base URL of the subscription worker (env SUBSCRIPTION_WORKER_URL; headers, such as its auth, from env SUBSCRIPTION_WORKER_HEADERS: Authorization=Bearer%20<token>,X-Team=billing)', valueHint: 'url' },
  concurrency: { type: 'string', description: 'Worker calls in flight in this process (default 16)', valueHint: 'n' },
  timezone: {
    type: 'string',
    description: 'IANA zone of the cron and of subscriptions with none; one that differs from the registered zone replaces it for every instance (env SUBSCRIPTION_TIMEZONE; default: the one registered on the database, else UTC)',
    valueHint: 'zone',
  },
  cron: {
    type: 'string',
    description: "When sweeps run; one that differs from the registered cron replaces it for every instance (env SUBSCRIPTION_CRON; default: the one registered on the database, else '0 9 * * *')",
    valueHint: 'expr',
  },
} as const satisfies ArgsDef

/**
 * `--timezone` on the commands that follow the settings the scheduling instances published
 * (run-now, status): the flag wins, and what it falls back to is theirs.
 */
export const followingTimezoneArg = {
  ...schedulerArgs.timezone,
  description: 'IANA zone of the cron and of subscriptions with none (env SUBSCRIPTION_TIMEZONE; default: the zone the workers published, else UTC)',
} as const

/**
 * `--cron` on the commands that never register the schedule (run-now, status): what they assume
 * when no instance has registered one yet.
 */
export const followingCronArg = {
  ...schedulerArgs.cron,
  description: "The cron to assume when none is registered yet (a never-processed subscription's first slot); this command never registers it (env SUBSCRIPTION_CRON, default '0 9 * * *')",
} as const

export const shutdownArgs = {
  'shutdown-timeout': { type: 'string', description: 'Milliseconds in-flight calls get to finish on stop', default: '30000', valueHint: 'ms' },
} as const satisfies ArgsDef

/** The flags of a command that calls the worker from its own process for one run (`backfill`, `retry-failed`). */
export const oneOffCallArgs = {
  'worker-url': schedulerArgs['worker-url'],
  concurrency: schedulerArgs.concurrency,
  ...shutdownArgs,
  ...commonArgs,
} as const satisfies ArgsDef

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** A token that is a flag rather than a value: `-5` and `-0.5` are values (negative numbers). */
const isFlag = (token: string) => token.startsWith('-') && token !== '-' && !/^-\.?\d/.test(token)

/** The command's name, from its meta. */
const nameOf = (cmd: { meta?: unknown }) => (cmd.meta as { name?: string | undefined } | undefined)?.name

/** Commands that refuse an empty value themselves, saying how to clear a setting instead. */
const OWN_EMPTY_CHECK = new Set(['reschedule'])

/**
 * An empty value is refused: it is most often a shell variable that expanded to nothing, and read
 * as "not given" it would quietly fall back to a default (a fleet's cron, its zone).
 */
function refuseEmpty(typed: string, value: string, cmd: { meta?: unknown }): void {
  const name = nameOf(cmd)
  if (value.trim() !== '' || (name && OWN_EMPTY_CHECK.has(name))) return
  throw new UsageError(`${typed} is empty: give it a value, or leave it out (a shell variable that expanded to nothing?).`)
}

/** A command that takes only flags refuses a word: a flag without its dashes, or a value without its flag. */
function refuseArgument(arg: string, cmd: { meta?: unknown }): never {
  const name = nameOf(cmd) ?? 'this command'
  throw new UsageError(`${name} takes no arguments, only flags, but was given ${JSON.stringify(arg)}: a flag without its --, or a value without its flag? See ${name} --help.`)
}

/**
 * Rejects flags the command does not declare, words a command without arguments is given, an
 * empty value, and a flag that takes a value but is followed by another flag (exit code 2).
 * Walks the tokens as citty reads them: the token after a flag that takes a value is that value,
 * so `--shutdown-timeout -5` reaches the option's own check.
 */
export const strictFlags = defineCittyPlugin({
  name: 'strict-flags',
  setup({ rawArgs, cmd }) {
    const declared = cmd.args && typeof cmd.args === 'object' && !('then' in cmd.args) ? (cmd.args as ArgsDef) : {}
    // Positional arguments (a subscription id) are no flags: `--id` must stay unknown.
    const defs = new Map(Object.entries(declared).filter(([, def]) => def.type !== 'positional').map(([name, def]) => [kebab(name), def]))
    const known = new Set(['help', 'h', ...defs.keys()])
    const takesArguments = Object.values(declared).some((def) => def.type === 'positional')
    const given = new Set<string>()
    for (let i = 0; i < rawArgs.length; i++) {
      const arg = rawArgs[i]!
      if (arg === '--') break
      if (!isFlag(arg)) {
        if (!takesArguments) refuseArgument(arg, cmd)
        continue
      }
      const typed = arg.split('=')[0]!
      const name = kebab(typed.replace(/^--?/, ''))
      const bare = name.startsWith('no-') ? name.slice(3) : name
      if (!known.has(name) && !known.has(bare)) {
        const long = [...known].filter((f) => f.length > 1)
        const suggestion = closest(name, long)
        throw new UsageError(
          `Unknown option ${typed}${didYouMean(suggestion && `--${suggestion}`)} Options of this command: ${long.map((f) => `--${f}`).join(', ')}.`,
        )
      }
      const def = defs.get(name)
      if (def?.type !== 'string' && def?.type !== 'enum') continue
      // The last of two would win silently: say which one counts instead.
      if (given.has(name)) throw new UsageError(`--${name} is given twice: give it once.`)
      given.add(name)
      const hint = 'valueHint' in def && def.valueHint ? def.valueHint : 'value'
      if (arg.includes('=')) {
        refuseEmpty(typed, arg.slice(arg.indexOf('=') + 1), cmd)
        continue
      }
      const next = rawArgs[i + 1]
      if (next === undefined) throw new UsageError(`${typed} needs a value: write ${typed} <${hint}> (or ${typed}=<${hint}>).`)
      refuseEmpty(typed, next, cmd)
      if (isFlag(next)) {
        throw new UsageError(`${typed} needs a value, but ${next.split('=')[0]} follows it: write ${typed} <${hint}> (or ${typed}=<${hint}>).`)
      }
      i++ // its value, whatever it looks like
    }
  },
})

/**
 * Resolves on the first SIGTERM or SIGINT with its name. A second one while shutting down
 * exits at once (exit 1), for the operator who cannot wait: the calls in flight are abandoned as
 * by a kill, their rows left claimed for another instance to take (docs/operating.md, Signals).
 * Said through `logger`, in the format of the process's other lines, where a log collector parses it.
 */
export function waitForShutdownSignal(logger: Logger): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  let received: NodeJS.Signals | undefined
  let resolve!: (signal: NodeJS.Signals) => void
  const signal = new Promise<NodeJS.Signals>((r) => (resolve = r))
  const onSignal = (name: NodeJS.Signals) => {
    if (received) {
      logger.warn(`${name} received again: exiting at once (exit 1), without waiting for the calls in flight; their subscriptions stay claimed until another instance takes them again.`)
      process.exit(1)
    }
    received = name
    resolve(name)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  return {
    signal,
    dispose() {
      // Stopped on a signal, the process is exiting: one more (a supervisor's repeat) is let by,
      // not left to Node's default, which killed it (143) between a clean stop and its exit 0.
      // Added before the handler goes: with no listener for an instant, Node restores the
      // default action, and a signal in that instant kills the process.
      if (received) {
        process.on('SIGTERM', letBy)
        process.on('SIGINT', letBy)
      }
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    },
  }
}

/** A signal after the shutdown it asked for is done: nothing is left to do. */
function letBy(): void {}
