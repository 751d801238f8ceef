/**
 * The CLI as users run it, for the CLI test files: a child process (`node <the CLI bundled for
 * this run>`, cli-bundle.ts), a real local HTTP subscription worker, and waits on output or
 * rows with deadlines. One Node process, as the built CLI is (tsx's own command would run it in
 * a child and relay signals to it, and on a loaded machine kill it, exit 143).
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const LEAK_WARNING = 'an open handle kept the process alive'
/** Every test starts the CLI a few times; a busy CI machine takes its time. */
export const SLOW_MS = 180_000

export interface Cli {
  child: ChildProcess
  /** SIGKILLs the whole process group: the CLI and any process it started. */
  kill(): void
  stdout(): string
  stderr(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resolves once stdout matches, rejects if the process exits first or the deadline passes. */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<void>
}

/** The child sees only what a user would set: no DATABASE_URL unless given, no scheduler variables. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  for (const name of ['DATABASE_URL', 'SUBSCRIPTION_WORKER_URL', 'SUBSCRIPTION_CRON', 'SUBSCRIPTION_TIMEZONE']) delete base[name]
  // A command the CLI starts (embedded PostgreSQL's) finds the same Node as this test.
  base.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`
  return { ...base, ...env }
}

export function startCli(args: string[], env: Record<string, string | undefined>): Cli {
  const child = spawn(process.execPath, ['--enable-source-maps', inject('cliEntry'), ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  return {
    child,
    kill() {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    },
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStdout(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(stdout)) return
          cleanup()
          resolve()
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`no ${pattern} on stdout within ${timeoutMs} ms.\nstdout: ${stdout}\nstderr: ${stderr}`))
        }, timeoutMs)
        const onExit = () => {
          cleanup()
          reject(new Error(`exited before ${pattern} appeared.\nstdout: ${stdout}\nstderr: ${stderr}`))
        }
        const cleanup = () => {
          clearTimeout(timer)
          child.stdout!.off('data', check)
          child.off('close', onExit)
        }
        child.stdout!.on('data', check)
        child.on('close', onExit)
        check()
      })
    },
  }
}

/** Waits for the end of a command started with startCli(); kills it and fails past the deadline. */
export async function finished(cli: Cli, timeoutMs = 120_000) {
  const timer = setTimeout(() => cli.kill(), timeoutMs)
  const { code, signal } = await cli.exited
  clearTimeout(timer)
  if (signal) throw new Error(`killed (${signal}) after ${timeoutMs} ms.\nstdout: ${cli.stdout()}\nstderr: ${cli.stderr()}`)
  return { code, stdout: cli.stdout(), stderr: cli.stderr() }
}

/** Runs a command to its end; kills it and fails past the deadline. */
export async function runCli(args: string[], env: Record<string, string | undefined>, timeoutMs = 120_000) {
  return await finished(startCli(args, env), timeoutMs)
}

export interface WorkerOptions {
  /** Answers 422 for these ids, or for every id when `true`. */
  reject?: Set<string> | true
  /** Every call waits for this before it is answered. */
  holdUntil?: Promise<void>
  /** Answers 503 (a retryable failure) for every call. */
  unavailable?: boolean
  /** Answers 401 to a call whose Authorization header is not this one. */
  authorization?: string
  /** What a 422 says its error was (default: no payment method on file). */
  rejectedWith?: string
}

/** A subscription worker on 127.0.0.1: 200 with JSON, 422 for the ids it rejects, or 503 when unavailable. */
export async function startWorker(options: WorkerOptions = {}) {
  const calls: string[] = []
  const rejects = (id: string) => options.reject === true || (options.reject?.has(id) ?? false)
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', async () => {
      const { subscriptionId } = JSON.parse(body) as { subscriptionId: string }
      calls.push(subscriptionId)
      await options.holdUntil
      const unauthorized = options.authorization !== undefined && req.headers.authorization !== options.authorization
      const status = unauthorized ? 401 : options.unavailable ? 503 : rejects(subscriptionId) ? 422 : 200
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(status === 200 ? { ok: true } : status === 503 ? { error: 'down for maintenance' } : status === 401 ? { error: 'unauthorized' } : { error: options.rejectedWith ?? 'no payment method on file' }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => {
      // A held call's connection would keep close() waiting.
      server.closeAllConnections()
      return new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/** Polls `check` until it returns a value other than undefined, or fails at the deadline. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
