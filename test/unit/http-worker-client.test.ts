import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigurationError, PermanentError, RetryableError } from '../../src/errors.js'
import { createHttpWorkerClient, type HttpWorkerClientOptions } from '../../src/worker-client/http-client.js'
import type { ProcessRequest } from '../../src/worker-client/types.js'
import { stall, workerElsewhere } from '../support/worker-elsewhere.js'

interface Received { method: string | undefined, url: string | undefined, headers: IncomingMessage['headers'], body: string }
type Handler = (req: IncomingMessage, res: ServerResponse) => void

let server: Server
let baseUrl: string
let handler: Handler
let received: Received[]

// A fresh server (so a fresh origin and connection pool) per test: a socket killed by one test's
// cleanup can then never be reused by the next test's POST.
beforeEach(async () => {
  received = []
  handler = reply(200, '')
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      handler(req, res)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterEach(async () => {
  // Drops responses a test left hanging (timeout, abort) so that close() can finish.
  server.closeAllConnections()
  await new Promise<void>(resolve => server.close(() => resolve()))
})

function reply(status: number, body: string, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, headers)
    res.end(body)
  }
}

/** Never answers: the response is held until afterEach closes the connection. */
const hold: Handler = () => {}

const request: ProcessRequest = {
  subscriptionId: 'sub-1',
  userId: 'user-1',
  processingId: 'proc-1',
  scheduledFor: '2030-01-01T08:00:00.000Z',
  attempt: 2,
  idempotencyKey: 'sub-1:2030-01-01T08:00:00.000Z',
}

function client(options: Partial<HttpWorkerClientOptions> = {}) {
  return createHttpWorkerClient({ baseUrl, ...options })
}

function call(options: Partial<HttpWorkerClientOptions> = {}, signal = new AbortController().signal) {
  return client(options).process(request, { signal })
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => { throw new Error('expected a rejection') }, (e: unknown) => e)
  expect(error).toBeInstanceOf(Error)
  return error as Error
}

describe('request', () => {
  it('POSTs the whole ProcessRequest as JSON with Idempotency-Key and the custom headers', async () => {
    handler = reply(200, '{"ok":true}', { 'Content-Type': 'application/json' })
    await call({ headers: { Authorization: 'Bearer s3cret', 'X-Tenant': 'acme', 'idempotency-key': 'spoofed' } })
    expect(received).toHaveLength(1)
    const [got] = received
    expect(got?.method).toBe('POST')
    expect(got?.url).toBe('/process')
    expect(JSON.parse(got?.body ?? '')).toEqual(request)
    expect(got?.headers['content-type']).toBe('application/json')
    expect(got?.headers['idempotency-key']).toBe(request.idempotencyKey)
    expect(got?.headers.authorization).toBe('Bearer s3cret')
    expect(got?.headers['x-tenant']).toBe('acme')
    // The library and its version, for the worker's logs and gateways (fetch alone says "node").
    expect(got?.headers['user-agent']).toMatch(/^pg-subscription-scheduler\/\d+\.\d+\.\d+/)
  })

  it('a User-Agent given in headers is the one sent', async () => {
    await call({ headers: { 'User-Agent': 'billing-scheduler/2.3' } })
    expect(received[0]?.headers['user-agent']).toBe('billing-scheduler/2.3')
  })

  it.each([
    ['', '/process'],
    ['/', '/process'],
    ['/api', '/api/process'],
    ['/api/', '/api/process'],
  ])('baseUrl with path %j posts to %s', async (suffix, path) => {
    await call({ baseUrl: `${baseUrl}${suffix}` })
    expect(received[0]?.url).toBe(path)
  })

  it('uses the injected fetch and never retries on its own', async () => {
    handler = reply(503, 'busy')
    let calls = 0
    const counting: typeof fetch = async (input, init) => { calls++; return fetch(input, init) }
    await expect(call({ fetch: counting })).rejects.toBeInstanceOf(RetryableError)
    expect(calls).toBe(1)
    expect(received).toHaveLength(1)
  })
})

