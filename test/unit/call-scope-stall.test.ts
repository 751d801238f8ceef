/**
 * The scheduler's own deadline on a worker call (`workerTimeoutMs`, kept even for a custom client
 * that ignores its signal) does not take this process's stall for the worker's: a trial's
 * instance, on a busy host after a database outage, recorded answers the worker had given within
 * 2.5 s as "timed out after 5000 ms", and the worker did the work again.
 */
import { expect, test } from 'vitest'
import { openCallScope } from '../../src/process/call-worker.js'
import type { ProcessorContext } from '../../src/process/context.js'
import type { PageRow } from '../../src/settle/outcome.js'
import { createHttpWorkerClient } from '../../src/worker-client/http-client.js'
import { stall, workerElsewhere } from '../support/worker-elsewhere.js'

const row = { id: 'proc-1', subscription_id: 'sub-1', scheduled_for: new Date('2030-01-01T08:00:00.000Z') } as PageRow

/** A call scope whose only deadline is the scheduler's (the client's own is far off). */
function scope(url: string, workerTimeoutMs: number) {
  const ctx = {
    options: { workerTimeoutMs },
    cancelSignal: new AbortController().signal,
    workerClient: createHttpWorkerClient({ baseUrl: url, timeoutMs: 60_000 }),
    unanswered: { calls: 0 },
  } as unknown as ProcessorContext
  return openCallScope(ctx, new AbortController().signal)
}

test('an answer that arrived within workerTimeoutMs while the process stalled is recorded as the answer; a slower one still times out', async () => {
  const prompt = await workerElsewhere(20)
  const slow = await workerElsewhere(5_000)
  try {
    const first = scope(prompt.url, 300)
    const received = prompt.received()
    const answer = first.call(row, 'user-1', 1)
    await received
    stall(900)
    await expect(answer).resolves.toMatchObject({ ok: true })
    first.close()

    const second = scope(slow.url, 300)
    const arrived = slow.received()
    const late = second.call(row, 'user-1', 1)
    await arrived
    stall(900)
    await expect(late).rejects.toThrow(/^Worker call for subscription sub-1 timed out after 300 ms/)
    second.close()
  } finally {
    prompt.stop()
    slow.stop()
  }
})
