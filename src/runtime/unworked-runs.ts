/**
 * An instance started with `work: false` enqueues, and only the instances that work call: with
 * none running, what its runs enqueued waits in the queue, and a `runNow()` waiting for its run
 * waits with it, saying nothing. So a run such an instance enqueued is looked at again a little
 * later (an instance starting beside it has reported itself by then): with still no instance
 * that works running, and the run not finished, it says so, once per run.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import { someInstanceWorks } from '../records/instances.js'
import { getRun } from '../records/runs.js'

/** How long after its run enqueued a `work: false` instance looks for one that works. */
export const UNWORKED_CHECK_MS = 10_000

type WatchOptions = Pick<ResolvedOptions, 'work' | 'queuePrefix' | 'bossSchema' | 'logger'>

export interface UnworkedRuns {
  /** Run `runId` enqueued `count` subscriptions; resolves once it has been looked at again. */
  enqueued(runId: string, count: number): Promise<void>
  stop(): void
}

export function unworkedWarning(options: Pick<ResolvedOptions, 'queuePrefix' | 'bossSchema'>, runId: string, count: number): string {
  const what = `${count} subscription${count === 1 ? '' : 's'}`
  return (
    `Run ${runId} enqueued ${what} from this instance (work: false), and no running instance calls the worker: none reporting ` +
    `under queue prefix '${options.queuePrefix}' started with \`work: true\`. They wait in the queue, and a runNow() waiting ` +
    `for the run waits with them, until an instance with \`work: true\` (the default) and the same \`queuePrefix\` and ` +
    `\`bossSchema\` ('${options.bossSchema}') starts.`
  )
}

export function watchUnworkedRuns(pool: Pool, options: WatchOptions, checkAfterMs = UNWORKED_CHECK_MS): UnworkedRuns {
  const waits = new Map<NodeJS.Timeout, () => void>()
  let stopped = false
  const check = async (runId: string, count: number) => {
    // Called meanwhile by an instance that has stopped since, the run has nothing left to wait for.
    if (stopped || (await someInstanceWorks(pool, options.queuePrefix)) || (await getRun(pool, runId)).finishedAt) return
    if (!stopped) options.logger.warn(unworkedWarning(options, runId, count))
  }
  return {
    async enqueued(runId, count) {
      // An instance that works calls its own runs.
      if (options.work || count === 0 || stopped) return
      const waited = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => (waits.delete(timer), resolve(true)), checkAfterMs)
        timer.unref()
        waits.set(timer, () => resolve(false))
      })
      // The database away for a moment: the run's jobs wait as they would anyway; nothing to add.
      if (waited) await check(runId, count).catch(() => {})
    },
    stop() {
      stopped = true
      for (const [timer, cancel] of waits) (clearTimeout(timer), cancel())
      waits.clear()
    },
  }
}
