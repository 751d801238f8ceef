/**
 * Progress of a run on stderr: a bar redrawn in place on a terminal, and plain lines elsewhere
 * (CI logs, `| tee`), where carriage returns would pile up into one unreadable line.
 */

export interface ProgressStream {
  write(chunk: string): unknown
}

export interface ProgressOptions {
  stream: ProgressStream
  /** Redraw a bar in place (a terminal), or print lines. */
  tty: boolean
  /** @default Date.now */
  now?: (() => number) | undefined
  /** Cells of the bar. @default 20 */
  width?: number | undefined
  /** On a terminal, the least time between two redraws. @default 100 */
  redrawMs?: number | undefined
  /** Without a terminal, a line at least this often while the count moves. @default 2000 */
  lineEveryMs?: number | undefined
}

export interface Progress {
  /** `done` of `total` settled so far. Both may grow while the run's sweep is still claiming. */
  update(done: number, total: number): void
  /** Prints the final state and ends the bar's line. */
  finish(): void
}

/** `[██████░░░░] 60% 3000/5000 12.3/s` */
export function renderBar(done: number, total: number, ratePerSecond: number, width = 20): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0
  const filled = Math.round(fraction * width)
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled)
  return `[${bar}] ${Math.floor(fraction * 100)}% ${done}/${total} ${ratePerSecond.toFixed(1)}/s`
}

/** `processed 1200/5000 (24%)` */
export function renderLine(done: number, total: number): string {
  const percent = total > 0 ? Math.floor(Math.min(1, done / total) * 100) : 0
  return `processed ${done}/${total} (${percent}%)`
}

export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now
  const width = options.width ?? 20
  const redrawMs = options.redrawMs ?? 100
  const lineEveryMs = options.lineEveryMs ?? 2000
  const startedAt = now()
  let done = 0
  let total = 0
  let lastDrawAt = Number.NEGATIVE_INFINITY
  let lastLine: { done: number; total: number; decile: number } | undefined
  let finished = false

  const rate = () => {
    const seconds = (now() - startedAt) / 1000
    return seconds > 0 ? done / seconds : 0
  }

  const draw = (force: boolean) => {
    const at = now()
    if (options.tty) {
      if (!force && at - lastDrawAt < redrawMs) return
      lastDrawAt = at
      // \x1b[K clears what a longer previous line left behind.
      options.stream.write(`\r${renderBar(done, total, rate(), width)}\x1b[K`)
      return
    }
    if (total === 0) return
    const decile = Math.floor(Math.min(1, done / total) * 10)
    const moved = !lastLine || lastLine.done !== done || lastLine.total !== total
    const due = !lastLine || decile > lastLine.decile || at - lastDrawAt >= lineEveryMs
    if (!moved || !(due || force)) return
    lastDrawAt = at
    lastLine = { done, total, decile }
    options.stream.write(`${renderLine(done, total)}\n`)
  }

  return {
    update(nextDone, nextTotal) {
      if (finished) return
      // Counts come from events and from polling the run row; neither may move the bar back.
      done = Math.max(done, nextDone)
      total = Math.max(total, nextTotal, done)
      draw(false)
    },
    finish() {
      if (finished) return
      draw(true)
      finished = true
      if (options.tty && lastDrawAt !== Number.NEGATIVE_INFINITY) options.stream.write('\n')
    },
  }
}