describe('2xx', () => {
  it('resolves with the parsed JSON body', async () => {
    handler = reply(200, '{"processed":3,"ids":["a"]}', { 'Content-Type': 'application/json' })
    await expect(call()).resolves.toEqual({ processed: 3, ids: ['a'] })
  })

  it.each([200, 202, 204])('resolves null for an empty %i', async status => {
    handler = reply(status, '')
    await expect(call()).resolves.toBeNull()
  })

  it('resolves { text } for a non-JSON body, even one labelled JSON', async () => {
    handler = reply(200, 'OK, done', { 'Content-Type': 'application/json' })
    await expect(call()).resolves.toEqual({ text: 'OK, done' })
  })

  it('truncates a huge JSON body to maxStoredResponseBytes', async () => {
    const huge = JSON.stringify({ items: Array.from({ length: 50_000 }, (_, i) => i) })
    handler = reply(200, huge, { 'Content-Type': 'application/json' })
    await expect(call({ maxStoredResponseBytes: 100 })).resolves.toEqual({ truncated: true, text: huge.slice(0, 100) })
  })

  it('truncates a huge text body to the default 4096 bytes', async () => {
    handler = reply(200, 'x'.repeat(1_000_000), { 'Content-Type': 'text/plain' })
    await expect(call()).resolves.toEqual({ truncated: true, text: 'x'.repeat(4096) })
  })

  it('never splits a multi-byte character at the cut', async () => {
    handler = reply(200, 'é'.repeat(1000), { 'Content-Type': 'text/plain; charset=utf-8' })
    // 101 bytes hold 50 two-byte characters and half of the 51st, which is dropped.
    await expect(call({ maxStoredResponseBytes: 101 })).resolves.toEqual({ truncated: true, text: 'é'.repeat(50) })
  })

  it('keeps a body of exactly maxStoredResponseBytes whole', async () => {
    handler = reply(200, '"abcd"')
    await expect(call({ maxStoredResponseBytes: 6 })).resolves.toBe('abcd')
  })
})

