/**
 * What `stop()` says: one line for the jobs it left unrecorded (instead of an error per job), and
 * its last, how long it took and what became of the calls in flight when it began.
 */
import type { ResolvedOptions } from '../config/options.js'
import type { ProcessorContext } from '../process/context.js'
import { seconds } from '../error-text.js'

/** One line for the jobs a stop left unrecorded, instead of an error per job. */
export function reportGivenUp(givenUp: ProcessorContext['givenUp'], logger: ResolvedOptions['logger']): void {
  if (givenUp.jobs === 0) return
  logger.warn(
    `Stopped before ${givenUp.jobs} job${givenUp.jobs === 1 ? '' : 's'} (${givenUp.subscriptions} subscription${givenUp.subscriptions === 1 ? '' : 's'}) could record their outcomes ` +
      `(${givenUp.reason ?? "stop()'s deadline passed first"}). They go back to the queue: their subscriptions not recorded yet are called again, with the same ` +
      'idempotency keys, by the next instance to take them.',
  )
}

/** `1 call`, `16 calls`. */
const calls = (n: number) => `${n} call${n === 1 ? '' : 's'}`

/**
 * What `stop()` says last: how long it took, what became of the calls in flight when it began,
 * and the ended calls a worker client still works on (it ignores its signal): `unanswered`.
 * `unrecorded`: jobs given up before their outcomes were recorded (reportGivenUp said which).
 */
export function stoppedLine(tookMs: number, calling: number, cut: number, timeoutMs: number, unanswered = 0, unrecorded = false): string {
  const stillWorking = unanswered > 0
    ? ` The worker client has not answered ${calls(unanswered)} that ended (timed out or cut short): it ignores their signal, ` +
      'so that work may go on until this process exits; the rows record the ends, and retries come under the same keys.'
    : ''
  if (calling === 0 && cut === 0) return `Stopped.${stillWorking}`
  // Ended as the worker answered, or failed or timed out: recorded either way.
  const recorded = unrecorded ? 'not every outcome recorded (the warning above says what goes back to the queue)' : 'each outcome recorded'
  const finished = calling - cut > 0 ? `${calls(calling - cut)} in flight ended, ${recorded}` : ''
  const cutShort = cut > 0 ? `${calls(cut)} cut short at timeoutMs (${timeoutMs} ms) went back to the queue${unrecorded ? '' : ', recorded as retries'}` : ''
  return `Stopped in ${seconds(tookMs)}: ${[finished, cutShort].filter(Boolean).join('; ')}.${stillWorking}`
}

/**
 * What `stop()` says first, when calls are in flight: how long they get, so that an operator does
 * not wait on a silent process. Null with none: the stop is then at once.
 */
export function stoppingLine(calling: number, timeoutMs: number): string | null {
  if (calling === 0) return null
  return `Stopping: ${calls(calling)} in flight get${calling === 1 ? 's' : ''} up to ${seconds(timeoutMs)} (timeoutMs) to end; ` +
    'the rows this instance holds and has not called go back to the queue now, for the other instances.'
}
