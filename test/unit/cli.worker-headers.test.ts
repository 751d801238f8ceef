/**
 * SUBSCRIPTION_WORKER_HEADERS, the CLI's way to reach a worker behind auth: OpenTelemetry's
 * `Name=value,Name=value` with percent-encoded values, and errors that never show a value.
 */
import { describe, expect, test } from 'vitest'
import { parseWorkerHeaders, workerClientWithHeaders } from '../../src/cli/worker-headers.js'

/** The UsageError `fn` throws (failing the test when it throws none, or another). */
function usageErrorOf(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    expect(error).toMatchObject({ name: 'UsageError' })
    return error as Error
  }
  throw new Error('expected a UsageError, got none')
}

describe('parseWorkerHeaders', () => {
  test('reads Name=value pairs separated by commas, decoding percent-encoded values', () => {
    expect(parseWorkerHeaders('Authorization=Bearer%20abc.def==, X-Team=billing%2Cops')).toEqual({ Authorization: 'Bearer abc.def==', 'X-Team': 'billing,ops' })
  })

  test('unset or blank gives none', () => {
    expect(parseWorkerHeaders(undefined)).toBeUndefined()
    expect(parseWorkerHeaders('  ')).toBeUndefined()
  })

  test.each([
    ['Authorization', "pair 1 of 1 has no '=' between a name and its value"],
    ['Authorization=Bearer%20s3cret,,X-Team=a', 'pair 2 of 3 is empty'],
    ['Bad Name=s3cret', 'pair 1 of 1: "Bad Name" is not a header name'],
    ['Authorization=s3cret%zz', "pair 1 of 1 (Authorization): its value has a '%' that starts no percent-encoding"],
    ['X-Token=s3cret%0D%0AHost:%20evil', 'pair 1 of 1 (X-Token): its value holds a line break or NUL'],
    ['Authorization=s3cret,authorization=other', 'pair 2 of 2: authorization is given twice'],
  ])('refuses %j, saying where and how to write it, without showing a value', (text, message) => {
    const thrown = usageErrorOf(() => parseWorkerHeaders(text))
    const said = thrown.message
    expect(said).toContain(`SUBSCRIPTION_WORKER_HEADERS: ${message}`)
    expect(said).not.toContain('s3cret')
  })
})

describe('workerClientWithHeaders', () => {
  test('a worker URL with credentials is refused with the CLI\'s way to send them, not the library\'s `headers` option', () => {
    const thrown = usageErrorOf(() => workerClientWithHeaders('http://bob:s3cret@worker.internal:8080', { SUBSCRIPTION_WORKER_HEADERS: 'X-Team=billing' }, '--worker-url'))
    const said = thrown.message
    expect(said).toContain('--worker-url: http://worker.internal:8080 carries credentials in the URL. Remove them and export them in SUBSCRIPTION_WORKER_HEADERS instead, e.g. Authorization=Basic%20<base64 of user:password>.')
    expect(said).not.toContain('s3cret')
    expect(said).not.toContain('`headers`')
  })
})

describe('a header the HTTP client refuses', () => {
  test('is blamed on SUBSCRIPTION_WORKER_HEADERS, where it came from, not on the worker URL', () => {
    const thrown = usageErrorOf(() => workerClientWithHeaders('http://worker.internal:8080', { SUBSCRIPTION_WORKER_HEADERS: 'Content-Length=5' }, '--worker-url'))
    expect(thrown.message).toBe('SUBSCRIPTION_WORKER_HEADERS: headers["Content-Length"] is set by the HTTP client for each call, from the body it sends and its connection: leave it out.')
  })
})