describe('error statuses', () => {
  it.each([400, 404, 410, 413, 422])('%i is permanent, names the status, subscription, URL and body', async status => {
    handler = reply(status, '{"error":"bad input"}', { 'Content-Type': 'application/json' })
    const error = await rejection(call())
    expect(error).toBeInstanceOf(PermanentError)
    expect((error as PermanentError).status).toBe(status)
    expect(error.message).toMatch(new RegExp(`^Worker answered ${status} [A-Z]`))
    expect(error.message).toContain('subscription sub-1')
    expect(error.message).toContain(`${baseUrl}/process`)
    expect(error.message).toContain('{"error":"bad input"}')
  })

  it('a status beyond 599, which HTTP does not define, is permanent, as the docs say of any status not listed retryable', async () => {
    handler = reply(600, 'odd')
    const error = await rejection(call())
    expect(error).toBeInstanceOf(PermanentError)
    expect((error as PermanentError).status).toBe(600)
  })

  it('says 422 Unprocessable Entity', async () => {
    handler = reply(422, 'nope')
    await expect(call()).rejects.toThrow(`Worker answered 422 Unprocessable Entity for subscription sub-1 at POST ${baseUrl}/process: nope`)
  })

  it('truncates a huge error body in the message', async () => {
    handler = reply(400, 'x'.repeat(100_000))
    const error = await rejection(call({ maxStoredResponseBytes: 50 }))
    expect(error.message).toContain(`: ${'x'.repeat(50)}… [truncated]`)
    expect(error.message.length).toBeLessThan(300)
  })

  it('treats a redirect as permanent: baseUrl points at the wrong place', async () => {
    handler = reply(301, '', { Location: 'https://elsewhere.example/process' })
    const error = await rejection(call())
    expect(error).toBeInstanceOf(PermanentError)
    expect(error.message).toContain('https://elsewhere.example/process')
    expect(received).toHaveLength(1)
  })

  it("keeps secrets out of its messages, which are logged and stored: a redirect's credentials and the query's values", async () => {
    handler = reply(302, '', { Location: 'http://bob:hunter2@elsewhere.example/next?api_key=TOPSECRET&v=2' })
    const error = await rejection(call({ baseUrl: `${baseUrl}/?token=QSECRET` }))
    expect(error.message).toBe(
      `Worker answered 302 Found for subscription sub-1 at POST ${baseUrl}/process?token=… ` +
        '(redirect to http://elsewhere.example/next?api_key=…&v=…: point baseUrl at the final URL) (empty body) (permanent: no retry in this run; later sweeps try it again after a delay, retryFailed() at once)',
    )
    // The call itself carries the token.
    expect(received[0]!.url).toBe('/process?token=QSECRET')
    handler = reply(301, '', { Location: '/moved?sig=SECRET' })
    expect((await rejection(call())).message).toContain(`(redirect to ${baseUrl}/moved?sig=…: point baseUrl`)
    // A fragment can carry a token too (an OAuth-style callback): it is left out.
    handler = reply(302, '', { Location: '/x?api_key=SECRETKEY#access_token=SECRETFRAG' })
    expect((await rejection(call())).message).toContain(`(redirect to ${baseUrl}/x?api_key=…: point baseUrl`)
    handler = reply(301, '', { Location: 'http://[bad' })
    expect((await rejection(call())).message).toContain('(redirect to a Location that is not a URL: point baseUrl')
  })

  it('a redirect with an empty Location says so, not to point baseUrl where it points already', async () => {
    handler = reply(302, '', { Location: '' })
    const error = await rejection(call())
    expect(error).toBeInstanceOf(PermanentError)
    expect(error.message).toContain('(a redirect with an empty Location: the worker must answer 2xx to a POST /process)')
    expect(error.message).not.toContain('point baseUrl')
  })

  it.each([300, 304])('%i, which is no redirect to follow, is permanent and says the worker must answer 2xx', async status => {
    handler = reply(status, '')
    const error = await rejection(call())
    expect(error).toBeInstanceOf(PermanentError)
    expect(error.message).toContain(`Worker answered ${status}`)
    expect(error.message).toContain('not a success: the worker must answer 2xx to a POST /process')
    expect(error.message).not.toMatch(/redirect/)
  })

  it.each([408, 409, 425, 429, 500, 502, 503, 599])('%i is retryable with its status', async status => {
    handler = reply(status, 'try later')
    const error = await rejection(call())
    expect(error).toBeInstanceOf(RetryableError)
    expect((error as RetryableError).status).toBe(status)
    expect((error as RetryableError).retryAfterMs).toBeUndefined()
    expect(error.message).toContain(`Worker answered ${status}`)
    expect(error.message).toContain('try later')
  })

  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['soon', undefined],
    ['1.5', undefined],
    ['-3', undefined],
    ['', undefined],
    // Beyond any cap: the longest wait, which retry.maxDelaySeconds then caps, not none at all.
    ['999999999999999999999', Number.MAX_SAFE_INTEGER],
  ])('Retry-After %j → retryAfterMs %s', async (value, expected) => {
    handler = reply(429, '', { 'Retry-After': value })
    const error = await rejection(call())
    expect((error as RetryableError).retryAfterMs).toBe(expected)
  })

  it('409, a call under the same Idempotency-Key still in progress, is retried with the same key and says so, not failed for good', async () => {
    handler = reply(409, '{"error":"request with this Idempotency-Key is in progress"}', { 'Retry-After': '2' })
    const error = await rejection(call())
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toContain('(a call under this Idempotency-Key still in progress: retried with the same key)')
    expect((error as RetryableError).retryAfterMs).toBe(2000)
  })

  it.each(['soon', '2.5', '2026-12-07T10:00:00Z'])('a Retry-After of %j, which is neither seconds nor an HTTP-date, is said to be ignored', async value => {
    handler = reply(503, 'busy', { 'Retry-After': value })
    const error = await rejection(call())
    expect((error as RetryableError).retryAfterMs).toBeUndefined()
    expect(error.message).toContain(`(its Retry-After ${JSON.stringify(value)} is neither whole seconds nor an HTTP-date: ignored)`)
    handler = reply(503, 'busy', { 'Retry-After': '5' })
    expect((await rejection(call())).message).not.toContain('Retry-After')
  })

  it('Retry-After as an HTTP-date', async () => {
    handler = reply(503, '', { 'Retry-After': new Date(Date.now() + 90_000).toUTCString() })
    const { retryAfterMs } = await rejection(call()) as RetryableError
    // HTTP-dates have whole-second precision.
    expect(retryAfterMs).toBeGreaterThan(85_000)
    expect(retryAfterMs).toBeLessThanOrEqual(90_000)
  })

  it("Retry-After as an HTTP-date is read against the response's Date: a worker whose clock is an hour ahead is waited for as long as it asked", async () => {
    const workerNow = Date.now() + 3_600_000
    handler = reply(503, '', { 'Date': new Date(workerNow).toUTCString(), 'Retry-After': new Date(workerNow + 90_000).toUTCString() })
    const { retryAfterMs } = await rejection(call()) as RetryableError
    // Read against this host's clock, it would be an hour and a half.
    expect(retryAfterMs).toBeGreaterThan(85_000)
    expect(retryAfterMs).toBeLessThanOrEqual(91_000)
  })

  it('Retry-After as an HTTP-date in the past is 0', async () => {
    handler = reply(503, '', { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' })
    expect((await rejection(call()) as RetryableError).retryAfterMs).toBe(0)
  })
})

