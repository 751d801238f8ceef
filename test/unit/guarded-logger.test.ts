/** A host's logger that fails must not change what the scheduler does: its messages go to stderr instead. */
import { expect, test } from 'vitest'
import { guardedLogger } from '../../src/observe/logger.js'

test('a logger that throws or rejects is guarded: the caller goes on, the message goes to stderr, the failure is said once', async () => {
  const lines: string[] = []
  const seen: string[] = []
  const logger = guardedLogger({
    debug: (m) => void seen.push(`debug ${m}`),
    info: (m) => void seen.push(`info ${m}`),
    warn: () => { throw new Error('logger exploded') },
    error: () => Promise.reject(new TypeError('transport closed')),
  }, (line) => void lines.push(line))
  expect(() => logger.warn('Recording 1 outcome')).not.toThrow()
  logger.warn('Taking over job 1')
  logger.info('Started')
  logger.error('Processing a job failed')
  await new Promise((resolve) => setImmediate(resolve))
  expect(seen).toEqual(['info Started'])
  expect(lines).toEqual([
    "pg-subscription-scheduler: the logger's warn() failed (Error: logger exploded); messages it fails on are written here instead.\n",
    'pg-subscription-scheduler [warn] Recording 1 outcome\n',
    'pg-subscription-scheduler [warn] Taking over job 1\n',
    'pg-subscription-scheduler [error] Processing a job failed\n',
  ])
})

test("a logger's methods are called on the logger, with every argument", () => {
  class Prefixed {
    lines: unknown[][] = []
    constructor(private readonly prefix: string) {}
    debug(...args: unknown[]) { this.lines.push([this.prefix, ...args]) }
    info(...args: unknown[]) { this.lines.push([this.prefix, ...args]) }
    warn(...args: unknown[]) { this.lines.push([this.prefix, ...args]) }
    error(...args: unknown[]) { this.lines.push([this.prefix, ...args]) }
  }
  const host = new Prefixed('app')
  const error = new Error('x')
  guardedLogger(host).error('failed', error)
  expect(host.lines).toEqual([['app', 'failed', error]])
})
