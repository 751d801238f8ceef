/**
 * The settle queue's policy: when a chunk of outcomes goes to the database. Every settle costs
 * the database a fixed share besides its rows, so small chunks go only when calls are few (after
 * `delayMs`) or when a job has ended (`flush()`), never just because the chunk before committed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createSettleQueue } from '../../src/process/settle-queue.js'
import type { Outcome } from '../../src/settle/outcome.js'

/** A settle function whose chunks commit (or fail) when the test says so. */
function controlledSettle() {
  const chunks: { ids: string[]; commit: () => void; fail: (error: Error) => void }[] = []
  const settle = (outcomes: Outcome[]) =>
    new Promise<void>((resolve, reject) => {
      chunks.push({ ids: outcomes.map((o) => o.row.id), commit: resolve, fail: reject })
    })
  return { chunks, settle }
}

const outcome = (id: string) => ({ kind: 'success', row: { id } }) as unknown as Outcome

/** Lets promise callbacks run (a commit's `finally`, the next chunk's start). */
const settleMicrotasks = () => vi.advanceTimersByTimeAsync(0)

/** Batches of 4, one chunk at a time. */
const ONE_AT_A_TIME = { batch: 4, delayMs: 100, parallel: 1, size: 10 }

/** A queue with one chunk in flight (a, b, c, d), not yet committed. */
async function chunkInFlight() {
  const { chunks, settle } = controlledSettle()
  const queue = createSettleQueue(settle, ONE_AT_A_TIME)
  const first = ['a', 'b', 'c', 'd'].map((id) => queue.add(outcome(id)))
  await settleMicrotasks()
  return { chunks, queue, first }
}

