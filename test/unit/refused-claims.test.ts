/**
 * The pieces of stepping past a row whose claim a host refuses (sweep/refused-claims.ts). Pure.
 */
import { describe, expect, test } from 'vitest'
import { createRefusedClaims, isRowRefusal, uuidBefore } from '../../src/sweep/refused-claims.js'
import { captureLogger } from '../../src/testing.js'

describe('uuidBefore', () => {
  test('is the uuid one below, borrowing across the groups, so a cursor there has the row itself next', () => {
    expect(uuidBefore('00000000-0000-0000-0000-000000000100')).toBe('00000000-0000-0000-0000-0000000000ff')
    expect(uuidBefore('00000000-0000-0000-0001-000000000000')).toBe('00000000-0000-0000-0000-ffffffffffff')
    expect(uuidBefore('8f3c2a10-0000-4000-8000-000000000000')).toBe('8f3c2a10-0000-4000-7fff-ffffffffffff')
    expect(uuidBefore('00000000-0000-0000-0000-000000000000')).toBe('00000000-0000-0000-0000-000000000000')
  })
})

describe('refusals', () => {
  test("a host's RAISE or an integrity constraint is a row's refusal; a lost connection or a permission is not", () => {
    for (const code of ['P0001', '23514', '23505']) expect(isRowRefusal({ code })).toBe(true)
    for (const code of ['42501', '08006', '57014', undefined]) expect(isRowRefusal({ code })).toBe(false)
  })

  test('each refused subscription is warned of once, and the run error counts them', () => {
    const logger = captureLogger()
    const refused = createRefusedClaims('run-1', logger)
    expect(refused.summary()).toBeNull()
    refused.add('sub-a', 'row-a', new Error('host rule: frozen'))
    refused.add('sub-a', 'row-a', new Error('host rule: frozen'))
    refused.add('sub-b', 'row-b', new Error('host rule: frozen'))
    expect(logger.messages('warn')).toHaveLength(2)
    expect(refused.summary()).toMatch(/^2 subscriptions were not claimed: .*\(sub-a: host rule: frozen; the others are in the log and listFailures\(\)\)\. They stay due/)
  })
})
