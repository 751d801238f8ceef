/**
 * A worker client whose calls all wait until `release()`: a test can look at the database while
 * every call is in flight or waiting. `firstCall` resolves when the first call arrives.
 */
import type { ProcessRequest, WorkerClient } from '../../src/index.js'

export interface HeldWorker {
  client: WorkerClient
  calls: ProcessRequest[]
  firstCall: Promise<void>
  release(): void
}

export function heldWorker(): HeldWorker {
  const calls: ProcessRequest[] = []
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  let called!: () => void
  const firstCall = new Promise<void>((resolve) => (called = resolve))
  const client: WorkerClient = {
    async process(request) {
      calls.push(request)
      called()
      await released
      return { ok: true }
    },
  }
  return { client, calls, firstCall, release }
}