describe('transport failures', () => {
  it('connection refused is retryable and names the URL and the cause', async () => {
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>(resolve => closed.close(() => resolve()))
    const error = await rejection(call({ baseUrl: `http://127.0.0.1:${port}` }))
    expect(error).toBeInstanceOf(RetryableError)
    expect((error as RetryableError).status).toBeUndefined()
    expect(error.message).toContain(`http://127.0.0.1:${port}/process`)
    expect(error.message).toContain('ECONNREFUSED')
    expect(error.cause).toBeDefined()
  })

  it('a connection reset before the answer is retryable', async () => {
    handler = req => req.socket.destroy()
    const error = await rejection(call())
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toContain(`${baseUrl}/process`)
  })

  it('a connection reset while a 200 is read says the worker answered, and may have done the work', async () => {
    handler = (_req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.write('{"partial":', () => res.socket?.destroy()) }
    const error = await rejection(call())
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toMatch(/^Worker answered 200 for subscription sub-1 at POST .*, but reading its body failed \(.+\); the worker may have done the work: a retry carries the same Idempotency-Key/)
    // Kept, as the README says: a failures row with no status read as if the worker never answered.
    expect((error as RetryableError).status).toBe(200)
  })

  it('a connection reset while a 500 is read keeps the status, which failures and events report', async () => {
    handler = (_req, res) => { res.writeHead(500, { 'Content-Type': 'text/plain' }); res.write('boom, and more', () => res.socket?.destroy()) }
    const error = await rejection(call())
    expect(error).toBeInstanceOf(RetryableError)
    expect((error as RetryableError).status).toBe(500)
    expect(error.message).toMatch(/^Worker answered 500 for subscription sub-1 at POST .*, but reading its body failed \(.+\); a retry carries the same Idempotency-Key\.$/)
  })

  it('a connection reset while a 404 is read is permanent, as a 404 is: its status line said no', async () => {
    handler = (_req, res) => { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.write('no such', () => res.socket?.destroy()) }
    const error = await rejection(call())
    expect(error).toBeInstanceOf(PermanentError)
    expect((error as PermanentError).status).toBe(404)
    expect(error.message).toMatch(/^Worker answered 404 for subscription sub-1 at POST .*, but reading its body failed \(.+\) \(permanent: no retry in this run/)
  })

  it('an https URL for a worker that serves plain HTTP says to use http://', async () => {
    handler = reply(200, '')
    const error = await rejection(call({ baseUrl: baseUrl.replace('http:', 'https:') }))
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toContain('(the worker does not speak TLS there: if it serves plain HTTP, use an http:// URL)')
    expect(error.message).not.toMatch(/\n/)
  })

  it('times out after timeoutMs with a retryable error', async () => {
    handler = hold
    const error = await rejection(call({ timeoutMs: 150 }))
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toContain('timed out after 150 ms')
    expect(error.message).toContain(`${baseUrl}/process`)
    // The client's own timeoutMs fired: raising workerTimeoutMs would not change it for a custom client.
    expect(error.message).toContain("(the client's timeoutMs: createHttpWorkerClient({ timeoutMs }), which the scheduler sets to its workerTimeoutMs option for a workerUrl). If the worker is just slow, raise it.")
  })

  it('a 407, which Node\'s fetch turns into a network error with no cause, is retried and says what that most likely was', async () => {
    handler = reply(407, 'proxy authentication required')
    const error = await rejection(call())
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toMatch(/^Network error calling the worker for subscription sub-1 at POST \S+: fetch gave no cause \(Node's fetch fails a call answered 407 Proxy Authentication Required so/)
  })

  it('times out when the headers arrive but the body never ends, saying the worker answered and may have done the work', async () => {
    handler = (_req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.write('{"partial":') }
    const error = await rejection(call({ timeoutMs: 150 }))
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toMatch(/^Worker answered 200 for subscription sub-1 at POST .*, but reading its body failed \(its body did not end within the 150 ms timeoutMs\); the worker may have done the work/)
    expect((error as RetryableError).status).toBe(200)
  })

  it('rejects with an AbortError when context.signal aborts mid-call', async () => {
    const controller = new AbortController()
    handler = () => controller.abort()
    const error = await rejection(call({}, controller.signal))
    expect(error.name).toBe('AbortError')
    expect(error).not.toBeInstanceOf(PermanentError)
    expect(error.message).toContain(`${baseUrl}/process`)
  })

  it('does not call the worker when context.signal is already aborted', async () => {
    const error = await rejection(call({}, AbortSignal.abort()))
    expect(error.name).toBe('AbortError')
    expect(received).toHaveLength(0)
  })
})

describe('options', () => {
  it.each([
    ['worker.internal:8080'],
    ['/relative'],
    [''],
    ['ftp://worker.internal'],
    ['http://user:pass@worker.internal'],
    [undefined],
  ])('baseUrl %j is a ConfigurationError', value => {
    let error: unknown
    try { createHttpWorkerClient({ baseUrl: value as string }) } catch (e) { error = e }
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).option).toBe('baseUrl')
    expect((error as Error).message).toMatch(/absolute http\(s\) URL|headers/)
  })

  it('names the bad baseUrl value', () => {
    expect(() => createHttpWorkerClient({ baseUrl: 'worker:8080' })).toThrow(/"worker:8080" is not an http\(s\) URL/)
  })

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '100'])('timeoutMs %s is a ConfigurationError', value => {
    expect(() => client({ timeoutMs: value as number })).toThrow(expect.objectContaining({ option: 'timeoutMs' }))
  })

  it.each([0, -5, 1.5])('maxStoredResponseBytes %s is a ConfigurationError', value => {
    expect(() => client({ maxStoredResponseBytes: value })).toThrow(expect.objectContaining({ option: 'maxStoredResponseBytes' }))
  })

  it('a malformed header is a ConfigurationError', () => {
    expect(() => client({ headers: { 'Bad Header': 'x' } })).toThrow(expect.objectContaining({ option: 'headers' }))
  })

  it("a header value that no header may carry is refused naming the header, never showing its value (a secret)", () => {
    let error: unknown
    try { client({ headers: { Authorization: 'Bearer s3cret\r\nX-Injected: 1' } }) } catch (e) { error = e }
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toContain('headers["Authorization"]: its value is not a valid header value')
    expect((error as Error).message).not.toContain('s3cret')
    expect(() => client({ headers: { 'X-Token': undefined as unknown as string } })).toThrow('headers["X-Token"]: expected a string value, got undefined (an environment variable that is not set?)')
    // A number is no unset variable (a trial's { 'x-n': 5 } read that hint).
    expect(() => client({ headers: { 'X-N': 5 as unknown as string } })).toThrow(/^Invalid option `headers`: headers\["X-N"\]: expected a string value, got a number: String\(it\) sends it as text\.$/)
  })

  it.each([
    ['an array of pairs', [['Authorization', 'Bearer s3cret']]],
    ['a Map', new Map([['Authorization', 'Bearer s3cret']])],
  ])('headers given as %s are refused, without showing a value: a Map was taken as no headers at all', (_, headers) => {
    let error: unknown
    try { client({ headers: headers as never }) } catch (e) { error = e }
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toMatch(/expected an object of header names and values, .*got (an array|a Map) \(Object\.fromEntries\(\) makes one of pairs\)\./)
    expect((error as Error).message).not.toContain('s3cret')
  })

  it.each(['Content-Length', 'transfer-encoding', 'Expect', 'Host', 'Connection'])('a %s header, which the transport sets per call, is refused at construction, not failing every call', name => {
    expect(() => client({ headers: { [name]: name.toLowerCase() === 'expect' ? '100-continue' : '5' } })).toThrow(`headers[${JSON.stringify(name)}] is set by the HTTP client for each call`)
  })

  it('an unknown option (a typo) is a ConfigurationError naming the option meant, not a default left in force', () => {
    expect(() => client({ timout: 1000 } as never)).toThrow(expect.objectContaining({ option: 'timout', message: expect.stringContaining('did you mean `timeoutMs`? It takes baseUrl, timeoutMs') }))
  })
})

describe('a process stalled while the worker answers', () => {
  /** The client's call to a worker that answers after `answersAfterMs`, this process stalled 900 ms once the request is in. */
  async function throughStall(answersAfterMs: number, check: (answer: Promise<unknown>) => Promise<void>): Promise<void> {
    const worker = await workerElsewhere(answersAfterMs)
    try {
      const received = worker.received()
      const answer = createHttpWorkerClient({ baseUrl: worker.url, timeoutMs: 300 }).process(request, { signal: new AbortController().signal })
      await received
      stall(900)
      await check(answer)
    } finally {
      worker.stop()
    }
  }

  it('an answer that arrived within timeoutMs is read, not taken for a timeout, though the process looked only after it', async () => {
    await throughStall(20, (answer) => expect(answer).resolves.toMatchObject({ ok: true }))
  })

  it('a worker slower than timeoutMs still times out after such a stall', async () => {
    await throughStall(5_000, (answer) => expect(answer).rejects.toThrow(/^Worker timed out after 300 ms/))
  })
})
