/**
 * Fetch loops added while calls hang. Each fetch loop of the process queue hands pg-boss back its
 * fetch of page jobs only once every job in it is done, and each job is done with its slowest
 * call: a few calls that hang until `workerTimeoutMs` held every loop while the call slots stood
 * nearly free (a trial: 5 hung calls of 32 kept 7,239 rows waiting for minutes). While every loop
 * is held so, one more loop is started each check, up to `spareLoops`; once none is, they stop
 * (each after its fetch is done, as a loop of pg-boss does).
 *
 * "Held so": every loop has a fetch in hand, no call waits for a slot (the slots are not what
 * holds them back), a slot is free, and the oldest call in flight has run for a few seconds.
 */
import type { PgBoss, WorkOptions, WorkHandler } from 'pg-boss'
import type { ProcessorContext } from '../process/context.js'

/** How often the loops are looked at. */
const CHECK_EVERY_MS = 1_000
/** A call in flight this long, with free slots beside it, holds its loop back from fetching. */
export const HELD_AFTER_MS = 3_000

export interface SpareLoopDeps {
  boss: PgBoss
  queue: string
  /** The process loops' own options and handler: a spare loop is one more of them. */
  work: WorkOptions & { includeMetadata: true }
  handler: WorkHandler<unknown>
  processor: Pick<ProcessorContext, 'gate' | 'inHand' | 'haltSignal' | 'options'>
}

/** Whether every loop is held by calls that have not answered, with call slots to spare. */
function loopsHeld(deps: SpareLoopDeps, loops: number): boolean {
  const { gate, inHand, options } = deps.processor
  const { inFlight, waiting } = gate.load()
  const oldest = gate.oldestCallMs()
  return inHand.size >= loops && waiting === 0 && inFlight < options.concurrency && oldest !== null && oldest >= HELD_AFTER_MS
}

/**
 * Watches the process loops until the instance halts: starts a spare loop while they are held,
 * stops the spares once they are not.
 */
export function watchForHeldLoops(deps: SpareLoopDeps): void {
  const { boss, queue, work, handler, processor } = deps
  const { fetchLoops, spareLoops, logger } = processor.options
  if (spareLoops === 0) return
  const spares: string[] = []
  let changing = false
  let said = false
  const check = async () => {
    if (changing || processor.haltSignal.aborted) return
    changing = true
    try {
      const held = loopsHeld(deps, fetchLoops + spares.length)
      if (held && spares.length < spareLoops) {
        spares.push(await boss.work(queue, { ...work, localConcurrency: 1 }, handler))
        if (!said) {
          said = true
          logger.info(
            `Every fetch loop waits on calls that have not answered for ${HELD_AFTER_MS / 1000} s or more, with call slots free: ` +
              'fetching with more loops meanwhile (workerTimeoutMs ends such calls).',
          )
        }
      } else if (!held && spares.length > 0 && !loopsHeld(deps, fetchLoops)) {
        // Stops after the fetch it holds, if any, as pg-boss's loops do.
        await boss.offWork(queue, { id: spares.pop()!, wait: false })
      }
    } catch (error) {
      logger.warn(`Could not change the fetch loops kept while calls hang: ${(error as Error).message}`)
    } finally {
      changing = false
    }
  }
  const timer = setInterval(() => void check(), CHECK_EVERY_MS)
  timer.unref()
  processor.haltSignal.addEventListener('abort', () => clearInterval(timer), { once: true })
}
