/** Polling with a deadline: the chaos suite waits on conditions, never on fixed sleeps. */
import { isTransientDbError } from '../../src/db/transient.js'

export interface PollOptions {
  timeoutMs: number
  intervalMs?: number
  /** What is awaited, for the error. */
  what: string
  /** The last state seen, for the error. */
  describe?: () => unknown
  /** Called before each probe, outside the error handling: throw to give up at once. */
  guard?: () => void
}

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Resolves with the first truthy value of `probe`; database errors of the kind an outage
 * causes (a terminated backend) are ridden out. Rejects after `timeoutMs`, saying what was
 * awaited and the last state.
 */
export async function pollUntil<T>(probe: () => T | Promise<T>, options: PollOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs
  let lastError: unknown
  for (;;) {
    options.guard?.()
    try {
      const value = await probe()
      if (value) return value as NonNullable<T>
    } catch (error) {
      if (!isTransientDbError(error)) throw error
      lastError = error
    }
    if (Date.now() > deadline) {
      const state = options.describe ? await Promise.resolve(options.describe()).catch((e: unknown) => `(describe failed: ${String(e)})`) : undefined
      throw new Error(
        `Timed out after ${options.timeoutMs} ms waiting for ${options.what}.` +
          (state === undefined ? '' : ` Last state: ${JSON.stringify(state, null, 2)}`) +
          (lastError ? ` Last error: ${String(lastError)}` : ''),
      )
    }
    await tick(options.intervalMs ?? 100)
  }
}
