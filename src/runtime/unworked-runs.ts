/**
 * An instance started with `work: false` enqueues, and only the instances that work call: with
 * none running, what its runs enqueued waits in the queue, and a `runNow()` waiting for its run
 * waits with it, saying nothing. So a run such an instance enqueued is looked at a little later
 * (an instance starting beside it has reported itself by then), and again every half minute
 * while it goes on (the only instance that worked may die mid-run): with no instance that works
 * reporting, and the run not finished, it says so, once per run.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import { someInstanceWorks } from '../records/instances.js'
import { getRun } from '../records/runs.js'

export interface UnworkedTiming {
  /** The first look, after the run enqueued. */
  firstMs: number
  /** The looks after, while the run goes on. */
  everyMs: number
  /** A working instance that reported within this long counts: a running one reports every 15 s. */
  aliveWithinSeconds: number
}

export const UNWORKED_TIMING: UnworkedTiming = { firstMs: 10_000, everyMs: 30_000, aliveWithinSeconds: 30 }

type WatchOptions = Pick<ResolvedOptions, 'work' | 'queuePrefix' | 'bossSchema' | 'logger'>

export interface UnworkedRuns {
  /** Run `runId` enqueued `count` subscriptions; resolves once the run finished, or was said to wait. */
  enqueued(runId: string, count: number): Promise<void>
  stop(): void
}

export function unworkedWarning(options: Pick<ResolvedOptions, 'queuePrefix' | 'bossSchema'>, runId: string, count: number): string {
  const what = `${count} subscription${count === 1 ? '' : 's'}`
  return (
    `Run ${runId} enqueued ${what} from this instance (work: false), and no running instance calls the worker: none reporting ` +
    `under queue prefix '${options.queuePrefix}' and pg-boss schema '${options.bossSchema}' started with \`work: true\`. They wait in the queue, and a runNow() waiting ` +
    `for the run waits with them, until an instance with \`work: true\` (the default) and the same \`queuePrefix\` and ` +
    `\`bossSchema\` starts.`
  )
}

export function watchUnworkedRuns(pool: Pool, options: WatchOptions, timing: UnworkedTiming = UNWORKED_TIMING): UnworkedRuns {
  const waits = new Map<NodeJS.Timeout, () => void>()
  let stopped = false
  /** Resolves true after `ms`, or false at once when stop() comes first. */
  const pause = (ms: number) => new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => (waits.delete(timer), resolve(!stopped)), ms)
    timer.unref()
    waits.set(timer, () => resolve(false))
  })
  /** Whether the watch is over: the run finished, or was said to wait. */
  const look = async (runId: string, count: number): Promise<boolean> => {
    if ((await getRun(pool, runId)).finishedAt) return true
    if (await someInstanceWorks(pool, options, timing.aliveWithinSeconds)) return false
    if (!stopped) options.logger.warn(unworkedWarning(options, runId, count))
    return true
  }
  return {
    async enqueued(runId, count) {
      // An instance that works calls its own runs.
      if (options.work || count === 0) return
      for (let wait = timing.firstMs; await pause(wait); wait = timing.everyMs) {
        // The database away for a moment: looked at again next time.
        if (await look(runId, count).catch(() => false)) return
      }
    },
    stop() {
      stopped = true
      for (const [timer, cancel] of waits) (clearTimeout(timer), cancel())
      waits.clear()
    },
  }
}
