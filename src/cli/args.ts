/**
 * Flags more than one command takes, and a check citty leaves out: it accepts any flag, so a
 * typo such as `--concurency 4` would otherwise be ignored in silence.
 */
import { defineCittyPlugin } from 'citty'
import type { ArgsDef } from 'citty'
import { UsageError } from './context.js'

export const commonArgs = {
  verbose: { type: 'boolean', description: 'Print stack traces and debug logs' },
} as const satisfies ArgsDef

export const schedulerArgs = {
  'worker-url': { type: 'string', description: 'Base URL of the subscription worker (env SUBSCRIPTION_WORKER_URL)', valueHint: 'url' },
  concurrency: { type: 'string', description: 'Worker calls in flight in this process (default 16)', valueHint: 'n' },
  timezone: { type: 'string', description: 'IANA zone of the cron and of subscriptions with none (env SUBSCRIPTION_TIMEZONE, default UTC)', valueHint: 'zone' },
  cron: { type: 'string', description: "When sweeps run; start() registers it for every instance (env SUBSCRIPTION_CRON, default '0 9 * * *')", valueHint: 'expr' },
} as const satisfies ArgsDef

export const shutdownArgs = {
  'shutdown-timeout': { type: 'string', description: 'Milliseconds in-flight calls get to finish on stop', default: '30000', valueHint: 'ms' },
} as const satisfies ArgsDef

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** Rejects flags the command does not declare (exit code 2). */
export const strictFlags = defineCittyPlugin({
  name: 'strict-flags',
  setup({ rawArgs, cmd }) {
    const declared = cmd.args && typeof cmd.args === 'object' && !('then' in cmd.args) ? (cmd.args as ArgsDef) : {}
    const known = new Set(['help', 'h', ...Object.keys(declared).map(kebab)])
    for (const arg of rawArgs) {
      if (arg === '--') break
      if (!arg.startsWith('-') || arg === '-') continue
      const name = kebab(arg.replace(/^--?/, '').split('=')[0]!)
      const bare = name.startsWith('no-') ? name.slice(3) : name
      if (!known.has(name) && !known.has(bare)) {
        const flags = [...known].filter((f) => f.length > 1).map((f) => `--${f}`).join(', ')
        throw new UsageError(`Unknown option ${arg.split('=')[0]}. Options of this command: ${flags}.`)
      }
    }
  },
})

/**
 * Resolves on the first SIGTERM or SIGINT with its name. A second one while shutting down
 * exits at once, for the operator who cannot wait.
 */
export function waitForShutdownSignal(): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  let received: NodeJS.Signals | undefined
  let resolve!: (signal: NodeJS.Signals) => void
  const signal = new Promise<NodeJS.Signals>((r) => (resolve = r))
  const onSignal = (name: NodeJS.Signals) => {
    if (received) {
      process.stderr.write(`Received ${name} again: exiting without waiting.\n`)
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
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    },
  }
}
