import { describe, expect, test } from 'vitest'
import { createProgress, renderBar, renderLine } from '../../src/cli/progress.js'

function harness(tty: boolean) {
  let now = 0
  let out = ''
  const progress = createProgress({ stream: { write: (chunk: string) => (out += chunk) }, tty, now: () => now, width: 10 })
  return { progress, advance: (ms: number) => (now += ms), output: () => out }
}

describe('renderBar', () => {
  test('draws filled and empty cells, percent, counts and rate', () => {
    expect(renderBar(3000, 5000, 12.34, 10)).toBe('[██████░░░░] 60% 3000/5000 12.3/s')
    expect(renderBar(0, 0, 0, 4)).toBe('[░░░░] 0% 0/0 0.0/s')
    expect(renderBar(7, 5, 1, 4)).toBe('[████] 100% 7/5 1.0/s')
  })

  test('renderLine is the plain form', () => {
    expect(renderLine(1200, 5000)).toBe('processed 1200/5000 (24%)')
  })
})

describe('createProgress without a terminal', () => {
  test('prints a line per tenth, and not again for the same counts', () => {
    const { progress, advance, output } = harness(false)
    for (let done = 0; done <= 100; done++) {
      advance(10)
      progress.update(done, 100)
    }
    progress.finish()
    const lines = output().trimEnd().split('\n')
    expect(lines).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((n) => `processed ${n}/100 (${n}%)`))
    expect(output()).not.toContain('\r')
  })

  test('prints at least every 2 s while the count moves within a tenth', () => {
    const { progress, advance, output } = harness(false)
    progress.update(1, 1000)
    advance(2500)
    progress.update(2, 1000)
    advance(500)
    progress.update(3, 1000) // too soon after the last line
    expect(output()).toBe('processed 1/1000 (0%)\nprocessed 2/1000 (0%)\n')
    advance(2000)
    progress.update(3, 1000) // 2 s on, and it moved since the last line
    advance(5000)
    progress.update(3, 1000) // unchanged since the last line: nothing new to say
    expect(output()).toBe('processed 1/1000 (0%)\nprocessed 2/1000 (0%)\nprocessed 3/1000 (0%)\n')
  })

  test('never moves back, and prints nothing for an empty run', () => {
    const { progress, output } = harness(false)
    progress.update(0, 0)
    progress.finish()
    expect(output()).toBe('')
    const other = harness(false)
    other.progress.update(50, 100)
    other.progress.update(40, 100)
    other.progress.finish()
    expect(other.output()).toBe('processed 50/100 (50%)\n')
  })
})

describe('createProgress on a terminal', () => {
  test('redraws in place, at most every 100 ms, and ends the line on finish', () => {
    const { progress, advance, output } = harness(true)
    advance(1000)
    progress.update(10, 100)
    advance(50)
    progress.update(20, 100) // too soon to redraw
    advance(1000)
    progress.update(40, 100)
    progress.finish()
    expect(output()).toBe(
      '\r[█░░░░░░░░░] 10% 10/100 10.0/s\x1b[K' +
        '\r[████░░░░░░] 40% 40/100 19.5/s\x1b[K' +
        '\r[████░░░░░░] 40% 40/100 19.5/s\x1b[K\n',
    )
  })
})
