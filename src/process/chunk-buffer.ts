/**
 * Outcomes are settled in chunks as calls finish: every `size` outcomes, or `delayMs` after the
 * first one waiting, whichever comes first. A crash then re-calls at most a chunk per job in
 * flight, and a page's settles cost a statement per chunk, not per row. Flushes run one at a
 * time, in order.
 */
export interface ChunkBuffer<T> {
  add(item: T): void
  /** Flushes what is left and waits for every flush; rejects with the first flush's failure. */
  close(): Promise<void>
}

export function createChunkBuffer<T>(flush: (items: T[]) => Promise<void>, { size = 64, delayMs = 100 } = {}): ChunkBuffer<T> {
  let pending: T[] = []
  let timer: NodeJS.Timeout | undefined
  let chain: Promise<void> = Promise.resolve()
  let failure: { error: unknown } | undefined

  function flushNow() {
    clearTimeout(timer)
    timer = undefined
    if (pending.length === 0) return
    const items = pending
    pending = []
    chain = chain.then(() => flush(items)).catch((error: unknown) => {
      failure ??= { error }
    })
  }

  return {
    add(item) {
      pending.push(item)
      if (pending.length >= size) flushNow()
      else timer ??= setTimeout(flushNow, delayMs)
    },
    async close() {
      flushNow()
      await chain
      if (failure) throw failure.error
    },
  }
}