describe('settle queue', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('sends a chunk as soon as a batch waits', async () => {
    const { chunks, settle } = controlledSettle()
    const queue = createSettleQueue(settle, ONE_AT_A_TIME)
    for (const id of ['a', 'b', 'c']) void queue.add(outcome(id))
    await settleMicrotasks()
    expect(chunks).toHaveLength(0)
    void queue.add(outcome('d'))
    await settleMicrotasks()
    expect(chunks.map((c) => c.ids)).toEqual([['a', 'b', 'c', 'd']])
  })

  it('after a chunk commits, what came meanwhile waits for a batch instead of going at once', async () => {
    const { chunks, queue, first } = await chunkInFlight()
    void queue.add(outcome('e'))
    void queue.add(outcome('f'))
    chunks[0]!.commit()
    await Promise.all(first)
    await settleMicrotasks()
    expect(chunks).toHaveLength(1)

    void queue.add(outcome('g'))
    void queue.add(outcome('h'))
    await settleMicrotasks()
    expect(chunks.map((c) => c.ids)).toEqual([['a', 'b', 'c', 'd'], ['e', 'f', 'g', 'h']])
  })

  it('sends fewer than a batch once the oldest has waited delayMs, counting its wait behind a chunk in flight', async () => {
    const { chunks, queue } = await chunkInFlight()
    void queue.add(outcome('e'))
    await vi.advanceTimersByTimeAsync(80)
    chunks[0]!.commit()
    await settleMicrotasks()
    void queue.add(outcome('f'))
    await vi.advanceTimersByTimeAsync(19)
    expect(chunks).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(chunks.map((c) => c.ids)).toEqual([['a', 'b', 'c', 'd'], ['e', 'f']])
  })

  it('flush() sends what waits at once: a job whose calls have all ended waits for nothing else', async () => {
    const { chunks, settle } = controlledSettle()
    const queue = createSettleQueue(settle, ONE_AT_A_TIME)
    const settled = queue.add(outcome('a'))
    queue.flush()
    await settleMicrotasks()
    expect(chunks.map((c) => c.ids)).toEqual([['a']])
    chunks[0]!.commit()
    await expect(settled).resolves.toBeUndefined()
  })

  it('flush() while no chunk can go sends what waits as soon as one commits, without waiting for a batch', async () => {
    const { chunks, queue } = await chunkInFlight()
    void queue.add(outcome('e'))
    queue.flush()
    chunks[0]!.commit()
    await settleMicrotasks()
    expect(chunks.map((c) => c.ids)).toEqual([['a', 'b', 'c', 'd'], ['e']])
  })

  it('flush() while other calls are still under way waits for a batch: their outcomes fill the chunk', async () => {
    const { chunks, settle } = controlledSettle()
    const queue = createSettleQueue(settle, { ...ONE_AT_A_TIME, busy: () => true })
    void queue.add(outcome('a'))
    queue.flush()
    await settleMicrotasks()
    expect(chunks).toHaveLength(0)
    for (const id of ['b', 'c', 'd']) void queue.add(outcome(id))
    await settleMicrotasks()
    expect(chunks.map((c) => c.ids)).toEqual([['a', 'b', 'c', 'd']])
  })

  it('flush() while other calls are under way still sends a lone outcome after delayMs', async () => {
    const { chunks, settle } = controlledSettle()
    const queue = createSettleQueue(settle, { ...ONE_AT_A_TIME, busy: () => true })
    void queue.add(outcome('a'))
    queue.flush()
    await vi.advanceTimersByTimeAsync(99)
    expect(chunks).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(chunks.map((c) => c.ids)).toEqual([['a']])
  })

  it('never has more than `parallel` chunks in flight, nor more than `size` outcomes in one', async () => {
    const { chunks, settle } = controlledSettle()
    const queue = createSettleQueue(settle, { batch: 2, delayMs: 100, parallel: 2, size: 3 })
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) void queue.add(outcome(id))
    await settleMicrotasks()
    expect(chunks.map((c) => c.ids)).toEqual([['a', 'b'], ['c', 'd']])
    chunks[0]!.commit()
    await settleMicrotasks()
    expect(chunks.map((c) => c.ids)).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f', 'g']])
  })

  it("records a failed chunk again an outcome at a time, and rejects only what fails alone: one bad row fails no other", async () => {
    const { chunks, settle } = controlledSettle()
    const split: number[] = []
    const queue = createSettleQueue(settle, { batch: 2, delayMs: 100, parallel: 2, size: 2, onSplit: (n) => void split.push(n) })
    const [a, b] = [queue.add(outcome('a')), queue.add(outcome('b'))]
    // Handled from the start: it rejects before the assertions below reach it.
    const aFailed = a.then(() => null, (error: unknown) => error)
    const committed = [queue.add(outcome('c')), queue.add(outcome('d'))]
    await settleMicrotasks()
    chunks[0]!.fail(new Error('invalid input syntax'))
    chunks[1]!.commit()
    await settleMicrotasks()
    expect(split).toEqual([2])
    expect(chunks.slice(2).map((c) => c.ids)).toEqual([['a']])
    chunks[2]!.fail(new Error('invalid input syntax'))
    await settleMicrotasks()
    expect(chunks[3]!.ids).toEqual(['b'])
    chunks[3]!.commit()
    expect(await aFailed).toMatchObject({ message: 'invalid input syntax' })
    await expect(b).resolves.toBeUndefined()
    for (const p of committed) await expect(p).resolves.toBeUndefined()
  })

  it('a chunk that failed with an error `splits` refuses (an outage outlived) is rejected whole, not recorded again an outcome at a time', async () => {
    const { chunks, settle } = controlledSettle()
    const split: number[] = []
    const queue = createSettleQueue(settle, { batch: 2, delayMs: 100, parallel: 1, size: 2, splits: (e) => (e as Error).message !== 'Connection terminated', onSplit: (n) => void split.push(n) })
    const both = [queue.add(outcome('a')), queue.add(outcome('b'))].map((p) => p.then(() => null, (error: unknown) => error))
    await settleMicrotasks()
    chunks[0]!.fail(new Error('Connection terminated'))
    expect(await Promise.all(both)).toEqual([expect.objectContaining({ message: 'Connection terminated' }), expect.objectContaining({ message: 'Connection terminated' })])
    expect(split).toEqual([])
    expect(chunks).toHaveLength(1)
  })

  it('a chunk of one that fails is rejected, not tried again', async () => {
    const { chunks, settle } = controlledSettle()
    const queue = createSettleQueue(settle, { batch: 1, delayMs: 100, parallel: 1, size: 1 })
    const lone = queue.add(outcome('a'))
    await settleMicrotasks()
    chunks[0]!.fail(new Error('invalid input syntax'))
    await expect(lone).rejects.toThrow('invalid input syntax')
    expect(chunks).toHaveLength(1)
  })
})
