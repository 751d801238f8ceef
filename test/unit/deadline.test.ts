/**
 * A deadline and an answer that arrived in time while the process was stalled: the answer is
 * read first. Node runs due timers before it reads its sockets, so a plain timer expired first,
 * and a worker that had answered was recorded as timed out (a trial, on a busy host). The
 * "answer" here is a TCP connection the kernel completes while the event loop is held up.
 */
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startDeadline } from '../../src/deadline.js'
import { stall } from '../support/worker-elsewhere.js'

const server = createServer((socket) => socket.destroy())
let port: number

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

/** Starts a deadline and a connection, stalls past the deadline, and says in which order they were seen. */
async function race(deadlineMs: number, stallMs: number, start: (ms: number, expire: () => void) => { clear(): void }): Promise<string[]> {
  const seen: string[] = []
  const expired = new Promise<void>((resolve) => start(deadlineMs, () => (seen.push('expired'), resolve())))
  const socket = connect(port, '127.0.0.1')
  const connected = new Promise<void>((resolve) => socket.once('connect', () => (seen.push('answered'), resolve())))
  socket.on('error', () => {})
  stall(stallMs)
  await Promise.all([expired, connected])
  socket.destroy()
  return seen
}

const plainTimer = (ms: number, expire: () => void) => {
  const timer = setTimeout(expire, ms)
  return { clear: () => clearTimeout(timer) }
}

test('an answer that arrived while the process stalled past the deadline is seen before the deadline expires', async () => {
  // The mechanism, shown with a plain timer: it expires first.
  expect(await race(50, 300, plainTimer)).toEqual(['expired', 'answered'])
  expect(await race(50, 300, startDeadline)).toEqual(['answered', 'expired'])
})

test('a deadline expires once, grace or not; one cleared never does', async () => {
  let expiries = 0
  await new Promise<void>((resolve) => startDeadline(20, () => (expiries++, resolve())))
  startDeadline(10, () => expiries++).clear()
  // Late by the stall: it waits once more, then expires, once.
  const stalled = new Promise<void>((resolve) => startDeadline(10, () => (expiries++, resolve())))
  stall(200)
  await stalled
  await new Promise<void>((resolve) => startDeadline(300, resolve))
  expect(expiries).toBe(2)
})
