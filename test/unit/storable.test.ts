/**
 * What a worker answers is stored in Postgres (jsonb and text columns), which refuses NUL and
 * broken UTF-16: it is cleaned, and bounded to `maxStoredResponseBytes` of JSON.
 */
import { describe, expect, test } from 'vitest'
import { boundResponse, storableText } from '../../src/db/storable.js'

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value))

/** True when no string anywhere in `value` (keys included) holds what Postgres refuses. */
function storable(value: unknown): boolean {
  const json = JSON.stringify(value)
  return !json.includes('\\u0000') && json.isWellFormed() && !/\\ud[89a-f][0-9a-f]{2}/i.test(json)
}

describe('storableText', () => {
  test('leaves ordinary text alone, emoji and accents included', () => {
    expect(storableText('Zahlung für 😀 fehlgeschlagen')).toBe('Zahlung für 😀 fehlgeschlagen')
  })

  test('replaces NUL and lone surrogates (half an emoji) with U+FFFD, keeping the length', () => {
    const broken = `a\u0000b${'😀'.slice(0, 1)}c`
    expect(storableText(broken)).toBe('a\uFFFDb\uFFFDc')
  })
})

describe('boundResponse', () => {
  test('no answer is stored as null', () => {
    expect(boundResponse(undefined, 4096)).toBeNull()
    expect(boundResponse(null, 4096)).toBeNull()
  })

  test('an answer that fits is stored as it is', () => {
    const answer = { ok: true, invoice: { id: 'inv_1', amount: 12.5, lines: ['a', 'b'] }, note: 'für 😀' }
    expect(boundResponse(answer, 4096)).toEqual(answer)
    expect(boundResponse('plain text', 4096)).toBe('plain text')
    expect(boundResponse(42, 4096)).toBe(42)
  })

  test('NUL and lone surrogates are cleaned in values and in keys, at any depth', () => {
    const stored = boundResponse({ 'k\u0000': 'v\u0000', nested: [{ half: '😀'.slice(1) }] }, 4096)
    expect(stored).toEqual({ 'k\uFFFD': 'v\uFFFD', nested: [{ half: '\uFFFD' }] })
    expect(storable(stored)).toBe(true)
  })

  test('an answer too large is stored as { truncated: true, text } with the start of its JSON, within the limit', () => {
    const answer = { report: 'x'.repeat(10_000) }
    const stored = boundResponse(answer, 1024) as { truncated: boolean; text: string }
    expect(stored.truncated).toBe(true)
    expect(JSON.stringify(answer).startsWith(stored.text)).toBe(true)
    expect(bytesOf(stored)).toBeLessThanOrEqual(1024)
    // Not cut far short either: the limit is what the host asked to keep.
    expect(bytesOf(stored)).toBeGreaterThan(1000)
  })

  test.each([
    { name: 'quotes, which JSON escapes to twice their size', text: '"'.repeat(100_000) },
    { name: 'control characters, six bytes each as JSON', text: '\u0001'.repeat(100_000) },
    { name: 'multi-byte characters at the cut', text: `${'a'.repeat(4086)}😀😀😀` },
    { name: 'NUL bytes', text: '\u0000'.repeat(100_000) },
  ])('stays within the limit and storable for $name', ({ text }) => {
    for (const answer of [text, { text }]) {
      const stored = boundResponse(answer, 4096)
      expect(bytesOf(stored)).toBeLessThanOrEqual(4096)
      expect(storable(stored)).toBe(true)
    }
  })

  test("an answer the HTTP client already cut is shortened, not wrapped in another { truncated, text }", () => {
    const fromClient = { truncated: true, text: 'y'.repeat(5000) }
    const stored = boundResponse(fromClient, 1024) as { truncated: boolean; text: string }
    expect(stored).toEqual({ truncated: true, text: expect.stringMatching(/^y+$/) })
    expect(bytesOf(stored)).toBeLessThanOrEqual(1024)
  })

  test('an answer JSON cannot represent (a cycle, a BigInt, a symbol) is stored as its text, not thrown, and marked truncated only when cut', () => {
    const cyclic: Record<string, unknown> = { id: 1 }
    cyclic.self = cyclic
    expect(boundResponse(cyclic, 4096)).toEqual({ text: '<ref *1> { id: 1, self: [Circular *1] }' })
    expect(boundResponse({ amount: 10n, currency: 'EUR' }, 4096)).toEqual({ text: "{ amount: 10n, currency: 'EUR' }" })
    expect(boundResponse(10n ** 30n, 4096)).toEqual({ text: '1000000000000000000000000000000' })
    expect(boundResponse(Symbol('done'), 4096)).toEqual({ text: 'Symbol(done)' })
    expect(boundResponse({ toJSON: () => { throw new Error('no') }, id: 7 }, 4096)).toEqual({ text: expect.stringContaining('id: 7') })
    expect(boundResponse(10n ** 300n, 64)).toEqual({ truncated: true, text: expect.stringMatching(/^10+$/) })
  })
})
